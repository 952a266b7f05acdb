package ops

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/store/storetest"
)

const password = "owner-password-1"

var now = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type testOps struct {
	url     string
	db      storetest.ReadModel
	clk     *clock.Fake
	dir     string
	flushes atomic.Int32
	backup  func() // called when a backup is made
}

const sessionCookie = "tally_session"

// newTestOps serves /ops over a SQLite read model.
func newTestOps(t testing.TB) *testOps {
	t.Helper()
	clk := clock.NewFake(now)
	db, _ := storetest.Read(t, sqlite.Options{Now: clk.Now})
	return newTestOpsOn(t, db, clk)
}

// forEachReadModel runs test against every read model: the dashboard must show the same
// numbers, rows and pages whichever holds the data.
func forEachReadModel(t *testing.T, test func(t *testing.T, to *testOps)) {
	clk := clock.NewFake(now)
	storetest.ReadModels(t, clk.Now, func(t *testing.T, db storetest.ReadModel) {
		clk.Set(now)
		test(t, newTestOpsOn(t, db, clk))
	})
}

func newTestOpsOn(t testing.TB, db storetest.ReadModel, clk *clock.Fake) *testOps {
	t.Helper()
	dir := t.TempDir()
	if err := admin.SetPassword(context.Background(), admin.File(dir), password); err != nil {
		t.Fatal(err)
	}
	ips, _ := clientip.ParseTrusted("127.0.0.1")
	to := &testOps{db: db, clk: clk, dir: dir}
	auth := admin.New(admin.Config{Passwords: admin.File(dir), Sessions: storetest.Write(t, bolt.Options{Now: clk.Now}),
		IPs: ips, Now: clk.Now, Log: storetest.Log()})
	h := New(Config{
		DataDir: dir, Read: db, Auth: auth, Now: clk.Now, Log: storetest.Log(), PageTypes: []string{"home", "page", "blog", "project"},
		Jobs: Jobs{
			Flush:    func(context.Context) (int, error) { to.flushes.Add(1); return 3, nil },
			Snapshot: func(context.Context, time.Time) (int, error) { return 0, nil },
			Backup: func(context.Context, string) (backup.Manifest, error) {
				if to.backup != nil {
					to.backup()
				}
				return backup.Manifest{}, errors.New("no stores in this test")
			},
		},
		PageURL: func(link item.Link, typ, slug string) string {
			if typ == "blog" {
				return link.URL("/blogs/" + slug)
			}
			return ""
		},
	})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	to.url = srv.URL
	return to
}

// client is a browser-like client: it keeps cookies and does not follow redirects.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs c in from address ip and returns the response to the form's POST.
func (to *testOps) login(t *testing.T, c *http.Client, ip, pw string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", to.url+"/ops/login", nil)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("login form without a CSRF field:\n%s", body)
	}
	form := url.Values{"password": {pw}, "csrf": {string(m[1])}, "next": {"/ops/views"}}
	req, _ = http.NewRequest("POST", to.url+"/ops/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func get(t *testing.T, c *http.Client, u string, basic bool) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if basic {
		req.SetBasicAuth("admin", password)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestAuthRequired(t *testing.T) {
	to := newTestOps(t)
	c := client()
	resp, _ := get(t, c, to.url+"/ops/views?days=7", false)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ops/login?next=%2Fops%2Fviews%3Fdays%3D7" {
		t.Errorf("dashboard without a session: %d to %q, want 303 to the login form", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, path := range []string{"/ops/api/summary", "/ops/api/series", "/ops/api/items", "/ops/api/items/trend?type=blog&slug=a", "/ops/api/export/items.csv", "/ops/api/export/daily.csv"} {
		resp, _ := get(t, c, to.url+path, false)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without credentials: %d, want 401 with WWW-Authenticate", path, resp.StatusCode)
		}
		if resp, _ := get(t, c, to.url+path, true); resp.StatusCode != http.StatusOK {
			t.Errorf("%s with Basic admin:<password>: %d, want 200", path, resp.StatusCode)
		}
	}
}

func TestLoginSessionAndLogout(t *testing.T) {
	to := newTestOps(t)
	c := client()
	resp := to.login(t, c, "198.51.100.1", password)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ops/views" {
		t.Fatalf("login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/ops" || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ops, not Secure over plain HTTP", session)
	}
	r, body := get(t, c, to.url+"/ops/views", false)
	if r.StatusCode != 200 || !strings.Contains(body, "No views yet") || !strings.Contains(body, `&lt;script defer src=&#34;http://`) {
		t.Errorf("fresh dashboard: %d, want the empty state with the script tag", r.StatusCode)
	}
	// The session works for the API too, so the page and scripts agree.
	if r, _ := get(t, c, to.url+"/ops/api/summary", false); r.StatusCode != 200 {
		t.Errorf("API with the session cookie: %d", r.StatusCode)
	}

	csrf := csrfField.FindStringSubmatch(body)[1]
	req, _ := http.NewRequest("POST", to.url+"/ops/logout", strings.NewReader("csrf="+csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r, err := c.Do(req); err != nil || r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", r, err)
	}
	// Even a copy of the old cookie no longer works.
	stale := client()
	u, _ := url.Parse(to.url + "/ops/")
	stale.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: session.Value}})
	if r, _ := get(t, stale, to.url+"/ops/views", false); r.StatusCode != http.StatusSeeOther {
		t.Errorf("dashboard after logout with the old cookie: %d, want 303 to login", r.StatusCode)
	}
}

