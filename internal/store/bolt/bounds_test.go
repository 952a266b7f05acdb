package bolt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
)

// TestBoundsOnSitesAndItems: junk paths and hosts stop creating items at the bounds, existing
// items go on counting, each refusal is reported, and the bounds hold across a restart.
func TestBoundsOnSitesAndItems(t *testing.T) {
	clk := clock.NewFake(noon)
	var mu sync.Mutex
	refused := map[string]int{}
	opts := Options{Now: clk.Now, MaxSites: 2, MaxItemsPerSite: 3, OnRefused: func(r string) {
		mu.Lock()
		refused[r]++
		mu.Unlock()
	}}
	s, path := openTestStore(t, opts)
	it := func(site, slug string) item.Item { return item.Item{Site: site, Type: "page", Slug: slug} }
	for _, site := range []string{"a.com", "b.com", "c.com"} {
		for i := range 5 {
			if err := s.Record(context.Background(), item.View{Item: it(site, fmt.Sprint(i)), Session: sid("v", noon)}); err != nil {
				t.Fatal(err) // past a bound, nothing is kept, yet the view is answered as usual
			}
		}
	}
	want := map[string]int64{"a.com/0": 1, "a.com/2": 1, "a.com/3": 0, "b.com/1": 1, "b.com/4": 0, "c.com/0": 0}
	check := func(s *Store, when string) {
		t.Helper()
		for k, total := range want {
			var site, slug string
			fmt.Sscanf(k, "%5s/%s", &site, &slug)
			c, err := s.Counts(context.Background(), it(site, slug))
			if err != nil || c.Total != total {
				t.Errorf("%s: %s total %d (%v), want %d", when, k, c.Total, err, total)
			}
		}
	}
	check(s, "after the flood")
	mu.Lock()
	if refused[RefusedItem] != 4 || refused[RefusedSite] != 5 {
		t.Errorf("refusals %v, want 4 items_per_site and 5 sites", refused)
	}
	mu.Unlock()
	// An existing item goes on counting; the bounds hold after a restart.
	record(t, s, it("a.com", "0"), sid("w", noon))
	want["a.com/0"] = 2
	s.Close()
	s2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Record(context.Background(), item.View{Item: it("d.com", "x"), Session: sid("v", noon)}); err != nil {
		t.Fatal(err)
	}
	if err := s2.Record(context.Background(), item.View{Item: it("b.com", "9"), Session: sid("v", noon)}); err != nil {
		t.Fatal(err)
	}
	want["d.com/x"], want["b.com/9"] = 0, 0
	check(s2, "after a restart")
	if n, _ := s2.DirtyLen(context.Background()); n != 6 {
		t.Errorf("%d dirty items, want the 6 that exist", n)
	}
}

// TestDedupIndexIsBounded: past the bound, new windows are not kept (those views count as
// unique, the safe side for a flood), so memory stays flat.
func TestDedupIndexIsBounded(t *testing.T) {
	clk := clock.NewFake(noon)
	refused := 0
	swept := make(chan int, 1)
	s, _ := openTestStore(t, Options{Now: clk.Now, MaxDedupWindows: 10, SweepEvery: 2e6,
		OnRefused: func(reason string) {
			if reason == RefusedDedupFull { // the day's visitors have the same bound
				refused++
			}
		},
		OnSweep: func(n int) {
			select {
			case swept <- n:
			default:
			}
		}})
	for i := range 25 {
		if !record(t, s, hello, sid(fmt.Sprint(i), noon)) {
			t.Errorf("visitor %d not unique", i)
		}
	}
	if open := nextSweep(t, swept); open != 10 {
		t.Errorf("%d windows open, want the bound of 10", open)
	}
	if refused != 15 {
		t.Errorf("%d refusals, want 15", refused)
	}
	// A visitor whose window is kept is still a repeat.
	if record(t, s, hello, sid("0", noon)) {
		t.Error("a repeat view within the window counted as unique")
	}
}

// TestLiveRingsOfQuietSitesAreDropped: the live view keeps a ring per site only while the site
// has views in the last 30 minutes, so memory follows the sites read now.
func TestLiveRingsOfQuietSitesAreDropped(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := openTestStore(t, Options{Now: clk.Now})
	for _, site := range []string{"a.example", "b.example", "c.example"} {
		if err := s.Record(context.Background(), item.View{Item: item.Item{Site: site, Type: "home"}, Session: sid("v", noon), Page: true}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(31 * time.Minute)
	if err := s.Record(context.Background(), item.View{Item: item.Item{Site: "a.example", Type: "home"}, Session: sid("v", noon), Page: true}); err != nil {
		t.Fatal(err)
	}
	s.live.mu.Lock()
	n := len(s.live.sites)
	s.live.mu.Unlock()
	if n != 1 {
		t.Errorf("%d live rings after 31 quiet minutes for two of three sites, want 1", n)
	}
}
