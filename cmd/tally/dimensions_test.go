package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/dimension/geotest"
)

const (
	firefoxUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)

// sendView posts a page view with a referrer, as t.js does, through the trusted proxy.
func (a *testApp) sendView(t *testing.T, page, referrer, ip, ua string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"url": page, "referrer": referrer})
	req, _ := http.NewRequest("POST", a.URL()+"/api/view", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X-Forwarded-For", ip)
	if code, body := fetch(t, req); code != 200 {
		t.Fatalf("view of %s from %.40q: %d %s", page, referrer, code, body)
	}
}

type breakdown struct {
	Dim  string
	Rows []struct {
		Value           string
		Views, Visitors int64
	}
	Total int64
}

// rows writes a breakdown as "value views/visitors, …".
func (b breakdown) String() string {
	var out []string
	for _, r := range b.Rows {
		out = append(out, fmt.Sprintf("%s %d/%d", r.Value, r.Views, r.Visitors))
	}
	return strings.Join(out, ", ")
}

// TestSourcesDevicesVisitors sends views from readers who came from different places with
// different browsers, through the real server, flushes, and reads every new answer: the
// breakdowns (site and item), visitors in the summary, events with their conversion rate, the
// live view, and the CSV export.
func TestSourcesDevicesVisitors(t *testing.T) {
	t.Parallel()
	geo := geotest.CountryDB(t, map[string]string{"198.51.100.0/25": "GB", "198.51.100.128/25": "FR"})
	app := newTestApp(t, t.TempDir(), "--geoip-db", geo)
	post, other := "https://example.com/blogs/a?utm_source=Newsletter&utm_campaign=launch", "https://example.com/blogs/b"
	app.sendView(t, post, "https://news.ycombinator.com/item?id=42", "198.51.100.1", firefoxUA)
	app.sendView(t, other, "https://example.com/blogs/a", "198.51.100.1", firefoxUA) // internal: no source
	app.sendView(t, post, "https://www.google.com/search?q=tally", "198.51.100.200", iphoneUA)
	app.sendView(t, "https://example.com/", "", "203.0.113.9", chromeUA)
	app.sendView(t, other, "https://"+strings.Repeat("x", 3000)+".com/", "203.0.113.10", chromeUA) // over-long: direct, still counted
	app.sendView(t, other, "https://semalt.com/", "203.0.113.11", chromeUA)                        // referrer spam: not counted
	req, _ := http.NewRequest("GET", app.URL()+"/api/sid", nil)
	req.Header.Set("User-Agent", firefoxUA)
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	_, sidBody := fetch(t, req)
	var sid struct{ SID string }
	json.Unmarshal([]byte(sidBody), &sid)
	req, _ = http.NewRequest("POST", app.URL()+"/api/event", strings.NewReader(`{"url":"`+post+`","name":"resume_download","target":"cv.pdf","sid":"`+sid.SID+`"}`))
	req.Header.Set("User-Agent", firefoxUA)
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	if code, _ := fetch(t, req); code != 204 {
		t.Fatalf("event: %d", code)
	}

	// Live, before any flush.
	var live struct {
		Views    int64 `json:"views_30m"`
		Visitors int64 `json:"visitors_30m"`
		Pages    []struct {
			Type, Slug string
			Views      int64
		}
	}
	apiGet(t, app, "/ops/api/realtime?site=example.com", &live)
	if live.Views != 5 || live.Visitors != 4 || len(live.Pages) != 3 || live.Pages[2].Type != "home" || live.Pages[2].Views != 1 {
		t.Errorf("realtime %+v: want 5 page views by 4 visitors, the two posts before the home page", live)
	}

	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	var s struct{ Total, Visitors int64 }
	apiGet(t, app, "/ops/api/summary?site=example.com&days=7", &s)
	if s.Total != 5 || s.Visitors != 4 {
		t.Errorf("summary: %d views by %d visitors, want 5 by 4", s.Total, s.Visitors)
	}
	for query, want := range map[string]string{
		"dim=referrer":                  "(direct) 2/2, google.com 1/1, news.ycombinator.com 1/1",
		"dim=referrer&type=blog&slug=a": "google.com 1/1, news.ycombinator.com 1/1",
		"dim=utm_source":                "newsletter 2/2",
		"dim=utm_campaign":              "launch 2/2",
		"dim=browser":                   "Chrome 2/2, Firefox 2/1, Safari 1/1",
		"dim=browser_version":           "Chrome 131 2/2, Firefox 133 2/1, Safari 18 1/1",
		"dim=os":                        "Linux 2/2, Windows 2/1, iOS 1/1",
		"dim=device":                    "desktop 4/3, phone 1/1",
		"dim=country":                   "(unknown) 2/2, GB 2/1, FR 1/1",
		"dim=referrer&from=2026-11-20&to=2026-11-23": "",
	} {
		var b breakdown
		apiGet(t, app, "/ops/api/breakdown?site=example.com&"+query, &b)
		if b.String() != want {
			t.Errorf("%s: %s, want %s", query, b, want)
		}
	}
	var ev struct {
		Visitors int64
		Events   []struct {
			Name, Target    string
			Count, Visitors int64
			Conversion      float64 `json:"conversion_pct"`
		}
	}
	apiGet(t, app, "/ops/api/events?site=example.com&days=7", &ev)
	if len(ev.Events) != 1 || ev.Events[0].Name != "resume_download" || ev.Events[0].Target != "cv.pdf" ||
		ev.Events[0].Count != 1 || ev.Events[0].Visitors != 1 || ev.Events[0].Conversion != 25 {
		t.Errorf("events %+v: want one download by one of the 4 visitors (25%%)", ev)
	}
	code, csv := app.get(t, "/ops/api/export/breakdown.csv?site=example.com&dim=referrer", true)
	if code != 200 || !strings.HasPrefix(csv, "referrer,views,visitors\n(direct),2,2\n") {
		t.Errorf("breakdown CSV: %d\n%s", code, csv)
	}
	var ex struct{ Bots []struct{ Token string } }
	apiGet(t, app, "/ops/api/excluded?site=example.com&days=7", &ex)
	if len(ex.Bots) != 1 || ex.Bots[0].Token != "referrer-spam" {
		t.Errorf("not counted: %+v, want the spam referrer's view as referrer-spam", ex.Bots)
	}
	for _, bad := range []string{"dim=ip", "dim=referrer&days=5", "dim=referrer&from=2026-11-24&to=2026-11-01", "dim=referrer&limit=0"} {
		if code, _ := app.get(t, "/ops/api/breakdown?site=example.com&"+bad, true); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
}