func TestSecureCookieBehindTLSProxy(t *testing.T) {
	to := newTestOps(t)
	c := client()
	req, _ := http.NewRequest("GET", to.url+"/ops/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == loginCSRF && !ck.Secure {
			t.Error("behind a trusted TLS proxy the cookie is not Secure")
		}
	}
}

func TestPasswordChangeEndsSessions(t *testing.T) {
	to := newTestOps(t)
	c := client()
	to.login(t, c, "198.51.100.1", password)
	if err := admin.SetPassword(context.Background(), admin.File(to.dir), "a-brand-new-password"); err != nil {
		t.Fatal(err)
	}
	if r, _ := get(t, c, to.url+"/ops/views", false); r.StatusCode != http.StatusSeeOther {
		t.Errorf("session after a password change: %d, want 303 to login", r.StatusCode)
	}
}

func TestLoginThrottle(t *testing.T) {
	to := newTestOps(t)
	attacker := client()
	const maxFailures = 5
	for i := range maxFailures {
		if r := to.login(t, attacker, "203.0.113.66", "guess"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, r.StatusCode)
		}
	}
	r := to.login(t, attacker, "203.0.113.66", "guess")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d wrong passwords: %d Retry-After=%q, want 429 with Retry-After", maxFailures, r.StatusCode, r.Header.Get("Retry-After"))
	}
	if r := to.login(t, attacker, "203.0.113.66", password); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password from the blocked client: %d, want 429", r.StatusCode)
	}
	// Basic auth from the blocked client is throttled the same way.
	req, _ := http.NewRequest("GET", to.url+"/ops/api/summary", nil)
	req.SetBasicAuth("admin", password)
	req.Header.Set("X-Forwarded-For", "203.0.113.66")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("Basic auth from the blocked client: %d, want 429", resp.StatusCode)
	}
	// The owner, elsewhere, is never locked out.
	if r := to.login(t, client(), "198.51.100.7", password); r.StatusCode != http.StatusSeeOther {
		t.Errorf("right password from another client: %d, want 303", r.StatusCode)
	}
	to.clk.Add(15 * time.Minute)
	if r := to.login(t, attacker, "203.0.113.66", password); r.StatusCode != http.StatusSeeOther {
		t.Errorf("right password after the window: %d, want 303", r.StatusCode)
	}
}

func TestLoginFormCSRF(t *testing.T) {
	to := newTestOps(t)
	form := url.Values{"password": {password}, "csrf": {"forged"}}
	resp, err := client().Post(to.url+"/ops/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login with a forged CSRF token: %d, want 403", resp.StatusCode)
	}
}

