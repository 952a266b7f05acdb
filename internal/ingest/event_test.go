package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/item"
)

// sidOf asks the server for the session id of a visitor at ip with ua.
func (ts *testServer) sidOf(t *testing.T, ip, ua string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.url+"/api/sid", nil)
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("User-Agent", ua)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r sidResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || len(r.SID) != 32 {
		t.Fatalf("GET /api/sid: %v %+v", err, r)
	}
	return r.SID
}

func eventBody(name, target, sid string) string {
	b, _ := json.Marshal(map[string]string{"url": helloURL, "name": name, "target": target, "sid": sid})
	return string(b)
}

func (ts *testServer) sendEvent(t *testing.T, body, ip, ua string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.url+"/api/event", strings.NewReader(body))
	req.Header.Set("X-Forwarded-For", ip)
	req.Header.Set("User-Agent", ua)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var cv = item.Item{Site: "blog.example.com", Type: "resume_download", Slug: "cv.pdf"}

func TestSIDMatchesTheViewResponse(t *testing.T) {
	ts := newTestServer(t)
	_, body := ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": "203.0.113.5"}})
	sid := ts.sidOf(t, "203.0.113.5", browserUA)
	if !strings.Contains(body, sid) {
		t.Errorf("view answered %s, /api/sid %s: the page must get one id", body, sid)
	}
	if other := ts.sidOf(t, "203.0.113.6", browserUA); other == sid {
		t.Error("two addresses got the same sid")
	}
}

func TestEvents(t *testing.T) {
	const ip, otherIP = "203.0.113.5", "203.0.113.6"
	ts := newTestServer(t)
	sid := ts.sidOf(t, ip, browserUA)
	forged := strings.Repeat("ab", 16)
	tests := []struct {
		name    string
		body    string
		ip, ua  string
		header  map[string]string
		status  int
		counted bool
	}{
		{"genuine", eventBody("resume_download", "cv.pdf", sid), ip, browserUA, nil, 204, true},
		{"forged sid", eventBody("resume_download", "cv.pdf", forged), ip, browserUA, nil, 204, false},
		{"sid of another visitor", eventBody("resume_download", "cv.pdf", sid), otherIP, browserUA, nil, 204, false},
		{"sid with another user agent", eventBody("resume_download", "cv.pdf", sid), ip, firefoxUA, nil, 204, false},
		{"bot with its own sid", eventBody("resume_download", "cv.pdf", ts.sidOf(t, ip, "Googlebot/2.1")), ip, "Googlebot/2.1", nil, 204, false},
		{"foreign origin", eventBody("resume_download", "cv.pdf", sid), ip, browserUA, map[string]string{"Origin": "https://evil.example.net"}, 403, false},
		{"missing sid", eventBody("resume_download", "cv.pdf", ""), ip, browserUA, nil, 400, false},
		{"malformed sid", eventBody("resume_download", "cv.pdf", "xyz"), ip, browserUA, nil, 400, false},
		{"empty name", eventBody("", "cv.pdf", sid), ip, browserUA, nil, 400, false},
		{"upper-case name", eventBody("Resume", "cv.pdf", sid), ip, browserUA, nil, 400, false},
		{"name starting with _", eventBody("_x", "cv.pdf", sid), ip, browserUA, nil, 400, false},
		{"name with a space", eventBody("resume download", "cv.pdf", sid), ip, browserUA, nil, 400, false},
		{"long name", eventBody(strings.Repeat("a", 65), "cv.pdf", sid), ip, browserUA, nil, 400, false},
		{"page type as name", eventBody("blog", "hello", sid), ip, browserUA, nil, 400, false},
		{"home as name", eventBody("home", "x", sid), ip, browserUA, nil, 400, false},
		{"empty target", eventBody("resume_download", "", sid), ip, browserUA, nil, 400, false},
		{"control character in target", eventBody("resume_download", "cv\n.pdf", sid), ip, browserUA, nil, 400, false},
		{"long target", eventBody("resume_download", strings.Repeat("x", 257), sid), ip, browserUA, nil, 400, false},
		{"not json", "name=x", ip, browserUA, nil, 400, false},
		{"oversized", `{"url":"` + helloURL + `","name":"x","target":"` + strings.Repeat("x", 5000) + `"}`, ip, browserUA, nil, 413, false},
	}
	var want int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ts.sendEvent(t, tt.body, tt.ip, tt.ua, tt.header); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			if tt.counted {
				want++
			}
			if got := ts.total(t, cv); got != want {
				t.Errorf("resume_download/cv.pdf total = %d, want %d", got, want)
			}
		})
	}
	if got := ts.total(t, hello); got != 0 {
		t.Errorf("events added %d views to the page", got)
	}
}

