package bolt

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestDirtyAndClean(t *testing.T) {
	clk := clock.NewFake(noon)
	s, _ := newTestStore(t, clk)
	ctx := context.Background()
	record(t, s, hello, sid("a", noon))
	record(t, s, other, sid("a", noon))

	changes, err := s.Dirty(ctx, item.Item{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 || changes[0].Item != hello || changes[1].Item != other {
		t.Fatalf("Dirty = %+v, want hello and other", changes)
	}

	// A view lands on hello between reading and cleaning: hello must stay dirty.
	record(t, s, hello, sid("b", noon))
	if err := s.Clean(ctx, changes); err != nil {
		t.Fatal(err)
	}
	left, err := s.Dirty(ctx, item.Item{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Item != hello || left[0].Counts.Total != 2 {
		t.Fatalf("after Clean, Dirty = %+v, want hello with total 2", left)
	}

	// Paging with after.
	page, err := s.Dirty(ctx, hello, 10)
	if err != nil || len(page) != 0 {
		t.Errorf("Dirty after hello = %+v, %v; want nothing", page, err)
	}
}

func TestChangedOnIsExactAcrossMidnight(t *testing.T) {
	d1 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(d1.Add(10 * time.Hour))
	s, _ := newTestStore(t, clk)
	ctx := context.Background()

	record(t, s, hello, sid("a", d1)) // D1: hello 1
	clk.Set(d1.Add(24*time.Hour - time.Millisecond))
	record(t, s, hello, sid("b", d1)) // last millisecond of D1: hello 2
	clk.Set(d1.Add(24 * time.Hour))
	record(t, s, hello, sid("c", d1))             // first instant of D2: hello 3
	record(t, s, other, sid("c", d1))             // other starts on D2
	clk.Set(d1.Add(24*time.Hour + 5*time.Minute)) // the snapshot runs at 00:05 while views arrive
	record(t, s, hello, sid("d", d1))

	tests := []struct {
		date time.Time
		want map[item.Item]int64
	}{
		{d1.AddDate(0, 0, -1), map[item.Item]int64{}},
		{d1, map[item.Item]int64{hello: 2}},
		{d1.Add(23 * time.Hour), map[item.Item]int64{hello: 2}}, // any time of the day means the day
		{d1.AddDate(0, 0, 1), map[item.Item]int64{hello: 4, other: 1}},
		{d1.AddDate(0, 0, 30), map[item.Item]int64{}}, // nothing changed that day
	}
	for _, tt := range tests {
		rows, err := s.ChangedOn(ctx, tt.date, item.Item{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		got := map[item.Item]int64{}
		for _, r := range rows {
			got[r.Item] = r.Counts.Total
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.date.Format(time.DateOnly), got, tt.want)
			continue
		}
		for it, n := range tt.want {
			if got[it] != n {
				t.Errorf("%s: %s total %d, want %d", tt.date.Format(time.DateOnly), it.Slug, got[it], n)
			}
		}
	}
}

func TestClockGoingBackDoesNotReopenADay(t *testing.T) {
	d2 := time.Date(2026, 11, 24, 0, 1, 0, 0, time.UTC)
	clk := clock.NewFake(d2)
	s, _ := newTestStore(t, clk)
	ctx := context.Background()
	record(t, s, hello, sid("a", d2))
	clk.Set(d2.Add(-2 * time.Minute)) // NTP steps the clock back into yesterday
	record(t, s, hello, sid("b", d2))

	rows, err := s.ChangedOn(ctx, d2.AddDate(0, 0, -1), item.Item{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("yesterday gained views after it ended: %+v", rows)
	}
}

func TestFirstDay(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	s, _ := newTestStore(t, clk)
	if _, ok, err := s.FirstDay(context.Background()); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	record(t, s, hello, sid("a", clk.Now())) // day 20, filed in the history on day 22
	clk.Set(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	record(t, s, hello, sid("a", clk.Now()))
	record(t, s, other, sid("a", clk.Now())) // only in its record
	first, ok, err := s.FirstDay(context.Background())
	if err != nil || !ok || !first.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("FirstDay = %v %v %v, want 2026-11-20", first, ok, err)
	}
}

// TestChangedIndexBuiltForOlderFiles: a file written before the changed bucket existed gets
// it on open, from history and the items' records, so the snapshot of any earlier day still
// finds its items.
func TestChangedIndexBuiltForOlderFiles(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(d1)
	path := filepath.Join(t.TempDir(), "write.db")
	s, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		day int
		it  item.Item
	}{{0, hello}, {2, hello}, {2, other}, {3, other}} {
		clk.Set(d1.AddDate(0, 0, step.day))
		record(t, s, step.it, sid("v", clk.Now()))
	}
	s.Close()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketChanged) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for offset, want := range map[int]string{0: "[hello:1]", 1: "[]", 2: "[hello:2 other:1]", 3: "[other:2]"} {
		rows, err := s.ChangedOn(context.Background(), d1.AddDate(0, 0, offset), item.Item{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s:%d", r.Item.Slug, r.Counts.Total))
		}
		if fmt.Sprint(got) != want {
			t.Errorf("day %+d after the rebuild: %v, want %s", offset, got, want)
		}
	}
}