func TestFlushNeedsCSRF(t *testing.T) {
	to := newTestOps(t)
	c := client()
	to.login(t, c, "198.51.100.1", password)
	post := func(path, body string, header map[string]string) int {
		req, _ := http.NewRequest("POST", to.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/ops/flush", "", nil); code != http.StatusForbidden {
		t.Errorf("Flush now without the CSRF token: %d, want 403", code)
	}
	if code := post("/ops/api/flush", "", nil); code != http.StatusForbidden {
		t.Errorf("API flush on a session without X-CSRF-Token: %d, want 403", code)
	}
	if n := to.flushes.Load(); n != 0 {
		t.Fatalf("%d flushes ran without a CSRF token", n)
	}
	_, body := get(t, c, to.url+"/ops/views", false)
	csrf := csrfField.FindStringSubmatch(body)[1]
	if code := post("/ops/flush", "csrf="+csrf+"&back=/ops/views", nil); code != http.StatusSeeOther {
		t.Errorf("Flush now with the token: %d, want 303", code)
	}
	if code := post("/ops/api/flush", "", map[string]string{"X-CSRF-Token": csrf}); code != http.StatusOK {
		t.Errorf("API flush with X-CSRF-Token: %d, want 200", code)
	}
	if n := to.flushes.Load(); n != 2 {
		t.Errorf("%d flushes ran, want 2", n)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	to := newTestOps(t)
	req, _ := http.NewRequest("POST", to.url+"/ops/api/flush", nil)
	req.SetBasicAuth("admin", password) // a browser may attach cached credentials
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || to.flushes.Load() != 0 {
		t.Errorf("cross-site POST: %d, %d flushes; want 403 and none", resp.StatusCode, to.flushes.Load())
	}
}

func TestSecurityHeaders(t *testing.T) {
	to := newTestOps(t)
	for _, path := range []string{"/ops/login", "/ops/views", "/ops/api/summary"} {
		resp, _ := get(t, client(), to.url+path, false)
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

// seed fills the read model with three items and 40 days of snapshots ending yesterday:
//
//	blog/a:  10 views a day (5 unique) for 40 days, 7 (3 unique) today
//	blog/b:  3 a day from day 20 on (20 days), 2 today
//	page/about: 100 views (50 unique) before the period, none since
//
// and flushes them in the order about, a, b (b is the most recent).
func seed(t *testing.T, to *testOps) {
	t.Helper()
	ctx := context.Background()
	mk := func(typ, slug string, u, n int64) item.Counted {
		return item.Counted{Item: item.Item{Site: "example.com", Type: typ, Slug: slug}, Counts: item.Counts{Unique: u, Total: n}}
	}
	for k := range 40 {
		date := now.Truncate(24*time.Hour).AddDate(0, 0, k-40)
		// A client event, counted far more often than any page: it must never show as views.
		rows := []item.Counted{mk("blog", "a", int64(5*(k+1)), int64(10*(k+1))), mk("page", "/about", 50, 100),
			mk("resume_download", "cv.pdf", int64(100*(k+1)), int64(1000*(k+1)))}
		if k >= 20 {
			rows = append(rows, mk("blog", "b", int64(3*(k-19)), int64(3*(k-19))))
		}
		if err := to.db.UpsertDaily(ctx, date, rows); err != nil {
			t.Fatal(err)
		}
		if err := to.db.MarkSnapshot(ctx, date); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range []item.Counted{mk("resume_download", "cv.pdf", 5000, 50000), mk("page", "/about", 50, 100), mk("blog", "a", 203, 407), mk("blog", "b", 62, 62)} {
		to.clk.Set(now.Add(time.Duration(i-4) * time.Minute))
		if err := to.db.UpsertCounts(ctx, []item.Counted{r}); err != nil {
			t.Fatal(err)
		}
	}
	to.clk.Set(now)
	if err := to.db.RecordFlush(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if err := to.db.UpsertDims(ctx, seedDims()); err != nil {
		t.Fatal(err)
	}
}

// seedDims are three days of sources and devices: the site's, blog/a's, and the download
// event's, whose visitors make a conversion rate.
func seedDims() []item.DimCount {
	var rows []item.DimCount
	site, a, cv := item.SiteOwner("example.com"), item.Item{Site: "example.com", Type: "blog", Slug: "a"},
		item.Item{Site: "example.com", Type: "resume_download", Slug: "cv.pdf"}
	for k := range 3 { // today, yesterday, the day before
		day := now.AddDate(0, 0, -k).Format(time.DateOnly)
		n := int64(k + 1)
		add := func(owner item.Item, d item.Dim, value string, views, visitors int64) {
			rows = append(rows, item.DimCount{Owner: owner, Day: day, Dim: d, Value: value, Views: views, Visitors: visitors})
		}
		add(site, item.DimTotal, "", 10*n, 4*n)
		add(site, item.DimReferrer, "news.ycombinator.com", 6*n, 2*n)
		add(site, item.DimReferrer, item.Direct, 4*n, 2*n)
		add(site, item.DimBrowser, "Firefox", 7*n, 3*n)
		add(site, item.DimBrowser, "Safari", 3*n, n)
		add(a, item.DimReferrer, "news.ycombinator.com", 5*n, 2*n)
		add(item.Item{Site: "example.com", Type: "page", Slug: "/about"}, item.DimReferrer, "news.ycombinator.com", n, n)
		add(cv, item.DimTotal, "", 2*n, n)
	}
	return rows
}

func apiJSON(t *testing.T, to *testOps, path string, v any) {
	t.Helper()
	resp, body := get(t, client(), to.url+path, true)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestSummaryNumbers(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		var s Summary
		apiJSON(t, to, "/ops/api/summary?days=14", &s)
		// By hand: total 407+62+100; unique 203+62+50; today 7+2+0.
		// Last 14 days: now minus the end of Nov 10: a 407-270, b 62-21.
		// The 14 before: end of Nov 10 minus end of Oct 27: a 270-130, b 21-0.
		if s.Site != "example.com" || s.Total != 569 || s.Unique != 315 || s.Today != 9 || s.Items != 3 {
			t.Errorf("summary %+v", s)
		}
		if s.Period != 178 || s.Previous != 161 {
			t.Errorf("period %d previous %d, want 178 and 161", s.Period, s.Previous)
		}
		if s.ChangePct == nil || fmt.Sprintf("%.2f", *s.ChangePct) != "10.56" {
			t.Errorf("change %v, want +10.56%%", s.ChangePct)
		}
		if len(s.ByType) != 1 || s.ByType[0] != (TypeViews{Type: "blog", Views: 178}) {
			t.Errorf("by type %+v, want only blog with 178 (the page had no views)", s.ByType)
		}
		if s.LastFlush == nil || !s.LastFlush.Equal(now) {
			t.Errorf("last flush %v", s.LastFlush)
		}

		var s7 Summary
		apiJSON(t, to, "/ops/api/summary?days=7", &s7)
		if s7.Period != 67+20 {
			t.Errorf("7-day period %d, want 87", s7.Period)
		}
	})
}

func TestSeries(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		var r seriesResponse
		apiJSON(t, to, "/ops/api/series?days=14", &r)
		if len(r.Days) != 14 {
			t.Fatalf("%d days, want 14", len(r.Days))
		}
		for i, p := range r.Days[:13] {
			want := now.AddDate(0, 0, i-13).Format(time.DateOnly)
			if p.Date != want || p.Total != 13 || p.Unique != 8 || p.Partial {
				t.Errorf("day %d: %+v, want %s with 13 views, 8 unique", i, p, want)
			}
		}
		if last := r.Days[13]; last.Date != "2026-11-24" || last.Total != 9 || !last.Partial {
			t.Errorf("today: %+v, want 9 views so far", last)
		}

		var trend seriesResponse
		apiJSON(t, to, "/ops/api/items/trend?type=blog&slug=a&days=30", &trend)
		if len(trend.Days) != 30 || trend.Days[0].Total != 10 || trend.Days[29].Total != 7 {
			t.Errorf("trend of a: %d days, first %+v, last %+v", len(trend.Days), trend.Days[0], trend.Days[len(trend.Days)-1])
		}
		var bTrend seriesResponse
		apiJSON(t, to, "/ops/api/items/trend?type=blog&slug=b&days=30", &bTrend)
		// b began on day 20 of 40 (Nov 4): 3 views on Nov 4 itself, nothing before.
		for _, p := range bTrend.Days {
			want := int64(3)
			switch {
			case p.Date < "2026-11-04":
				want = 0
			case p.Partial:
				want = 2
			}
			if p.Total != want {
				t.Errorf("b on %s: %d, want %d", p.Date, p.Total, want)
			}
		}
	})
}

func TestItemsSortAndFilter(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		tests := []struct {
			query string
			want  string
			total int
		}{
			{"", "a b /about", 3}, // placeholder replaced below: default sort is total
			{"?sort=total", "a /about b", 3},
			{"?sort=unique", "a b /about", 3},
			{"?sort=recent", "b a /about", 3},
			{"?q=ABOUT", "/about", 1},
			{"?q=blog", "a b", 2},
			{"?q=%25", "", 0},
		}
		tests[0].want = "a /about b"
		for _, tt := range tests {
			var page itemsResponse
			apiJSON(t, to, "/ops/api/items"+tt.query, &page)
			var slugs []string
			for _, it := range page.Items {
				slugs = append(slugs, it.Slug)
			}
			if got := strings.Join(slugs, " "); got != tt.want || page.Total != tt.total {
				t.Errorf("%q: %q (%d), want %q (%d)", tt.query, got, page.Total, tt.want, tt.total)
			}
		}
		var page itemsResponse
		apiJSON(t, to, "/ops/api/items", &page)
		recent := map[string]int64{}
		for _, it := range page.Items {
			recent[it.Slug] = it.Recent
		}
		if recent["a"] != 67 || recent["b"] != 20 || recent["/about"] != 0 {
			t.Errorf("last 7 days %v, want a 67, b 20, /about 0", recent)
		}
	})
}

func TestItemsPaginate(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		var rows []item.Counted
		for i := range 120 {
			rows = append(rows, item.Counted{Item: item.Item{Site: "example.com", Type: "blog", Slug: fmt.Sprintf("p%03d", i)}, Counts: item.Counts{Unique: 1, Total: int64(i)}})
		}
		if err := to.db.UpsertCounts(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		var p3 itemsResponse
		apiJSON(t, to, "/ops/api/items?page=3", &p3)
		if p3.Total != 120 || len(p3.Items) != 20 || p3.Items[0].Slug != "p019" || p3.Page != 3 || p3.PageSize != 50 {
			t.Errorf("page 3: total %d, %d items from %q, page %d of size %d", p3.Total, len(p3.Items), p3.Items[0].Slug, p3.Page, p3.PageSize)
		}
	})
}

