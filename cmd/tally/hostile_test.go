package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/store/storetest"
)

// backends are the two ways tally runs: embedded (bbolt, SQLite) and shared (Redis,
// PostgreSQL). SQLite stores bytes PostgreSQL refuses, which is how a hostile beacon once
// stalled every flush into PostgreSQL without a test noticing.
func backends(t testing.TB) map[string][]string {
	rd := storetest.StartPrivateRedis(t)
	return map[string][]string{
		"bbolt+sqlite":   nil,
		"redis+postgres": {"--write-store", rd.URL, "--read-store", storetest.PostgresURL(t)},
	}
}

// post sends a JSON body to path as a browser's beacon would, through the trusted proxy.
func (a *testApp) post(t *testing.T, path string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", a.URL()+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", chromeUA)
	req.Header.Set("X-Forwarded-For", "198.51.100.40")
	return fetch(t, req)
}

// TestHostileTextNeverReachesAReadModel: the beacons and queries that once made PostgreSQL
// refuse every flush, or answer 503, are refused with 400 or stored clean, and the flush and
// the snapshot go on working on both back ends. The widest key each table can get fits too.
func TestHostileTextNeverReachesAReadModel(t *testing.T) {
	t.Parallel()
	label := strings.Repeat("a", 63)
	widestSite := label + "." + label + "." + label + "." + strings.Repeat("b", 57) + ".com" // 253 bytes
	widestRef := "https://" + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 63) + "." + strings.Repeat("f", 57) + ".org/"
	for name, flags := range backends(t) {
		t.Run(name, func(t *testing.T) {
			app := newTestApp(t, t.TempDir(), flags...)
			for _, tc := range []struct {
				what, path string
				body       map[string]any
				want       int
			}{
				{"invalid UTF-8 in the path", "/api/view", map[string]any{"url": "https://blog.example.com/blogs/%ff%fe"}, 400},
				{"a right-to-left override in the path", "/api/view", map[string]any{"url": "https://blog.example.com/blogs/a%e2%80%aeb"}, 400},
				{"a control character in the path", "/api/view", map[string]any{"url": "https://blog.example.com/blogs/a%0ab"}, 400},
				{"a zoned IPv6 host", "/api/view", map[string]any{"url": "http://[fe80::1%25%3Cb%3E]/blogs/x"}, 400},
				{"a zoned IPv6 referrer on a long path", "/api/view", map[string]any{
					"url":      "https://blog.example.com/blogs/" + strings.Repeat("p", 1500),
					"referrer": "http://[fe80::1%25" + strings.Repeat("z", 1500) + "]/"}, 200},
				{"a blank-looking campaign", "/api/view", map[string]any{"url": "https://blog.example.com/blogs/x?utm_source=%E3%85%A4"}, 200},
				{"the widest key", "/api/view", map[string]any{
					"url":      "https://" + widestSite + "/" + strings.Repeat("s", 2048-len("https://"+widestSite+"/")),
					"referrer": widestRef}, 200},
				{"an invisible event target", "/api/event", map[string]any{"url": "https://blog.example.com/", "name": "download", "target": "a\u3164"}, 400},
			} {
				if code, body := app.post(t, tc.path, tc.body); code != tc.want {
					t.Errorf("%s: %d %s, want %d", tc.what, code, body, tc.want)
				}
			}
			for _, path := range []string{"/api/top?type=%ff", "/api/top?site=%00", "/api/counts?site=%ff&type=blog", "/ops/api/summary?site=%e2%80%ae"} {
				if code, body := app.get(t, path, true); code != 400 {
					t.Errorf("GET %s: %d %s, want 400", path, code, body)
				}
			}
			for _, job := range []string{"/ops/api/flush", "/ops/api/snapshot?date=2026-11-24"} {
				if code, body := app.admin(t, job, testPassword); code != 200 {
					t.Fatalf("%s after hostile beacons: %d %s", job, code, body)
				}
			}
			var ref, src breakdown
			apiGet(t, app, "/ops/api/breakdown?site=blog.example.com&dim=referrer", &ref)
			apiGet(t, app, "/ops/api/breakdown?site=blog.example.com&dim=utm_source", &src)
			if got := ref.String(); got != "(direct) 2/1" {
				t.Errorf("referrers: %s, want the zoned one as (direct)", got)
			}
			if got := src.String(); strings.Contains(got, "\u3164") {
				t.Errorf("campaign sources: %q, want no blank-looking value", got)
			}
			var wide breakdown
			apiGet(t, app, "/ops/api/breakdown?site="+widestSite+"&dim=referrer", &wide)
			if got := wide.String(); !strings.HasPrefix(got, "ccc") {
				t.Errorf("the widest referrer: %q", got)
			}
		})
	}
}

// FuzzBeaconsFlush is the property that guards the gate: any beacon answered 2xx — a view, an
// event or a like, with any URL, referrer, name and target — flushes and snapshots without
// error into SQLite and PostgreSQL, through the real handlers and write models. go test runs
// the seeds; CI fuzzes it for a few seconds.
func FuzzBeaconsFlush(f *testing.F) {
	for _, s := range []struct {
		kind                        uint8
		url, referrer, name, target string
	}{
		{0, "https://blog.example.com/blogs/hello", "https://news.example.org/item?id=1", "", ""},
		{0, "https://blog.example.com/blogs/%ff%fe", "", "", ""},
		{0, "https://blog.example.com/blogs/x?utm_source=%E3%85%A4&utm_medium=%ff", "http://[fe80::1%25zz]/", "", ""},
		{0, "http://WWW.Blog.Example.com.:31337/a/", "http://xn--bcher-kva.example/", "", ""},
		{0, "https://bücher.example/über", "https://例え.テスト/", "", ""},
		{1, "https://blog.example.com/", "", "download", "cv.pdf"},
		{1, "https://blog.example.com/", "", "download", "a\u202eb"},
		{2, "https://blog.example.com/blogs/hello", "", "", ""},
	} {
		f.Add(s.kind, s.url, s.referrer, s.name, s.target)
	}
	var apps []*testApp
	for _, flags := range backends(f) {
		// Every input from one address: no rate limit or per-visitor cap may hide it.
		flags = append(flags, "--rate-limit", "0", "--session-cap", "0")
		apps = append(apps, newTestApp(f, f.TempDir(), flags...))
	}
	f.Fuzz(func(t *testing.T, kind uint8, url, referrer, name, target string) {
		path, body := "/api/view", map[string]any{"url": url, "referrer": referrer}
		switch kind % 3 {
		case 1:
			path, body = "/api/event", map[string]any{"url": url, "name": name, "target": target}
		case 2:
			path, body = "/api/like", map[string]any{"url": url}
		}
		for _, app := range apps {
			code, answer := app.post(t, path, body)
			if code >= 300 {
				continue
			}
			for _, job := range []string{"/ops/api/flush", "/ops/api/snapshot?date=2026-11-24"} {
				if c, b := app.admin(t, job, testPassword); c != 200 {
					t.Fatalf("%s answered %d (%s) to %s %v, then %s failed: %d %s", app.Config.ReadStore, code, answer, path, body, job, c, b)
				}
			}
		}
	})
}
