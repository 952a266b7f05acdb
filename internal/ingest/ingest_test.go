package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/sites"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
)

const (
	browserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	firefoxUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	helloURL  = "https://blog.example.com/blogs/hello"
)

var hello = item.Item{Site: "blog.example.com", Type: "blog", Slug: "hello"}

type testServer struct {
	url   string
	store *bolt.Store
	clk   *clock.Fake
}

type option func(*Config)

func withSites(list string) option {
	return func(c *Config) {
		l, err := sites.Parse(list)
		if err != nil {
			panic(err)
		}
		c.Sites = l
	}
}
func withoutSalt() option { return func(c *Config) { c.Sessions = nil } }

func newTestServer(t *testing.T, opts ...option) *testServer {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	store := storetest.Write(t, bolt.Options{Now: clk.Now})
	rules, err := classify.NewRules(nil, []string{"/drafts/**"})
	if err != nil {
		t.Fatal(err)
	}
	ips, _ := clientip.ParseTrusted("127.0.0.1/32")
	sessions, _ := session.NewDeriver([]byte("test-salt"))
	cfg := Config{
		Rules: rules, Bots: classify.NewBots(0, classify.Overrides{}), IPs: ips, Sessions: sessions, Now: clk.Now,
		Log: storetest.Log(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	mux := http.NewServeMux()
	New(store, cfg).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testServer{url: srv.URL, store: store, clk: clk}
}

type beaconReq struct {
	method string
	body   string
	header map[string]string
}

func (ts *testServer) send(t *testing.T, b beaconReq) (*http.Response, string) {
	t.Helper()
	resp, body, err := ts.trySend(b)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// trySend is send for goroutines, which must not call t.Fatal.
func (ts *testServer) trySend(b beaconReq) (*http.Response, string, error) {
	if b.method == "" {
		b.method = http.MethodPost
	}
	req, err := http.NewRequest(b.method, ts.url+"/api/view", strings.NewReader(b.body))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", browserUA)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.10")
	for k, v := range b.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

func (ts *testServer) total(t *testing.T, it item.Item) int64 {
	t.Helper()
	c, err := ts.store.Counts(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	return c.Total
}

func view(url string) string { return `{"url":"` + url + `"}` }

func TestViewResponses(t *testing.T) {
	page := func(p string) item.Item { return item.Item{Site: "blog.example.com", Type: "page", Slug: p} }
	tests := []struct {
		name    string
		req     beaconReq
		status  int
		counted item.Item // zero: nothing counted
	}{
		{"json", beaconReq{body: view(helloURL)}, 200, hello},
		{"text/plain from sendBeacon", beaconReq{body: view(helloURL), header: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}}, 200, hello},
		{"with referrer", beaconReq{body: `{"url":"` + helloURL + `","referrer":"https://news.example.org/"}`}, 200, hello},
		{"same-site origin", beaconReq{body: view(helloURL), header: map[string]string{"Origin": "https://blog.example.com"}}, 200, hello},

		{"not json", beaconReq{body: "hello"}, 400, item.Item{}},
		{"json array", beaconReq{body: `[{"url":"` + helloURL + `"}]`}, 400, item.Item{}},
		{"empty body", beaconReq{body: ""}, 400, item.Item{}},
		{"missing url", beaconReq{body: `{"referrer":"x"}`}, 400, item.Item{}},
		{"url not a string", beaconReq{body: `{"url":42}`}, 400, item.Item{}},
		{"relative url", beaconReq{body: view("/blogs/hello")}, 400, item.Item{}},
		{"ftp url", beaconReq{body: view("ftp://blog.example.com/x")}, 400, item.Item{}},
		{"malformed even from a bot", beaconReq{body: "nope", header: map[string]string{"User-Agent": "Googlebot/2.1"}}, 400, item.Item{}},
		{"oversized", beaconReq{body: `{"url":"` + helloURL + `","referrer":"` + strings.Repeat("x", 5000) + `"}`}, 413, item.Item{}},

		{"bot", beaconReq{body: view(helloURL), header: map[string]string{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}}, 200, item.Item{}},
		{"headless chrome", beaconReq{body: view(helloURL), header: map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"}}, 200, item.Item{}},
		{"curl", beaconReq{body: view(helloURL), header: map[string]string{"User-Agent": "curl/8.5.0"}}, 200, item.Item{}},
		{"no user agent", beaconReq{body: view(helloURL), header: map[string]string{"User-Agent": ""}}, 200, item.Item{}},
		{"prefetch", beaconReq{body: view(helloURL), header: map[string]string{"Sec-Purpose": "prefetch"}}, 200, item.Item{}},
		{"head", beaconReq{method: http.MethodHead, body: view(helloURL)}, 200, item.Item{}},
		{"admin path", beaconReq{body: view("https://blog.example.com/admin/posts")}, 200, item.Item{}},
		{"ops path", beaconReq{body: view("https://blog.example.com/ops/views")}, 200, item.Item{}},
		{"api path", beaconReq{body: view("https://blog.example.com/api/view")}, 200, item.Item{}},
		{"static asset", beaconReq{body: view("https://blog.example.com/assets/site.css")}, 200, item.Item{}},
		{"ignored glob", beaconReq{body: view("https://blog.example.com/drafts/next-post")}, 200, item.Item{}},

		{"foreign origin", beaconReq{body: view(helloURL), header: map[string]string{"Origin": "https://evil.example.net"}}, 403, item.Item{}},
		{"null origin", beaconReq{body: view(helloURL), header: map[string]string{"Origin": "null"}}, 403, item.Item{}},

		{"page route", beaconReq{body: view("https://blog.example.com/about/")}, 200, page("/about")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t)
			resp, body := ts.send(t, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status >= 400 && tt.req.method != http.MethodHead {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
					t.Errorf("error body %q is not a JSON reason", body)
				}
			}
			if tt.status == 200 && tt.req.method != http.MethodHead { // HEAD answers carry no body
				// Counted or not, the answer is the caller's session id and nothing else.
				var r map[string]string
				if err := json.Unmarshal([]byte(body), &r); err != nil || len(r) != 1 || len(r["sid"]) != 32 {
					t.Errorf("body %q, want {\"sid\": <32 hex>} for counted and uncounted beacons alike", body)
				}
			}
			for _, it := range []item.Item{hello, page("/about"), page("/drafts/next-post")} {
				want := int64(0)
				if it == tt.counted {
					want = 1
				}
				if got := ts.total(t, it); got != want {
					t.Errorf("%s/%s total = %d, want %d", it.Type, it.Slug, got, want)
				}
			}
		})
	}
}

func TestSitesAllowlist(t *testing.T) {
	ts := newTestServer(t, withSites("blog.example.com"))
	tests := []struct {
		url, origin string
		status      int
	}{
		{helloURL, "", 200},
		{"https://www.blog.example.com:443/blogs/hello", "", 200},
		{"https://other.example.com/blogs/hello", "", 403},
		{helloURL, "https://blog.example.com", 200},
		{helloURL, "https://other.example.com", 403},
	}
	for _, tt := range tests {
		resp, _ := ts.send(t, beaconReq{body: view(tt.url), header: map[string]string{"Origin": tt.origin}})
		if resp.StatusCode != tt.status {
			t.Errorf("url %s origin %q: status %d, want %d", tt.url, tt.origin, resp.StatusCode, tt.status)
		}
	}
	if got := ts.total(t, hello); got != 3 {
		t.Errorf("total = %d, want 3", got)
	}
}

func TestUniqueAcrossVisitorsAndUserAgents(t *testing.T) {
	ts := newTestServer(t)
	for _, v := range []struct{ ip, ua string }{
		{"203.0.113.1", browserUA},
		{"203.0.113.1", browserUA}, // same visitor again
		{"203.0.113.2", browserUA}, // another address
		{"203.0.113.1", firefoxUA}, // another browser behind the same address
	} {
		ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": v.ip, "User-Agent": v.ua}})
	}
	c, _ := ts.store.Counts(context.Background(), hello)
	if c.Unique != 3 || c.Total != 4 {
		t.Errorf("unique=%d total=%d, want 3 and 4", c.Unique, c.Total)
	}
}

func TestReaderAcrossMidnightIsNotNew(t *testing.T) {
	ts := newTestServer(t)
	ts.clk.Set(time.Date(2026, 11, 24, 23, 50, 0, 0, time.UTC))
	ts.send(t, beaconReq{body: view(helloURL)})
	ts.clk.Set(time.Date(2026, 11, 25, 0, 10, 0, 0, time.UTC))
	ts.send(t, beaconReq{body: view(helloURL)})
	// A day later the session id is new and the window long closed.
	ts.clk.Set(time.Date(2026, 11, 26, 0, 10, 0, 0, time.UTC))
	ts.send(t, beaconReq{body: view(helloURL)})
	c, _ := ts.store.Counts(context.Background(), hello)
	if c.Unique != 2 || c.Total != 3 {
		t.Errorf("unique=%d total=%d, want 2 and 3", c.Unique, c.Total)
	}
}

func TestNothingCountedWithoutSalt(t *testing.T) {
	ts := newTestServer(t, withoutSalt())
	resp, body := ts.send(t, beaconReq{body: view(helloURL)})
	if resp.StatusCode != 200 || strings.TrimSpace(body) != `{"sid":""}` {
		t.Errorf("status %d %s, want 200 with an empty sid", resp.StatusCode, body)
	}
	if got := ts.total(t, hello); got != 0 {
		t.Errorf("total = %d without a salt, want 0", got)
	}
}

func TestUnavailableWriteModelIs503(t *testing.T) {
	ts := newTestServer(t)
	ts.store.Close()
	resp, _ := ts.send(t, beaconReq{body: view(helloURL)})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
}

func TestCounts(t *testing.T) {
	ts := newTestServer(t)
	ts.send(t, beaconReq{body: view(helloURL)})
	tests := []struct {
		query  string
		status int
		want   string
	}{
		{"url=" + helloURL, 200, `{"type":"blog","slug":"hello","unique":1,"total":1,"likes":0}`},
		{"url=https://www.blog.example.com/blogs/hello/?x=1", 200, `{"type":"blog","slug":"hello","unique":1,"total":1,"likes":0}`},
		{"site=blog.example.com&type=blog&slug=hello", 200, `{"type":"blog","slug":"hello","unique":1,"total":1,"likes":0}`},
		{"url=https://blog.example.com/blogs/never", 200, `{"type":"blog","slug":"never","unique":0,"total":0,"likes":0}`},
		{"url=/relative", 400, ""},
		{"", 400, ""},
	}
	for _, tt := range tests {
		resp, err := http.Get(ts.url + "/api/counts?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
		}
		if tt.want != "" && strings.TrimSpace(string(body)) != tt.want {
			t.Errorf("%s: body %s, want %s", tt.query, body, tt.want)
		}
	}
}

func TestCountsCORS(t *testing.T) {
	ts := newTestServer(t, withSites("blog.example.com"))
	for origin, want := range map[string]string{
		"https://blog.example.com": "https://blog.example.com",
		"https://evil.example.net": "",
	} {
		req, _ := http.NewRequest("GET", ts.url+"/api/counts?url="+helloURL, nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Allow-Origin %q, want %q", origin, got, want)
		}
		if resp.StatusCode != 200 {
			t.Errorf("origin %s: status %d; reads answer everyone", origin, resp.StatusCode)
		}
	}
}

func TestConcurrentBeaconsAreExact(t *testing.T) {
	ts := newTestServer(t)
	const visitors, each = 32, 10
	var wg sync.WaitGroup
	for v := range visitors {
		wg.Go(func() {
			for range each {
				resp, _, err := ts.trySend(beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", v)}})
				if err != nil {
					t.Error(err)
					return
				}
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	c, _ := ts.store.Counts(context.Background(), hello)
	if c.Unique != visitors || c.Total != visitors*each {
		t.Errorf("unique=%d total=%d, want %d and %d", c.Unique, c.Total, visitors, visitors*each)
	}
}

// TestFormulaHostsRefused: with --sites empty any host becomes a site, and sites reach CSV
// exports; a host that is not a DNS name or an address is malformed, not a site.
func TestFormulaHostsRefused(t *testing.T) {
	ts := newTestServer(t)
	for _, u := range []string{`https://=hyperlink("evil.example","x")/blogs/a`, "https://+cmd.example!/x", "https://-x.example/a"} {
		b, _ := json.Marshal(map[string]string{"url": u})
		resp, body := ts.send(t, beaconReq{body: string(b)})
		if resp.StatusCode != 400 || !strings.Contains(body, "DNS name") {
			t.Errorf("%s: %d %s, want 400", u, resp.StatusCode, body)
		}
	}
}