// TestItemsCountIsBounded: past report.MaxItemCount matching items the table says "10,000+",
// pages on while pages are full, and the API says the total is capped.
func TestItemsCountIsBounded(t *testing.T) {
	to := newTestOps(t)
	rows := make([]item.Counted, report.MaxItemCount+60)
	for i := range rows {
		rows[i] = item.Counted{Item: item.Item{Site: "example.com", Type: "blog", Slug: fmt.Sprintf("post-%05d", i)}, Counts: item.Counts{Unique: 1, Total: int64(i)}}
	}
	if err := to.db.UpsertCounts(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	var all, found itemsResponse
	apiJSON(t, to, "/ops/api/items", &all)
	apiJSON(t, to, "/ops/api/items?q=post&page=202", &found)
	if all.Total != len(rows) || all.Capped {
		t.Errorf("without a search: total %d capped %v, want the exact %d", all.Total, all.Capped, len(rows))
	}
	if found.Total != report.MaxItemCount+1 || !found.Capped || len(found.Items) != 10 || found.Items[0].Slug != "post-00009" {
		t.Errorf("a search past the bound, page 202: total %d capped %v, %d items", found.Total, found.Capped, len(found.Items))
	}
	c := client()
	to.login(t, c, "198.51.100.9", password)
	_, page := get(t, c, to.url+"/ops/views?q=post&page=3", false)
	for _, want := range []string{`id="items-count">10,000&#43;<`, `<span>Page 3</span>`, `id="next-page"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the dashboard's items past the bound lack %s", want)
		}
	}
}

func TestPagesEscapeSlugs(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		evil := `<script>alert(1)</script>`
		if err := to.db.UpsertCounts(context.Background(), []item.Counted{
			{Item: item.Item{Site: "example.com", Type: "blog", Slug: evil}, Counts: item.Counts{Unique: 1, Total: 1}},
		}); err != nil {
			t.Fatal(err)
		}
		c := client()
		to.login(t, c, "198.51.100.1", password)
		for _, path := range []string{"/ops/views", "/ops/views/item?site=example.com&type=blog&slug=" + url.QueryEscape(evil)} {
			_, body := get(t, c, to.url+path, false)
			if strings.Contains(body, evil) || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s does not escape the slug", path)
			}
		}
	})
}

func TestDashboardPageShowsTheNumbers(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		c := client()
		to.login(t, c, "198.51.100.1", password)
		_, body := get(t, c, to.url+"/ops/views", false)
		for _, want := range []string{
			`id="kpi-total">569<`, `id="kpi-unique">315<`, `id="kpi-today">9<`, `id="kpi-period">178<`,
			`11% vs the 14 days before`, `class="change up"`, `id="kpi-items">3<`, `Last flushed just now`, `Days are UTC`,
			`href="https://example.com/blogs/a"`, `<svg viewBox="0 0 720 200" class="chart"`, `class="donut"`,
			`href="https://example.com/#tally-ignore"`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		_, frag := get(t, c, to.url+"/ops/views/item?site=example.com&type=blog&slug=a&fragment=1", false)
		if strings.Contains(frag, "<html") || !strings.Contains(frag, `id="trend-total">407<`) {
			t.Errorf("trend fragment: %.300s", frag)
		}
	})
}

func TestExports(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		resp, body := get(t, client(), to.url+"/ops/api/export/items.csv?sort=total", true)
		if ct := resp.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if len(lines) != 4 || lines[0] != "site,type,slug,unique,total,likes,last_7_days,last_synced_at" ||
			lines[1] != "example.com,blog,a,203,407,0,67,2026-11-24T11:58:00Z" {
			t.Errorf("items.csv:\n%s", body)
		}
		_, body = get(t, client(), to.url+"/ops/api/export/daily.csv?days=14", true)
		lines = strings.Split(strings.TrimSpace(body), "\n")
		if len(lines) != 15 || lines[0] != "date,views,unique,partial" || lines[14] != "2026-11-24,9,5,true" {
			t.Errorf("daily.csv:\n%s", body)
		}
	})
}

// TestPeriodValidation: every endpoint that takes ?days= accepts the periods the dashboard
// offers and nothing else, rather than quietly answering for another period.
func TestPeriodValidation(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		c := client()
		to.login(t, c, "198.51.100.1", password)
		paths := []string{"/ops/api/summary", "/ops/api/series", "/ops/api/items/trend?type=blog&slug=a&", "/ops/api/export/daily.csv", "/ops/views", "/ops/views/item?site=example.com&type=blog&slug=a&"}
		for _, p := range paths {
			sep := "?"
			if strings.HasSuffix(p, "&") {
				sep = ""
			}
			for days, want := range map[string]int{"7": 200, "14": 200, "30": 200, "90": 200, "60": 400, "0": 400, "366": 400, "x": 400} {
				resp, body := get(t, c, to.url+p+sep+"days="+days, false)
				if resp.StatusCode != want {
					t.Errorf("%s days=%s: %d, want %d", p, days, resp.StatusCode, want)
				}
				if want == 400 && !strings.Contains(body, "days must be 7, 14, 30 or 90") {
					t.Errorf("%s days=%s: %q does not say which periods exist", p, days, body)
				}
			}
		}
		// A range typed the wrong way round: the dashboard itself, with its form, the reason and
		// the default period, not a bare error page.
		resp, body := get(t, c, to.url+"/ops/views?from=2026-11-23&to=2026-11-20", false)
		if resp.StatusCode != 400 || !strings.Contains(body, "That range cannot be shown") || !strings.Contains(body, `id="range"`) ||
			!strings.Contains(body, `value="2026-11-23"`) || !strings.Contains(body, `id="kpi-total"`) {
			t.Errorf("/ops/views with to before from: %d, want 400 with the dashboard, its form and the reason", resp.StatusCode)
		}
		var s Summary
		apiJSON(t, to, "/ops/api/summary?days=30", &s)
		var r seriesResponse
		apiJSON(t, to, "/ops/api/series?days=30", &r)
		if s.Days != 30 || len(r.Days) != 30 {
			t.Errorf("days=30: summary for %d days, series of %d", s.Days, len(r.Days))
		}
	})
}

// TestCSVCellsNeutralised: visitors choose slugs (and, before host validation, sites); no cell
// of an export may start what a spreadsheet reads as a formula, and the file name stays plain.
func TestCSVCellsNeutralised(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		var rows []item.Counted
		for i, slug := range []string{`=HYPERLINK("https://evil.example","x")`, "+1+1", "-2+3", "@SUM(A1)", "\tx", "plain"} {
			rows = append(rows, item.Counted{Item: item.Item{Site: "example.com", Type: "blog", Slug: slug}, Counts: item.Counts{Unique: 1, Total: int64(10 - i)}})
		}
		if err := to.db.UpsertCounts(context.Background(), rows); err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, client(), to.url+"/ops/api/export/items.csv?site=example.com", true)
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, rec := range records[1:] {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("cell %q of %v starts a formula", cell, rec)
				}
			}
		}
		if records[len(records)-1][2] != "plain" {
			t.Errorf("a plain slug was changed: %v", records[len(records)-1])
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="tally-items-example.com.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got := safeFilename(`tally-items-=x"; y.csv`); got != "tally-items-_x___y.csv" {
			t.Errorf("safeFilename = %q", got)
		}
	})
}

