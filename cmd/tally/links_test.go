package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// logIn returns a client with the owner's session on the server at base, which does not follow
// redirects.
func logIn(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	owner := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := owner.Get(base + "/ops/login")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(form)
	if csrf == nil {
		t.Fatalf("no login form at %s: %s", base, form)
	}
	resp, err = owner.PostForm(base+"/ops/login", url.Values{"password": {testPassword}, "csrf": {string(csrf[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login at %s: %d", base, resp.StatusCode)
	}
	return owner
}

// TestDashboardLinksToPagesAsTheSiteNamesThem: the dashboard links to a page with the scheme,
// port, "www." and trailing slash its site's own pages' beacons used (their Origin is the
// page's), not always https on the bare host; a beacon without that Origin, such as a bare
// curl's, cannot change them.
func TestDashboardLinksToPagesAsTheSiteNamesThem(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	send := func(page, origin, ip string) {
		req, _ := http.NewRequest("POST", app.URL()+"/api/view", strings.NewReader(`{"url":"`+page+`"}`))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		req.Header.Set("User-Agent", chromeUA)
		req.Header.Set("X-Forwarded-For", ip)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if code, body := fetch(t, req); code != 200 {
			t.Fatalf("beacon %s: %d %s", page, code, body)
		}
	}
	for i, page := range []string{
		"http://127.0.0.1:8090/blogs/x.html",
		"https://www.example.org/notes/hi/",
		"https://www.example.org/",
		"https://plain.example.net/blogs/a",
	} {
		u, _ := url.Parse(page)
		send(page, u.Scheme+"://"+u.Host, "203.0.113."+string(rune('1'+i)))
	}
	// Without an Origin (curl), or with another page's: counted, but the links stay, also once
	// a link may change again.
	app.clk.Add(2 * time.Minute)
	send("http://WWW.plain.example.net.:31337/blogs/a", "", "203.0.113.9")
	send("http://plain.example.net:31337/blogs/b", "https://plain.example.net", "203.0.113.10")
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	owner := logIn(t, app.URL())
	for _, tt := range []struct{ site, link string }{
		{"127.0.0.1", `href="http://127.0.0.1:8090/blogs/x.html"`},
		// The ignore flag lives in the browser per origin: it must be set on the site's own.
		{"127.0.0.1", `href="http://127.0.0.1:8090/#tally-ignore"`},
		{"example.org", `href="https://www.example.org/notes/hi/"`},
		{"example.org", `href="https://www.example.org/"`},
		{"plain.example.net", `href="https://plain.example.net/blogs/a"`},
		{"plain.example.net", `href="https://plain.example.net/#tally-ignore"`},
	} {
		resp, err := owner.Get(app.URL() + "/ops/views?site=" + tt.site)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), tt.link) {
			t.Errorf("/ops/views?site=%s: %d, want a link %s", tt.site, resp.StatusCode, tt.link)
		}
	}
}
