package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNotCountedByReason sends, through the real server, one kind of beacon for every reason
// the contract names, flushes, and reads them back from /ops/api/excluded: each reason with its
// own count, bots by product token only, and the views themselves untouched.
func TestNotCountedByReason(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir(), "--sites", "example.com", "--ignore-paths", "/drafts/**",
		"--rate-limit", "0.001", "--rate-burst", "30", "--session-cap", "2",
		"--count-user-agents", `FriendlyReader/`, "--ignore-user-agents", `Edg/`)
	page := "https://example.com/blogs/a"
	send := func(ip, ua, body string, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", app.URL()+"/api/view", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("User-Agent", ua)
		req.Header.Set("X-Forwarded-For", ip)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		code, _ := fetch(t, req)
		return code
	}
	view := `{"url":"` + page + `"}`
	for _, c := range []struct {
		ip, ua, body string
		header       map[string]string
		want         int
	}{
		{"198.51.100.1", chromeUA, view, nil, 200}, // counted
		{"198.51.100.2", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", view, nil, 200},
		{"198.51.100.2", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", view, nil, 200},
		{"198.51.100.3", "curl/8.5.0", view, nil, 200},
		{"198.51.100.4", chromeUA + " Edg/131.0.0.0", view, nil, 200},                       // the owner ignores Edge
		{"198.51.100.5", "FriendlyReader/2.0 (compatible; feedbot)", view, nil, 200},        // the owner counts it
		{"198.51.100.6", chromeUA, `{"url":"` + page + `","webdriver":true}`, nil, 200},     // automation
		{"198.51.100.7", chromeUA, view, map[string]string{"Sec-Purpose": "prefetch"}, 200}, // prefetch
		{"198.51.100.8", chromeUA, `{"url":"https://example.com/drafts/x"}`, nil, 200},      // ignored path
		{"198.51.100.8", chromeUA, `{"url":"https://example.com/style.css"}`, nil, 200},     // static asset
		{"198.51.100.9", chromeUA, view, map[string]string{"Origin": "https://evil.example.net"}, 403},
	} {
		if code := send(c.ip, c.ua, c.body, c.header); code != c.want {
			t.Fatalf("beacon from %s (%.30s): %d, want %d", c.ip, c.ua, code, c.want)
		}
	}
	// Over the per-session cap: the third view of a minute.
	for range 3 {
		send("198.51.100.10", chromeUA, `{"url":"https://example.com/blogs/capped"}`, nil)
	}
	// Over the rate limit: one address, more beacons than its burst.
	for i := range 31 {
		send("198.51.100.11", chromeUA, fmt.Sprintf(`{"url":"https://example.com/blogs/flood-%d"}`, i), nil)
	}
	// An event with somebody else's session id.
	req, _ := http.NewRequest("POST", app.URL()+"/api/event", strings.NewReader(
		`{"url":"`+page+`","name":"resume_download","target":"cv.pdf","sid":"`+strings.Repeat("ab", 16)+`"}`))
	req.Header.Set("User-Agent", chromeUA)
	req.Header.Set("X-Forwarded-For", "198.51.100.12")
	if code, _ := fetch(t, req); code != 204 {
		t.Fatalf("forged event: %d", code)
	}

	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	var ex struct {
		Reasons []struct {
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"reasons"`
		Bots []struct {
			Token string `json:"token"`
			Count int    `json:"count"`
		} `json:"bots"`
	}
	apiGet(t, app, "/ops/api/excluded?site=example.com&days=7", &ex)
	reasons := map[string]int{}
	for _, r := range ex.Reasons {
		reasons[r.Reason] = r.Count
	}
	want := map[string]int{"bot": 4, "webdriver": 1, "prefetch": 1, "excluded_path": 2, "foreign_origin": 1,
		"session_cap": 1, "rate_limit": 1, "forged_sid": 1}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("reasons %v, want %v", reasons, want)
	}
	if got := fmt.Sprint(ex.Bots); got != "[{Googlebot 2} {Edg 1} {curl 1}]" {
		t.Errorf("bots %s, want Googlebot 2, Edg 1, curl 1", got)
	}
	var c counts
	app.getJSON(t, "/api/counts?url="+page, &c)
	if c.Total != 2 {
		t.Errorf("%s counted %d views, want 2: a person's and the reader app the owner counts", page, c.Total)
	}
	req, _ = http.NewRequest("GET", app.URL()+"/metrics", nil)
	req.SetBasicAuth("admin", testPassword)
	if _, metrics := fetch(t, req); !strings.Contains(metrics, "\ntally_excluded_dropped 0\n") {
		t.Error("/metrics lacks tally_excluded_dropped 0: nothing was left out of the counts above")
	}
	raw, _ := json.Marshal(ex)
	for _, leak := range []string{"compatible", "google.com", "8.5.0", "198.51.100"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the excluded API shows %q: only product tokens may be kept", leak)
		}
	}
}