// TestBackupNeedsPOST: a cross-site <img src=/ops/api/backup> sends a GET with whatever Basic
// credentials the browser cached; it must do no work.
func TestBackupNeedsPOST(t *testing.T) {
	to := newTestOps(t)
	backups := 0
	to.backup = func() { backups++ }
	resp, _ := get(t, client(), to.url+"/ops/api/backup", true)
	if resp.StatusCode != http.StatusMethodNotAllowed || backups != 0 {
		t.Errorf("GET /ops/api/backup: %d, %d backups; want 405 and none", resp.StatusCode, backups)
	}
}

// TestDashboardCompressed: the dashboard's CSS, pages and JSON go gzipped to browsers.
func TestDashboardCompressed(t *testing.T) {
	to := newTestOps(t)
	seed(t, to)
	tr := &http.Transport{DisableCompression: true} // see the encoding, not the decoded body
	c := &http.Client{Transport: tr}
	// (Responses under 1 KB are sent as they are: compressing them saves nothing.)
	for _, path := range []string{"/ops/static/dashboard.css", "/ops/api/series?days=90", "/ops/api/export/daily.csv?days=90"} {
		req, _ := http.NewRequest("GET", to.url+path, nil)
		req.SetBasicAuth("admin", password)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: Content-Encoding %q, Vary %q", path, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
		}
	}
}

