package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/store/storetest"
)

type env struct {
	write *bolt.Store
	path  string
	s     *Snapshotter
	clk   *clock.Fake
}

func newEnv(t *testing.T, start time.Time) *env {
	t.Helper()
	clk := clock.NewFake(start)
	w := storetest.Write(t, bolt.Options{Now: clk.Now})
	r, path := storetest.Read(t, sqlite.Options{Now: clk.Now})
	return &env{write: w, path: path, s: New(w, r, clk.Now, storetest.Log()), clk: clk}
}

func (e *env) viewAt(t *testing.T, at time.Time, slug, visitor string) {
	t.Helper()
	e.clk.Set(at)
	it := item.Item{Site: "example.com", Type: "blog", Slug: slug}
	if err := e.write.Record(context.Background(), item.View{Item: it, Session: storetest.SID(visitor, at)}); err != nil {
		t.Fatal(err)
	}
}

// daily returns view_counts_daily as "slug date unique/total" lines.
func daily(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(`SELECT slug, date, unique_views_snapshot, total_views_snapshot
		FROM view_counts_daily ORDER BY date, slug`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var slug, date string
		var u, n int64
		if err := rs.Scan(&slug, &date, &u, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s %d/%d", slug, date, u, n))
	}
	return out
}

func TestSnapshotIsExactAcrossMidnight(t *testing.T) {
	d1 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, d1)
	e.viewAt(t, d1.Add(9*time.Hour), "a", "v1")
	e.viewAt(t, d1.Add(23*time.Hour+59*time.Minute+59*time.Second), "a", "v2")
	e.viewAt(t, d1.Add(23*time.Hour+59*time.Minute+59*time.Second), "b", "v2")
	// After midnight views keep arriving before and while the 00:05 job runs.
	e.viewAt(t, d1.Add(24*time.Hour), "a", "v3")
	e.viewAt(t, d1.Add(24*time.Hour+4*time.Minute), "b", "v3")
	e.clk.Set(d1.Add(24*time.Hour + 5*time.Minute))

	n, err := e.s.Run(context.Background(), session.Yesterday(e.clk.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("snapshot wrote %d items, want 2", n)
	}
	want := "[a 2026-11-23 2/2 b 2026-11-23 1/1]"
	if got := fmt.Sprint(daily(t, e.path)); got != want {
		t.Fatalf("daily = %s, want %s", got, want)
	}

	// Re-running, even later with more views in, changes nothing.
	e.viewAt(t, d1.Add(30*time.Hour), "a", "v4")
	if _, err := e.s.Run(context.Background(), d1); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(daily(t, e.path)); got != want {
		t.Errorf("after a re-run, daily = %s, want %s", got, want)
	}
}

func TestSnapshotBackfillAndToday(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, d1)
	e.viewAt(t, d1.Add(time.Hour), "a", "v1")                     // Nov 20
	e.viewAt(t, d1.AddDate(0, 0, 2).Add(time.Hour), "a", "v2")    // Nov 22
	e.viewAt(t, d1.AddDate(0, 0, 4).Add(10*time.Hour), "a", "v3") // Nov 24, today
	for _, day := range []string{"2026-11-19", "2026-11-21", "2026-11-23", "2026-11-24"} {
		date, err := session.ParseDay(day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Run(context.Background(), date); err != nil {
			t.Fatal(err)
		}
	}
	// Nov 19 had no views yet. Nov 20 and 22 were not asked for, but the runs after them wrote
	// them: each day with a view has its row, days without one have none; today is so far.
	want := "[a 2026-11-20 1/1 a 2026-11-22 2/2 a 2026-11-24 3/3]"
	if got := fmt.Sprint(daily(t, e.path)); got != want {
		t.Errorf("daily = %s, want %s", got, want)
	}
}

func TestSnapshotRefusesFutureDays(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, now)
	if _, err := e.s.Run(context.Background(), now.AddDate(0, 0, 1)); err == nil {
		t.Error("a snapshot of tomorrow was accepted")
	}
}