func TestEventDedupLikeViews(t *testing.T) {
	ts := newTestServer(t)
	sid := ts.sidOf(t, "203.0.113.5", browserUA)
	for range 3 {
		ts.sendEvent(t, eventBody("resume_download", "cv.pdf", sid), "203.0.113.5", browserUA, nil)
	}
	c, _ := ts.store.Counts(t.Context(), cv)
	if c.Unique != 1 || c.Total != 3 {
		t.Errorf("unique=%d total=%d, want 1 and 3", c.Unique, c.Total)
	}
}

func TestYesterdaysSIDUntilHalfPastMidnight(t *testing.T) {
	ts := newTestServer(t)
	ts.clk.Set(time.Date(2026, 11, 24, 23, 55, 0, 0, time.UTC))
	sid := ts.sidOf(t, "203.0.113.5", browserUA)

	ts.clk.Set(time.Date(2026, 11, 25, 0, 29, 59, 0, time.UTC))
	ts.sendEvent(t, eventBody("resume_download", "cv.pdf", sid), "203.0.113.5", browserUA, nil)
	if got := ts.total(t, cv); got != 1 {
		t.Fatalf("yesterday's sid at 00:29:59: total %d, want 1", got)
	}
	ts.clk.Set(time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC))
	ts.sendEvent(t, eventBody("resume_download", "cv.pdf", sid), "203.0.113.5", browserUA, nil)
	if got := ts.total(t, cv); got != 1 {
		t.Errorf("yesterday's sid at 00:30: total %d, want it dropped", got)
	}
}

func TestPixel(t *testing.T) {
	ts := newTestServer(t)
	get := func(query, referer, ua string) (int, []byte) {
		req, _ := http.NewRequest("GET", ts.url+"/api/view.gif"+query, nil)
		req.Header.Set("User-Agent", ua)
		if referer != "" {
			req.Header.Set("Referer", referer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 && resp.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("content type %q", resp.Header.Get("Content-Type"))
		}
		return resp.StatusCode, b
	}
	code, body := get("?url="+helloURL, "", browserUA)
	if code != 200 || !bytes.HasPrefix(body, []byte("GIF89a")) {
		t.Fatalf("pixel: %d %q", code, body)
	}
	if got := ts.total(t, hello); got != 1 {
		t.Errorf("after the pixel, total %d, want 1", got)
	}
	if code, _ := get("", helloURL, firefoxUA); code != 200 || ts.total(t, hello) != 2 {
		t.Errorf("pixel named by its Referer: %d, total %d", code, ts.total(t, hello))
	}
	if code, _ := get("?url="+helloURL, "", "Googlebot/2.1"); code != 200 || ts.total(t, hello) != 2 {
		t.Errorf("a bot's pixel: %d, total %d; want the GIF and no count", code, ts.total(t, hello))
	}
	if code, _ := get("", "", browserUA); code != 400 {
		t.Errorf("pixel without url or Referer: %d, want 400", code)
	}
	// The attack: another site embeds our pixel, so each of its visitors would be our view.
	evilUA := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	code, body = get("?url="+helloURL, "https://evil.example.net/page", evilUA)
	if code != 200 || !bytes.HasPrefix(body, []byte("GIF89a")) || ts.total(t, hello) != 2 {
		t.Errorf("pixel embedded in another site: %d, total %d; want the same GIF and no count", code, ts.total(t, hello))
	}
	// From the page itself, or another page of the same site, it counts.
	if code, _ := get("?url="+helloURL, "https://www.blog.example.com/blogs/other", evilUA); code != 200 || ts.total(t, hello) != 3 {
		t.Errorf("pixel from a page of the same site: %d, total %d, want 3", code, ts.total(t, hello))
	}
}
