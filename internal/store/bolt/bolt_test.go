package bolt

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

var (
	hello = item.Item{Site: "blog.example.com", Type: "blog", Slug: "hello"}
	other = item.Item{Site: "blog.example.com", Type: "blog", Slug: "other"}
	noon  = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

// newTestStore opens a store in a temp dir with a fake clock and checks the file's consistency
// when the test ends.
func newTestStore(t *testing.T, clk *clock.Fake) (*Store, string) {
	t.Helper()
	return openTestStore(t, Options{Now: clk.Now})
}

// openTestStore is newTestStore with options. (This package's own tests cannot use
// internal/storetest, which imports it.)
func openTestStore(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "write.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := Check(path); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// sweptStore is a store whose sweep runs every few milliseconds and reports each result on
// the returned channel, so tests can move the clock and wait for the next sweep.
func sweptStore(t *testing.T, clk *clock.Fake) (*Store, <-chan int) {
	t.Helper()
	swept := make(chan int, 1)
	s, _ := openTestStore(t, Options{Now: clk.Now, SweepEvery: 2 * time.Millisecond, OnSweep: func(open int) {
		select {
		case swept <- open:
		default:
		}
	}})
	return s, swept
}

// nextSweep waits for a sweep that starts after the call, and returns the windows it left open.
func nextSweep(t *testing.T, swept <-chan int) int {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for range 2 { // the first report may come from a sweep already under way
		select {
		case <-swept:
		case <-timeout:
			t.Fatal("no sweep within 5 s")
		}
	}
	select {
	case n := <-swept:
		return n
	case <-timeout:
		t.Fatal("no sweep within 5 s")
		return 0
	}
}

// sid is a stable id for a named visitor on at's UTC day, another the next day, like a real one.
func sid(visitor string, at time.Time) session.ID {
	sum := sha256.Sum256([]byte(visitor + "|" + session.FormatDay(at)))
	return session.ID(sum[:16])
}

// record records a view and reports whether it was counted as unique.
func record(t *testing.T, s *Store, it item.Item, id session.ID) (unique bool) {
	t.Helper()
	return recordView(t, s, item.View{Item: it, Session: id})
}

func recordView(t *testing.T, s *Store, v item.View) (unique bool) {
	t.Helper()
	before, err := s.Counts(context.Background(), v.Item)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	after, err := s.Counts(context.Background(), v.Item)
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != before.Total+1 {
		t.Fatalf("total went from %d to %d after one view", before.Total, after.Total)
	}
	return after.Unique == before.Unique+1
}

func wantCounts(t *testing.T, s *Store, it item.Item, unique, total int64) {
	t.Helper()
	c, err := s.Counts(context.Background(), it)
	if err != nil {
		t.Fatal(err)
	}
	if c.Unique != unique || c.Total != total {
		t.Errorf("%s: unique=%d total=%d, want unique=%d total=%d", it.Slug, c.Unique, c.Total, unique, total)
	}
}

func TestUniqueAndTotal(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	alice, bob := sid("203.0.113.1", noon), sid("203.0.113.2", noon)

	record(t, s, hello, alice)
	record(t, s, hello, alice) // repeat: total only
	record(t, s, hello, bob)
	record(t, s, other, alice) // another item is its own window

	wantCounts(t, s, hello, 2, 3)
	wantCounts(t, s, other, 1, 1)
	wantCounts(t, s, item.Item{Site: "blog.example.com", Type: "blog", Slug: "never"}, 0, 0)
}

func TestWindowSlides(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	alice := sid("203.0.113.1", noon)

	steps := []struct {
		advance time.Duration
		unique  bool
	}{
		{0, true},
		{29*time.Minute + 59*time.Second, false}, // within 30 minutes of the first view
		{29*time.Minute + 59*time.Second, false}, // 59:58 after the first, but the window slid
		{30 * time.Minute, true},                 // exactly 30 minutes idle: the window has closed
		{time.Millisecond, false},
	}
	for i, st := range steps {
		clk.Add(st.advance)
		if got := record(t, s, hello, alice); got != st.unique {
			t.Errorf("step %d (+%v): unique=%v, want %v", i, st.advance, got, st.unique)
		}
	}
	wantCounts(t, s, hello, 2, 5)
}

func TestWindowSpansMidnight(t *testing.T) {
	before := time.Date(2026, 11, 24, 23, 50, 0, 0, time.UTC)
	after := before.Add(20 * time.Minute) // 00:10 the next day
	clk := clock.NewFake(before)
	s, _ := newTestStore(t, clk)

	record(t, s, hello, sid("203.0.113.1", before))
	clk.Set(after)
	// The ingest side passes yesterday's id during the first half hour of the day.
	if recordView(t, s, item.View{Item: hello, Session: sid("203.0.113.1", after), Previous: sid("203.0.113.1", before)}) {
		t.Error("a reader who crossed midnight within the window counted as a new unique")
	}
	// The window now continues under today's id.
	clk.Add(20 * time.Minute)
	if record(t, s, hello, sid("203.0.113.1", after)) {
		t.Error("the window did not continue under today's id")
	}
	wantCounts(t, s, hello, 1, 3)
}

func TestConcurrentViewsAreExact(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	const visitors, each = 64, 25
	var wg sync.WaitGroup
	for v := range visitors {
		wg.Go(func() {
			id := sid(fmt.Sprintf("198.51.100.%d", v), noon)
			for range each {
				if err := s.Record(context.Background(), item.View{Item: hello, Session: id}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	wantCounts(t, s, hello, visitors, visitors*each)
}

func TestRestartKeepsCountsAndWindows(t *testing.T) {
	clk := clock.NewFake(noon)
	path := filepath.Join(t.TempDir(), "write.db")
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	alice := sid("203.0.113.1", noon)
	record(t, s, hello, alice)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Add(10 * time.Minute)
	s, err = Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if record(t, s, hello, alice) {
		t.Error("after a restart, a repeat view within the window counted as unique")
	}
	wantCounts(t, s, hello, 1, 2)
}

func TestSweepForgetsExpiredWindows(t *testing.T) {
	clk := clock.NewFake(noon)
	s, swept := sweptStore(t, clk)
	for i := range 100 {
		record(t, s, hello, sid(fmt.Sprintf("192.0.2.%d", i), noon))
	}
	clk.Add(15 * time.Minute)
	record(t, s, other, sid("192.0.2.1", noon))

	clk.Add(20 * time.Minute) // the first 100 expired, the last one is live
	if open := nextSweep(t, swept); open != 1 {
		t.Errorf("%d windows open after the sweep, want 1", open)
	}
	if n := dedupKeysOnDisk(t, s); n != 1 {
		t.Errorf("%d dedup keys on disk after the sweep, want 1", n)
	}
}

func dedupKeysOnDisk(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketDedup).Stats().KeyN
		return nil
	})
	return n
}

func TestOpenReportsLockedFile(t *testing.T) {
	clk := clock.NewFake(noon)
	_, path := newTestStore(t, clk)
	start := time.Now()
	_, err := Open(path, Options{Now: clk.Now, LockTimeout: 200 * time.Millisecond})
	if err == nil || !errorsIs(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("second Open did not give up quickly")
	}
}

func TestRecordAfterClose(t *testing.T) {
	clk := clock.NewFake(noon)
	s, err := Open(filepath.Join(t.TempDir(), "write.db"), Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Record(context.Background(), item.View{Item: hello, Session: sid("x", noon)}); !errorsIs(err, ErrClosed) {
		t.Errorf("Record after Close: %v, want ErrClosed", err)
	}
}

// BenchmarkRecord is one durable view in the write model, with 64 views in flight as under
// load, so that group commit shares each transaction and fsync.
// BenchmarkRecord records views of 1,000 items, each by a new visitor, 32 in flight per core:
// a client event (no dimensions) and a page view with a referrer, browser, OS and device.
func BenchmarkRecord(b *testing.B) {
	var dims item.Dims
	dims[item.DimReferrer], dims[item.DimBrowser], dims[item.DimBrowserVersion] = "news.example.org", "Firefox", "Firefox 133"
	dims[item.DimOS], dims[item.DimDevice] = "Linux", "desktop"
	for _, bc := range []struct {
		name string
		page bool
	}{{"event", false}, {"page", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "write.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			now := time.Now()
			items := make([]item.Item, 1000)
			for i := range items {
				items[i] = item.Item{Site: "example.com", Type: "blog", Slug: fmt.Sprint(i)}
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					v := item.View{Item: items[i%1000], Session: sid("198.51.100.1", now), Page: bc.page, Dims: dims}
					binary.BigEndian.PutUint64(v.Session[8:], uint64(i)) // a new visitor each time
					if err := s.Record(context.Background(), v); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// TestSiteHash: a site's visitors are told apart by the same hash as its items' (the site's
// owner key hashed with the session), computed without building the key on every view.
func TestSiteHash(t *testing.T) {
	s := sid("198.51.100.1", time.Now())
	for _, site := range []string{"example.com", "a", "blog.example.co.uk"} {
		if siteHash(s, site) != dedupHash(s, item.SiteOwner(site).Key()) {
			t.Errorf("siteHash(%q) differs from the hash of its owner key", site)
		}
	}
}
