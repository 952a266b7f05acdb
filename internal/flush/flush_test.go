package flush

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/store/storetest"
)

var noon = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

type env struct {
	write *bolt.Store
	read  *sqlite.DB
	path  string // read.db
	f     *Flusher
	clk   *clock.Fake
}

func newEnv(t *testing.T, busy time.Duration) *env {
	t.Helper()
	clk := clock.NewFake(noon)
	w := storetest.Write(t, bolt.Options{Now: clk.Now})
	r, path := storetest.Read(t, sqlite.Options{Now: clk.Now, BusyTimeout: busy})
	return &env{write: w, read: r, path: path, f: New(w, r, storetest.Log()), clk: clk}
}

func (e *env) view(t *testing.T, slug, visitor string) {
	t.Helper()
	it := item.Item{Site: "example.com", Type: "blog", Slug: slug}
	if err := e.write.Record(context.Background(), item.View{Item: it, Session: storetest.SID(visitor, e.clk.Now())}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) flush(t *testing.T) Result {
	t.Helper()
	res, err := e.f.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// rows reads view_counts through its own connection, as any SQLite client would.
func rows(t *testing.T, path string) map[string][2]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(`SELECT slug, unique_views, total_views FROM view_counts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string][2]int64{}
	for rs.Next() {
		var slug string
		var u, n int64
		if err := rs.Scan(&slug, &u, &n); err != nil {
			t.Fatal(err)
		}
		out[slug] = [2]int64{u, n}
	}
	return out
}

func TestFlushIsIdempotent(t *testing.T) {
	e := newEnv(t, 0)
	e.view(t, "a", "v1")
	e.view(t, "a", "v1")
	e.view(t, "a", "v2")
	e.view(t, "b", "v1")

	if res := e.flush(t); res.Items != 2 {
		t.Errorf("first flush wrote %d items, want 2", res.Items)
	}
	want := map[string][2]int64{"a": {2, 3}, "b": {1, 1}}
	if got := rows(t, e.path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("rows = %v, want %v", got, want)
	}
	if res := e.flush(t); res.Items != 0 {
		t.Errorf("second flush with nothing new wrote %d items, want 0", res.Items)
	}
	if got := rows(t, e.path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows after second flush = %v, want %v", got, want)
	}
}

func TestFlushTouchesOnlyDirtyItems(t *testing.T) {
	e := newEnv(t, 0)
	e.view(t, "a", "v1")
	e.view(t, "b", "v1")
	e.flush(t)

	// Mark b's row so that a flush that rewrote it would be seen.
	db, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE view_counts SET total_views = 999 WHERE slug = 'b'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	e.view(t, "a", "v2")
	if res := e.flush(t); res.Items != 1 {
		t.Errorf("flush wrote %d items, want only the 1 that changed", res.Items)
	}
	got := rows(t, e.path)
	if got["a"] != [2]int64{2, 2} {
		t.Errorf("a = %v, want [2 2]", got["a"])
	}
	if got["b"][1] != 999 {
		t.Errorf("b was rewritten (%v) although it did not change", got["b"])
	}
}

func TestFailedFlushKeepsMarks(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	e.view(t, "a", "v1")
	e.view(t, "b", "v1")

	// Another process holds SQLite's write lock.
	locker, err := sql.Open("sqlite", e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	conn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.f.Run(context.Background()); err == nil {
		t.Fatal("flush succeeded while the read model was locked")
	}
	if n, _ := e.write.DirtyLen(context.Background()); n != 2 {
		t.Errorf("%d items dirty after the failed flush, want 2", n)
	}
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	e.view(t, "a", "v2")
	if res := e.flush(t); res.Items != 2 {
		t.Errorf("recovery flush wrote %d items, want 2", res.Items)
	}
	want := map[string][2]int64{"a": {2, 2}, "b": {1, 1}}
	if got := rows(t, e.path); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
}

// TestCrashBetweenStores writes the read model but never clears the marks, as a flush killed
// between the two would; the next flush writes the same rows again.
func TestCrashBetweenStores(t *testing.T) {
	e := newEnv(t, 0)
	e.view(t, "a", "v1")
	e.view(t, "a", "v2")
	changes, err := e.write.Dirty(context.Background(), item.Item{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.read.UpsertCounts(context.Background(), []item.Counted{changes[0].Counted}); err != nil {
		t.Fatal(err)
	}
	before := rows(t, e.path)
	e.flush(t)
	if after := rows(t, e.path); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("re-run after a crash changed rows from %v to %v", before, after)
	}
}

func TestConcurrentFlushesAgree(t *testing.T) {
	e := newEnv(t, 0)
	for i := range 50 {
		e.view(t, fmt.Sprint(i%7), fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := e.f.Run(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := rows(t, e.path)
	var total int64
	for _, r := range got {
		total += r[1]
	}
	if len(got) != 7 || total != 50 {
		t.Errorf("after concurrent flushes: %d items, %d views; want 7 items, 50 views", len(got), total)
	}
}

func TestLastFlushIsRecorded(t *testing.T) {
	e := newEnv(t, 0)
	if _, ok, _ := e.read.LastFlush(context.Background()); ok {
		t.Fatal("a fresh read model reports a flush")
	}
	e.flush(t)
	at, ok, err := e.read.LastFlush(context.Background())
	if err != nil || !ok || !at.Equal(noon) {
		t.Errorf("LastFlush = %v, %v, %v; want %v", at, ok, err, noon)
	}
}
