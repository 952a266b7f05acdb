package ingest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/limit"
)

func withLimits(perSecond float64, burst, perMinute int) option {
	return func(c *Config) {
		c.Clients = limit.NewClients(perSecond, burst, 10_000)
		c.SessionCap = limit.NewPerMinute(perMinute, 10_000)
	}
}

func withoutTrustedProxies() option {
	return func(c *Config) { c.IPs, _ = clientip.ParseTrusted("") }
}

func post(slug string) item.Item {
	return item.Item{Site: "blog.example.com", Type: "blog", Slug: slug}
}

func TestSessionCap(t *testing.T) {
	ts := newTestServer(t, withLimits(20, 40, 10))
	for range 12 {
		ts.clk.Add(time.Second)
		ts.send(t, beaconReq{body: view(helloURL)})
	}
	if got := ts.total(t, hello); got != 10 {
		t.Errorf("12 reloads in a minute by one visitor counted %d, want the cap of 10", got)
	}
	ts.clk.Add(time.Minute)
	ts.send(t, beaconReq{body: view(helloURL)})
	if got := ts.total(t, hello); got != 11 {
		t.Errorf("a view in the next minute: total %d, want 11", got)
	}
	// A reader opening ten posts in a minute is not held back.
	for i := range 10 {
		ts.send(t, beaconReq{body: view(fmt.Sprintf("https://blog.example.com/blogs/p%d", i))})
	}
	for i := range 10 {
		if got := ts.total(t, post(fmt.Sprintf("p%d", i))); got != 1 {
			t.Errorf("post p%d: %d", i, got)
		}
	}
}

func TestRateLimitPerClient(t *testing.T) {
	ts := newTestServer(t, withLimits(20, 40, 10))
	var first string
	for i := range 60 { // all at the same instant: the burst of 40 passes
		resp, body := ts.send(t, beaconReq{body: view(fmt.Sprintf("https://blog.example.com/blogs/r%d", i))})
		var r sidResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &r) != nil || len(r.SID) != 32 {
			t.Fatalf("beacon %d: %d %s; a limited beacon must get the normal answer", i, resp.StatusCode, body)
		}
		if first == "" {
			first = r.SID
		} else if r.SID != first {
			t.Fatalf("beacon %d answered another sid", i)
		}
	}
	counted := 0
	for i := range 60 {
		counted += int(ts.total(t, post(fmt.Sprintf("r%d", i))))
	}
	if counted != 40 {
		t.Errorf("60 beacons at once from one address: %d counted, want the burst of 40", counted)
	}
	// Another address is not affected.
	ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": "203.0.113.99"}})
	if got := ts.total(t, hello); got != 1 {
		t.Errorf("another client's view: %d", got)
	}
	// Tokens come back with time: 20 a second.
	ts.clk.Add(time.Second)
	for i := range 20 {
		ts.send(t, beaconReq{body: view(fmt.Sprintf("https://blog.example.com/blogs/s%d", i))})
	}
	counted = 0
	for i := range 20 {
		counted += int(ts.total(t, post(fmt.Sprintf("s%d", i))))
	}
	if counted != 20 {
		t.Errorf("a second later: %d of 20 counted", counted)
	}
}

func TestLimitsNeverStopRealPeople(t *testing.T) {
	ts := newTestServer(t, withLimits(20, 40, 10))
	// An office of 30 people behind one NAT address opening the same post within a second.
	for p := range 30 {
		ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"User-Agent": fmt.Sprintf("%s Person/%d", browserUA, p)}})
	}
	if c, _ := ts.store.Counts(t.Context(), hello); c.Total != 30 || c.Unique != 30 {
		t.Errorf("30 colleagues behind one address: %+v, want 30 unique", c)
	}
	// Sixteen quick presses of the like button (even unbatched) and as many unlikes, at once.
	ts.clk.Add(2 * time.Second)
	for range 16 {
		ts.like(t, likeReq{method: "POST", body: likeBodyJSON(0), ip: "198.51.100.50"})
	}
	_, got := ts.like(t, likeReq{method: "GET", query: "?url=" + helloURL, ip: "198.51.100.50"})
	if got.User != 16 {
		t.Errorf("16 quick presses: user %d", got.User)
	}
	for range 16 {
		ts.like(t, likeReq{method: "DELETE", body: likeBodyJSON(0), ip: "198.51.100.50"})
	}
	_, got = ts.like(t, likeReq{method: "GET", query: "?url=" + helloURL, ip: "198.51.100.50"})
	if got.User != 0 || got.Total != 0 {
		t.Errorf("after 16 unlikes: %+v", got)
	}
}

func TestRateLimitedLikesGetTheNumbers(t *testing.T) {
	ts := newTestServer(t, withLimits(1, 2, 10))
	for range 5 {
		code, _ := ts.like(t, likeReq{method: "POST", body: likeBodyJSON(0)})
		if code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	_, got := ts.like(t, likeReq{method: "GET", query: "?url=" + helloURL})
	if got.Total != 2 {
		t.Errorf("5 likes at once with a burst of 2: %d counted", got.Total)
	}
}

// TestSpoofedForwardedForIsIgnored: without trusted proxies, X-Forwarded-For from the peer
// is not believed; two "different" forwarded addresses are one visitor, the peer.
func TestSpoofedForwardedForIsIgnored(t *testing.T) {
	ts := newTestServer(t, withoutTrustedProxies())
	ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": "203.0.113.1"}})
	ts.send(t, beaconReq{body: view(helloURL), header: map[string]string{"X-Forwarded-For": "203.0.113.2", "CF-Connecting-IP": "203.0.113.3"}})
	if c, _ := ts.store.Counts(t.Context(), hello); c.Unique != 1 || c.Total != 2 {
		t.Errorf("%+v: spoofed headers from an untrusted peer made new visitors", c)
	}
}