// TestNotCounted: the API and the dashboard's panel sum what was not counted over the period
// asked, per reason and per bot, and leave out what is older.
func TestNotCounted(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		ex := func(day time.Time, kind, name string, n int64) item.Excluded {
			return item.Excluded{Site: "example.com", Day: day.Format(time.DateOnly), Kind: kind, Name: name, Count: n}
		}
		today := now.Truncate(24 * time.Hour)
		if err := to.db.UpsertExcluded(context.Background(), []item.Excluded{
			ex(today, "reason", "bot", 40), ex(today, "reason", "webdriver", 2), ex(today.AddDate(0, 0, -6), "reason", "bot", 2),
			ex(today, "bot", "Googlebot", 30), ex(today, "bot", "curl", 10), ex(today.AddDate(0, 0, -6), "bot", "curl", 2),
			ex(today.AddDate(0, 0, -7), "reason", "prefetch", 99), // outside the 7 days
		}); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Reasons []struct {
				Reason string
				Count  int64
			}
			Bots []struct {
				Token string
				Count int64
			}
		}
		apiJSON(t, to, "/ops/api/excluded?site=example.com&days=7", &got)
		if s := fmt.Sprint(got.Reasons, got.Bots); s != "[{bot 42} {webdriver 2}] [{Googlebot 30} {curl 12}]" {
			t.Errorf("excluded over 7 days = %s", s)
		}
		apiJSON(t, to, "/ops/api/excluded?site=example.com&days=14", &got)
		if s := fmt.Sprint(got.Reasons); s != "[{prefetch 99} {bot 42} {webdriver 2}]" {
			t.Errorf("excluded over 14 days = %s", s)
		}
		c := client()
		to.login(t, c, "198.51.100.1", password)
		_, body := get(t, c, to.url+"/ops/views?days=7", false)
		for _, want := range []string{`id="not-counted"`, `44 in 7 days`, `<tr data-reason="bot"><td>Bots and scripts</td><td class="num">42</td>`,
			`Automated browsers (webdriver)`, `<code>Googlebot</code></td><td class="num">30</td>`} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		if strings.Contains(body, "Prefetch and prerender") {
			t.Error("the panel counts a day outside the period")
		}
	})
}