func TestRefusesDaysBeforeTally(t *testing.T) {
	e := newEnv(t, time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	// Before 1970 a day number would wrap around and land on some other day.
	for _, d := range []time.Time{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		if _, err := e.s.Run(context.Background(), d); !errors.Is(err, session.ErrDayRange) {
			t.Errorf("snapshot of %s: %v, want ErrDayRange", session.FormatDay(d), err)
		}
	}
}

func TestCatchUpFillsMissedDays(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, d1)
	e.viewAt(t, d1.Add(time.Hour), "a", "v1")
	e.clk.Set(d1.AddDate(0, 0, 1).Add(5 * time.Minute)) // Nov 21 00:05
	if n, err := e.s.CatchUp(context.Background()); err != nil || n != 1 {
		t.Fatalf("first catch-up: %d days, %v; want 1", n, err)
	}
	// The server is down for three nights; views arrive on Nov 22.
	e.viewAt(t, d1.AddDate(0, 0, 2).Add(time.Hour), "a", "v2")
	e.clk.Set(d1.AddDate(0, 0, 4).Add(5 * time.Minute)) // Nov 24 00:05
	if n, err := e.s.CatchUp(context.Background()); err != nil || n != 3 {
		t.Fatalf("second catch-up: %d days, %v; want 3 (Nov 21-23)", n, err)
	}
	// Rows only for the days a changed: Nov 21 and 23 hold the day before them.
	want := "[a 2026-11-20 1/1 a 2026-11-22 2/2]"
	if got := fmt.Sprint(daily(t, e.path)); got != want {
		t.Errorf("daily = %s, want %s", got, want)
	}
	if n, _ := e.s.CatchUp(context.Background()); n != 1 {
		t.Errorf("a catch-up with nothing missed re-ran %d days, want just yesterday", n)
	}
}

func TestClockJumpsDoNotCorruptTheSeries(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, d1)
	e.viewAt(t, d1.Add(23*time.Hour), "a", "v1") // Nov 20: 1

	// Forwards: the clock leaps from Nov 20 to Nov 23, skipping two days.
	e.viewAt(t, d1.AddDate(0, 0, 3).Add(time.Hour), "a", "v2") // Nov 23: 2
	// Backwards: NTP steps it back to Nov 22 23:59; the view still belongs to Nov 23.
	e.viewAt(t, d1.AddDate(0, 0, 3).Add(-time.Minute), "a", "v3") // still Nov 23: 3

	e.clk.Set(d1.AddDate(0, 0, 4).Add(5 * time.Minute)) // Nov 24 00:05
	for _, d := range []string{"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"} {
		date, _ := session.ParseDay(d)
		if _, err := e.s.Run(context.Background(), date); err != nil {
			t.Fatal(err)
		}
	}
	want := "[a 2026-11-20 1/1 a 2026-11-23 3/3]"
	if got := fmt.Sprint(daily(t, e.path)); got != want {
		t.Errorf("daily = %s, want %s (cumulative, never decreasing, no row for a skipped day)", got, want)
	}
}

// TestRetention: with Retain(n), each snapshot deletes the dimension rows of days older than n
// days, and nothing else.
func TestRetention(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 24, 0, 5, 0, 0, time.UTC))
	w := storetest.Write(t, bolt.Options{Now: clk.Now})
	r, path := storetest.Read(t, sqlite.Options{Now: clk.Now})
	ctx := context.Background()
	site := item.SiteOwner("example.com")
	var rows []item.DimCount
	for _, day := range []string{"2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"} {
		rows = append(rows, item.DimCount{Owner: site, Day: day, Dim: item.DimReferrer, Value: "news.example.org", Views: 1, Visitors: 1})
	}
	if err := r.UpsertDims(ctx, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := New(w, r, clk.Now, storetest.Log()).Retain(2).Run(ctx, session.Yesterday(clk.Now())); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var first string
	var n int
	if err := db.QueryRow(`SELECT date(MIN(day) * 86400, 'unixepoch'), COUNT(*) FROM dimension_daily`).Scan(&first, &n); err != nil {
		t.Fatal(err)
	}
	if first != "2026-11-22" || n != 2 {
		t.Errorf("after a snapshot keeping 2 days: %d rows from %s, want the 2 from 2026-11-22", n, first)
	}
}
