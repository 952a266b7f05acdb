package storetest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/ops"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
	"github.com/tallyhq/tally/internal/top"
)

func TestTop(t *testing.T) {
	storetest.ReadModels(t, nil, testTop)
}

func testTop(t *testing.T, db storetest.ReadModel) {
	ctx := context.Background()
	row := func(site, typ, slug string, u, n int64) item.Counted {
		return item.Counted{Item: item.Item{Site: site, Type: typ, Slug: slug}, Counts: item.Counts{Unique: u, Total: n}}
	}
	if err := db.UpsertCounts(ctx, []item.Counted{
		row("a.com", "blog", "one", 5, 10),
		row("a.com", "blog", "two", 9, 30),
		row("a.com", "page", "/about", 50, 50),
		row("b.com", "blog", "three", 1, 20),
		row("b.com", "blog", "Zed", 1, 20), // ties go to the item flushed first: "three" before "Zed"
	}); err != nil {
		t.Fatal(err)
	}
	// Overwrite, not add.
	if err := db.UpsertCounts(ctx, []item.Counted{row("a.com", "blog", "one", 6, 11)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		f    report.TopFilter
		want string
	}{
		{report.TopFilter{Limit: 10}, "[/about two three Zed one]"},
		{report.TopFilter{Site: "a.com", Type: "blog", Limit: 10}, "[two one]"},
		{report.TopFilter{Type: "blog", Limit: 3}, "[two three Zed]"},
		{report.TopFilter{Site: "c.com", Limit: 10}, "[]"},
	}
	for _, tt := range tests {
		items, err := db.Top(ctx, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, it := range items {
			slugs = append(slugs, it.Slug)
		}
		if got := fmt.Sprint(slugs); got != tt.want && !(tt.want == "[]" && len(slugs) == 0) {
			t.Errorf("Top(%+v) = %s, want %s", tt.f, got, tt.want)
		}
	}
	items, _ := db.Top(ctx, report.TopFilter{Site: "a.com", Type: "blog", Limit: 10})
	if items[1].Unique != 6 || items[1].Total != 11 {
		t.Errorf("upsert added instead of overwriting: %+v", items[1])
	}
}

// jobs is a write model and one read model with both jobs between them.
type jobs struct {
	write *bolt.Store
	read  storetest.ReadModel
	flush *flush.Flusher
	snap  *snapshot.Snapshotter
	clk   *clock.Fake
}

// withJobs runs test once per read model, each with a fresh write model and clock.
func withJobs(t *testing.T, start time.Time, test func(t *testing.T, j *jobs)) {
	clk := clock.NewFake(start)
	storetest.ReadModels(t, clk.Now, func(t *testing.T, db storetest.ReadModel) {
		clk.Set(start)
		w := storetest.Write(t, bolt.Options{Now: clk.Now})
		test(t, &jobs{write: w, read: db, flush: flush.New(w, db, storetest.Log()),
			snap: snapshot.New(w, db, clk.Now, storetest.Log()), clk: clk})
	})
}

func (j *jobs) view(t *testing.T, slug, visitor string) {
	t.Helper()
	it := item.Item{Site: "example.com", Type: "blog", Slug: slug}
	if err := j.write.Record(context.Background(), item.View{Item: it, Session: storetest.SID(visitor, j.clk.Now())}); err != nil {
		t.Fatal(err)
	}
}

// rows is the read model's view_counts of example.com as "slug unique/total" in slug order.
func (j *jobs) rows(t *testing.T) string {
	t.Helper()
	items, _, err := j.read.Items(context.Background(), report.ItemQuery{Site: "example.com", Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, it := range items {
		m[it.Slug] = fmt.Sprintf("%d/%d", it.Unique, it.Total)
	}
	return fmt.Sprint(m)
}

// daily is slug's series of cumulative totals over days, as "unique/total" per day ("-" when
// no snapshot exists).
func (j *jobs) daily(t *testing.T, slug string, first time.Time, days int) string {
	t.Helper()
	pts, err := j.read.ItemSeries(context.Background(), item.Item{Site: "example.com", Type: "blog", Slug: slug},
		first, first.AddDate(0, 0, days-1))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pts {
		if !p.Known {
			out = append(out, "-")
			continue
		}
		out = append(out, fmt.Sprintf("%d/%d", p.Totals.Unique, p.Totals.Total))
	}
	return fmt.Sprint(out)
}

var noon = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// TestFlushIdempotentAndConcurrent: a flush writes cumulative counts; repeating it, or running
// several at once, gives the same rows; views during a flush reach the next one.
func TestFlushIdempotentAndConcurrent(t *testing.T) {
	withJobs(t, noon, func(t *testing.T, j *jobs) {
		ctx := context.Background()
		j.view(t, "a", "v1")
		j.view(t, "a", "v1")
		j.view(t, "a", "v2")
		j.view(t, "b", "v1")
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := j.flush.Run(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		want := "map[a:2/3 b:1/1]"
		if got := j.rows(t); got != want {
			t.Fatalf("after four flushes at once: %s, want %s", got, want)
		}
		if res, err := j.flush.Run(ctx); err != nil || res.Items != 0 {
			t.Errorf("a flush with nothing new: %+v %v, want 0 items", res, err)
		}
		j.view(t, "b", "v3")
		if res, _ := j.flush.Run(ctx); res.Items != 1 || j.rows(t) != "map[a:2/3 b:2/2]" {
			t.Errorf("flush after one more view: %d items, rows %s", res.Items, j.rows(t))
		}
		at, ok, err := j.read.LastFlush(ctx)
		if err != nil || !ok || !at.Equal(noon) {
			t.Errorf("LastFlush = %v %v %v", at, ok, err)
		}
	})
}

// TestSnapshotExactAndBackfilled: the snapshot of a day holds the totals at its end, even when
// taken later with views of the next day already in; missed days are caught up exactly.
func TestSnapshotExactAndBackfilled(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	withJobs(t, d1.Add(10*time.Hour), func(t *testing.T, j *jobs) {
		ctx := context.Background()
		j.view(t, "a", "v1") // day 1: a 1/1
		j.clk.Set(d1.Add(23*time.Hour + 59*time.Minute))
		j.view(t, "a", "v2") // day 1: a 2/2
		j.clk.Set(d1.AddDate(0, 0, 1).Add(time.Minute))
		j.view(t, "a", "v3") // day 2 (v2's window spans midnight, but v3 is new): a 3/3
		j.view(t, "b", "v1") // day 2: b 1/1
		// The 00:05 run of day 2 snapshots day 1 exactly, with day 2's views already in.
		j.clk.Set(d1.AddDate(0, 0, 1).Add(5 * time.Minute))
		if n, err := j.snap.CatchUp(ctx); err != nil || n != 1 {
			t.Fatalf("CatchUp on day 2 = %d %v, want 1 day", n, err)
		}
		if got := j.daily(t, "a", d1, 1); got != "[2/2]" {
			t.Errorf("a's snapshot of day 1: %s, want [2/2]", got)
		}
		// Tally is down through day 3; the 00:05 run of day 4 catches up days 2 and 3, exactly.
		j.clk.Set(d1.AddDate(0, 0, 3).Add(5 * time.Minute))
		j.view(t, "a", "v4") // day 4: a 4/4
		if n, err := j.snap.CatchUp(ctx); err != nil || n != 2 {
			t.Fatalf("CatchUp on day 4 = %d %v, want 2 days", n, err)
		}
		// A day holds the latest row on or before it: day 3, without views, holds day 2's, and
		// so does day 4 until its own snapshot.
		if got := j.daily(t, "a", d1, 4); got != "[2/2 3/3 3/3 3/3]" {
			t.Errorf("a's daily snapshots %s, want [2/2 3/3 3/3 3/3]", got)
		}
		if got := j.daily(t, "b", d1, 4); got != "[- 1/1 1/1 1/1]" {
			t.Errorf("b's daily snapshots %s, want [- 1/1 1/1 1/1]", got)
		}
		// Re-running a day gives the same rows; the site totals follow.
		if _, err := j.snap.Run(ctx, d1.AddDate(0, 0, 1)); err != nil {
			t.Fatal(err)
		}
		tt, err := j.read.SnapshotTotals(ctx, "example.com", d1.AddDate(0, 0, 1))
		if err != nil || fmt.Sprint(tt) != "map[blog:{4 4}]" {
			t.Errorf("site totals of day 2: %v %v, want blog 4/4", tt, err)
		}
		last, ok, err := j.read.LastSnapshot(ctx)
		if err != nil || !ok || !last.Equal(d1.AddDate(0, 0, 2)) {
			t.Errorf("LastSnapshot = %v %v %v, want day 3", last, ok, err)
		}
		if _, err := j.snap.Run(ctx, session.Day(j.clk.Now()).AddDate(0, 0, 1)); err == nil {
			t.Error("a snapshot of tomorrow was accepted")
		}
	})
}

// The spelled-out ReadModel must stay what its consumers declare.
var (
	_ flush.Sink    = storetest.ReadModel(nil)
	_ snapshot.Sink = storetest.ReadModel(nil)
	_ ops.Reader    = storetest.ReadModel(nil)
	_ top.Lister    = storetest.ReadModel(nil)
)

// TestFlushCopiesExclusions: a flush first drains what the node buffered, copies the per-day
// totals of what was not counted (overwriting), and drops from the write model the days that
// can no longer change.
func TestFlushCopiesExclusions(t *testing.T) {
	withJobs(t, day0.Add(12*time.Hour), func(t *testing.T, j *jobs) {
		ctx := context.Background()
		buf := excluded.New(j.write, func(site string) bool { return site == "example.com" })
		j.flush.DrainFirst(func(ctx context.Context) error { return buf.Drain(ctx, j.clk.Now()) })
		reasons := func(first, last time.Time) string {
			t.Helper()
			ex, err := j.read.Excluded(ctx, "example.com", first, last)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(ex.Reasons, ex.Bots)
		}
		for range 3 {
			buf.Add("example.com", excluded.Bot, "Googlebot", j.clk.Now())
		}
		buf.Add("example.com", excluded.Prefetch, "", j.clk.Now())
		if _, err := j.flush.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if got := reasons(day0, day0); got != "[{bot 3} {prefetch 1}] [{Googlebot 3}]" {
			t.Errorf("after the first flush: %s", got)
		}
		// Two days later: the day's totals grow, then the flush closes day0 in the write model.
		buf.Add("example.com", excluded.Bot, "Googlebot", j.clk.Now())
		j.clk.Set(day0.AddDate(0, 0, 2).Add(time.Hour))
		buf.Add("example.com", excluded.Webdriver, "", j.clk.Now())
		for range 2 { // twice: the same rows
			if _, err := j.flush.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := reasons(day0, day0); got != "[{bot 4} {prefetch 1}] [{Googlebot 4}]" {
			t.Errorf("day0 after the second flush: %s", got)
		}
		if got := reasons(day0, day0.AddDate(0, 0, 2)); got != "[{bot 4} {prefetch 1} {webdriver 1}] [{Googlebot 4}]" {
			t.Errorf("three days after the second flush: %s", got)
		}
		left, _, err := j.write.Excluded(ctx, "", 100)
		if err != nil || len(left) != 1 || left[0].Day != session.FormatDay(day0.AddDate(0, 0, 2)) {
			t.Errorf("write model keeps %+v %v, want only the newest day", left, err)
		}
	})
}