// TestConversionIsRoundedToOneDecimal: one event visitor among three site visitors is 33.3%
// (and so in the events CSV, named after its site like every export),
// not 33.333333333333336.
func TestConversionIsRoundedToOneDecimal(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		day := session.FormatDay(to.clk.Now())
		site := item.SiteOwner("third.example")
		if err := to.db.UpsertDims(context.Background(), []item.DimCount{
			{Owner: site, Day: day, Dim: item.DimTotal, Views: 3, Visitors: 3},
			{Owner: item.Item{Site: "third.example", Type: "download", Slug: "cv.pdf"}, Day: day, Dim: item.DimTotal, Views: 1, Visitors: 1},
		}); err != nil {
			t.Fatal(err)
		}
		var ev eventsResponse
		apiJSON(t, to, "/ops/api/events?site=third.example&days=7", &ev)
		if len(ev.Events) != 1 || ev.Events[0].ConversionPct != 33.3 {
			t.Errorf("events %+v, want one at 33.3%%", ev)
		}
		// The same as CSV, in a file named after the site, as every export is.
		resp, body := get(t, client(), to.url+"/ops/api/export/events.csv?site=third.example&days=7", true)
		if resp.StatusCode != 200 || body != "name,target,count,visitors,conversion_pct\ndownload,cv.pdf,1,1,33.3\n" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="tally-events-third.example.csv"` {
			t.Errorf("events CSV: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Disposition"), body)
		}
		resp, _ = get(t, client(), to.url+"/ops/api/export/breakdown.csv?site=third.example&dim=referrer&days=7", true)
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="tally-referrer-third.example.csv"` {
			t.Errorf("breakdown CSV file name: %q", cd)
		}
	})
}

