package bolt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
)

func like(t *testing.T, s *Store, id string, delta int) item.LikeCounts {
	t.Helper()
	lc, err := s.Like(context.Background(), item.Like{Item: hello, Session: sid(id, noon), Delta: delta, Cap: 16})
	if err != nil {
		t.Fatal(err)
	}
	return lc
}

func TestLikesCapAndUnlike(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	steps := []struct {
		who   string
		delta int
		user  int
		total int64
	}{
		{"a", -1, 0, 0},   // nothing to take back: never below zero
		{"a", 1, 1, 1},    //
		{"a", 10, 11, 11}, // a batch of presses
		{"a", 10, 16, 16}, // only 5 fit under the cap of 16
		{"a", 1, 16, 16},  // over the cap: nothing added, same numbers
		{"b", 3, 3, 19},   // another visitor has a cap of their own
		{"a", -1, 15, 18}, // unlike one
		{"b", -1, 2, 17},
	}
	for i, st := range steps {
		if got := like(t, s, st.who, st.delta); got.User != st.user || got.Total != st.total {
			t.Errorf("step %d (%s %+d): %+v, want user %d total %d", i, st.who, st.delta, got, st.user, st.total)
		}
	}
	lc, err := s.Likes(context.Background(), hello, sid("a", noon))
	if err != nil || lc.User != 15 || lc.Total != 17 {
		t.Errorf("Likes = %+v, %v", lc, err)
	}
	c, _ := s.Counts(context.Background(), hello)
	if c.Likes != 17 || c.Total != 0 {
		t.Errorf("counts %+v: likes must not count as views", c)
	}
}

func TestLikesStartAgainEachDay(t *testing.T) {
	clk := clock.NewFake(noon)
	s, swept := sweptStore(t, clk)
	like(t, s, "a", 16)
	clk.Add(24 * time.Hour)
	// The session id changes with the day; tally sees a visitor with a fresh cap.
	lc, err := s.Like(context.Background(), item.Like{Item: hello, Session: sid("a", noon.Add(24*time.Hour)), Delta: 16, Cap: 16})
	if err != nil || lc.User != 16 || lc.Total != 32 {
		t.Errorf("next day: %+v %v, want user 16 total 32", lc, err)
	}
	// Yesterday's per-visitor counts are swept.
	nextSweep(t, swept)
	var n int
	s.db.View(func(tx *bbolt.Tx) error { n = tx.Bucket(bucketLikes).Stats().KeyN; return nil })
	if n != 1 {
		t.Errorf("%d like counts kept after the sweep, want only today's", n)
	}
}

func TestConcurrentLikesAreExact(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	var wg sync.WaitGroup
	for v := range 1000 {
		wg.Go(func() {
			if _, err := s.Like(context.Background(), item.Like{Item: hello, Session: sid(fmt.Sprint(v), noon), Delta: 1, Cap: 16}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c, _ := s.Counts(context.Background(), hello)
	if c.Likes != 1000 {
		t.Errorf("1,000 concurrent likes from 1,000 visitors gave %d", c.Likes)
	}
}

func TestSeedsNeverDouble(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	ctx := context.Background()
	record(t, s, hello, sid("a", noon)) // one real view before the import
	seed := []item.Seed{{Item: hello, Views: 120, Likes: 7}, {Item: other, Views: 5}}
	for range 3 {
		if _, err := s.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.Counts(ctx, hello); c.Total != 121 || c.Likes != 7 || c.Unique != 1 {
		t.Errorf("after importing three times: %+v, want total 121, likes 7, unique 1", c)
	}
	prev, err := s.Seed(ctx, []item.Seed{{Item: hello, Views: 100, Likes: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if prev[0].Views != 120 {
		t.Errorf("previous seed %+v", prev[0])
	}
	if c, _ := s.Counts(ctx, hello); c.Total != 101 {
		t.Errorf("after lowering the seed: total %d, want 101", c.Total)
	}
	if changes, _ := s.Dirty(ctx, item.Item{}, 10); len(changes) != 2 {
		t.Errorf("seeded items are not marked for the flush: %+v", changes)
	}
}
