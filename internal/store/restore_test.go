package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// TestRestoreRebuildsPostgresReadModel: a backup of a data directory whose read model is on
// PostgreSQL holds no read model; restoring it against an empty database rebuilds the read model
// in full from the write model, with every day's snapshot exactly as the original had it.
func TestRestoreRebuildsPostgresReadModel(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	src, dest, dir2 := t.TempDir(), filepath.Join(t.TempDir(), "backup"), t.TempDir()
	opts := func(url string) store.Options {
		return store.Options{ReadStore: url, Now: clk.Now, Write: bolt.Options{Now: clk.Now}}
	}
	st, err := store.Open(ctx, src, opts(storetest.PostgresURL(t)))
	if err != nil {
		t.Fatal(err)
	}
	fl := flush.New(st.Write, st.Read, storetest.Log())
	snap := snapshot.New(st.Write, st.Read, clk.Now, storetest.Log())
	for day := range 4 { // four days of views, a flush and the 00:05 snapshot each day
		clk.Set(time.Date(2026, 11, 20+day, 12, 0, 0, 0, time.UTC))
		for v := range day + 2 {
			slug := []string{"a", "b", "c"}[v%3]
			if err := st.Write.Record(ctx, item.View{Item: item.Item{Site: "example.com", Type: "blog", Slug: slug},
				Session: storetest.SID(fmt.Sprint(v), clk.Now())}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := fl.Run(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Add(12*time.Hour + 5*time.Minute)
		if _, err := snap.CatchUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := readModel(t, st.Read)
	m, err := st.Backup(ctx, dest, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if slices.Contains(m.Files, datadir.ReadFile) {
		t.Errorf("the backup holds a read model although it lives on PostgreSQL: %v", m.Files)
	}

	url2 := storetest.PostgresURL(t) // an empty database, as after losing the read model
	res, err := store.Restore(ctx, dest, dir2, opts(url2))
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 3 || res.Days != 4 {
		t.Errorf("restore flushed %d items and snapshotted %d days, want 3 and 4", res.Items, res.Days)
	}
	st2, err := store.Open(ctx, dir2, opts(url2))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if got := readModel(t, st2.Read); got != want || want == "" {
		t.Errorf("rebuilt read model:\n%s\nwant the original:\n%s", got, want)
	}
}

// readModel writes down what the dashboard would show: each item's counts and daily series.
func readModel(t *testing.T, r store.ReadModel) string {
	t.Helper()
	ctx := context.Background()
	items, _, err := r.Items(ctx, report.ItemQuery{Site: "example.com", Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for _, it := range items {
		pts, err := r.ItemSeries(ctx, item.Item{Site: it.Site, Type: it.Type, Slug: it.Slug},
			time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s %d/%d %v\n", it.Slug, it.Unique, it.Total, pts)
	}
	return out
}