// TestSourcesAndEvents reads the seeded dimension rows through the API and the dashboard: the
// visitors tile, a breakdown, events with their conversion rate, a custom period, and the
// filter that answers which posts one source sent readers to.
func TestSourcesAndEvents(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		var s Summary
		apiJSON(t, to, "/ops/api/summary?days=7", &s)
		if s.Visitors != 4+8+12 {
			t.Errorf("visitors over 7 days = %d, want 24", s.Visitors)
		}
		apiJSON(t, to, "/ops/api/summary?from=2026-11-22&to=2026-11-23", &s)
		if s.Visitors != 8+12 || s.Days != 2 || s.First != "2026-11-22" || s.Last != "2026-11-23" {
			t.Errorf("custom period summary: %d visitors over %d days (%s to %s), want 20 over 2", s.Visitors, s.Days, s.First, s.Last)
		}
		var b breakdownResponse
		apiJSON(t, to, "/ops/api/breakdown?dim=browser&days=7", &b)
		if b.Total != 60 || len(b.Rows) != 2 || b.Rows[0] != (breakdownRow{"Firefox", 42, 18}) {
			t.Errorf("browsers: %+v", b)
		}
		apiJSON(t, to, "/ops/api/breakdown?dim=referrer&days=7&type=blog&slug=a&limit=1", &b)
		if b.Total != 30 || len(b.Rows) != 1 || b.Rows[0] != (breakdownRow{"news.ycombinator.com", 30, 12}) {
			t.Errorf("blog/a's referrers: %+v", b)
		}
		var ev eventsResponse
		apiJSON(t, to, "/ops/api/events?days=7", &ev)
		if ev.Visitors != 24 || len(ev.Events) != 1 || ev.Events[0].Name != "resume_download" || ev.Events[0].Count != 12 ||
			ev.Events[0].Visitors != 6 || ev.Events[0].ConversionPct != 25 {
			t.Errorf("events: %+v, want 6 of 24 visitors (25%%)", ev)
		}
		c := client()
		to.login(t, c, "198.51.100.1", password)
		_, page := get(t, c, to.url+"/ops/views?days=7", false)
		for _, want := range []string{`id="kpi-visitors">24<`, `id="referrers"`, `data-dim="browser"`, `id="events-table"`, "25.0%",
			`href="/ops/views?days=7&amp;dim=referrer&amp;site=example.com&amp;value=news.ycombinator.com"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the dashboard lacks %s", want)
			}
		}
		_, page = get(t, c, to.url+"/ops/views?days=7&dim=referrer&value=news.ycombinator.com", false)
		start := strings.Index(page, `id="filter-items"`)
		if start < 0 {
			t.Fatalf("no filtered items on the filtered dashboard:\n%s", page)
		}
		filtered := page[start:]
		filtered = filtered[:strings.Index(filtered, "</section>")]
		if !strings.Contains(page, "<b>36</b> views by <b>12</b> visitors") || !strings.Contains(filtered, ">a<") ||
			!strings.Contains(filtered, "/about") || strings.Index(filtered, ">a<") > strings.Index(filtered, "/about") {
			t.Errorf("filtered by Hacker News, want 36 views by 12 visitors, blog/a before /about:\n%s", filtered)
		}
		for _, bad := range []string{"/ops/views?dim=referrer", "/ops/views?dim=ip&value=x", "/ops/views?from=2026-11-30&to=2026-12-01"} {
			if resp, _ := get(t, c, to.url+bad, false); resp.StatusCode != 400 {
				t.Errorf("%s: %d, want 400", bad, resp.StatusCode)
			}
		}
	})
}
