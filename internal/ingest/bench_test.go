package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// BenchmarkView is one recorded view through the handler, from request to durable write:
// decoding, classification, session id, limits and the group-committed write. Run with
// -cpu 64-ish parallelism to see group commit at work: go test -bench View -cpu 2 ./internal/ingest
func BenchmarkView(b *testing.B) {
	store := storetest.Write(b, bolt.Options{})
	rules, _ := classify.NewRules(nil, nil)
	ips, _ := clientip.ParseTrusted("192.0.2.0/24")
	sessions, _ := session.NewDeriver([]byte("bench"))
	h := New(store, Config{Rules: rules, Bots: classify.NewBots(0, classify.Overrides{}), IPs: ips, Sessions: sessions,
		Log: storetest.Log()})
	mux := http.NewServeMux()
	h.Register(mux)
	bodies := make([][]byte, 1000)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"url":"https://blog.example.com/blogs/post-%d","referrer":"https://news.example.org/item?id=%d"}`, i, i))
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32) // many beacons in flight, as under load
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			r := httptest.NewRequest("POST", "/api/view", bytes.NewReader(bodies[i%1000]))
			r.RemoteAddr = "192.0.2.1:1234"
			r.Header.Set("User-Agent", browserUA)
			r.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
	b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "views/s")
}

// BenchmarkCountable is the per-view work without the write: classification, session id and
// the view's dimensions.
func BenchmarkCountable(b *testing.B) {
	rules, _ := classify.NewRules(nil, nil)
	ips, _ := clientip.ParseTrusted("")
	sessions, _ := session.NewDeriver([]byte("bench"))
	h := New(nil, Config{Rules: rules, Bots: classify.NewBots(0, classify.Overrides{}), IPs: ips, Sessions: sessions})
	r := httptest.NewRequest("POST", "/api/view", nil)
	r.RemoteAddr = "203.0.113.9:1234"
	r.Header.Set("User-Agent", browserUA)
	u, _ := parsePageURL("https://blog.example.com/blogs/hello?utm_source=newsletter")
	b.ReportAllocs()
	for b.Loop() {
		v := h.visitorOf(r)
		v.referrer = "https://news.example.org/item?id=1"
		if _, reason := h.countable(&v, u, nil); reason != classify.Countable {
			b.Fatal(reason)
		}
	}
}
