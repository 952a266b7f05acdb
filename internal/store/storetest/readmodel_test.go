package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// The conformance suite of the read models: every read model gives the same answers to the
// same writes. The dashboard's queries, each with fixtures in which every behaviour under test gives a
// different answer: unique and total rank items differently, likes differently again.

var day0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func counted(site, typ, slug string, unique, total, likes int64) item.Counted {
	return item.Counted{Item: item.Item{Site: site, Type: typ, Slug: slug}, Counts: item.Counts{Unique: unique, Total: total, Likes: likes}}
}

// seedDays writes snapshots of days day0..day0+2; b did not change on day 1, so it has no row.
func seedDays(t *testing.T, db storetest.ReadModel) {
	t.Helper()
	ctx := context.Background()
	days := [][]item.Counted{
		{counted("a.com", "blog", "a", 1, 2, 0), counted("a.com", "blog", "b", 1, 1, 0), counted("a.com", "page", "/x", 5, 5, 0)},
		{counted("a.com", "blog", "a", 3, 6, 0), counted("a.com", "page", "/x", 5, 7, 0)},
		{counted("a.com", "blog", "a", 4, 9, 0), counted("a.com", "blog", "b", 2, 4, 0), counted("a.com", "page", "/x", 6, 8, 0), counted("b.com", "blog", "z", 1, 1, 0)},
	}
	for i, rows := range days {
		d := day0.AddDate(0, 0, i)
		if err := db.UpsertDaily(ctx, d, rows); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkSnapshot(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSiteAndSites(t *testing.T) {
	storetest.ReadModels(t, nil, testSiteAndSites)
}

func testSiteAndSites(t *testing.T, db storetest.ReadModel) {
	ctx := context.Background()
	if err := db.UpsertCounts(ctx, []item.Counted{
		counted("a.com", "blog", "a", 4, 9, 3), counted("a.com", "blog", "b", 2, 4, 1), counted("a.com", "page", "/x", 6, 8, 0),
		counted("b.com", "blog", "z", 100, 100, 7),
	}); err != nil {
		t.Fatal(err)
	}
	sites, err := db.Sites(ctx)
	if err != nil || strings.Join(sites, " ") != "b.com a.com" {
		t.Errorf("Sites = %v %v, want b.com (100 views) before a.com (21)", sites, err)
	}
	s, err := db.Site(ctx, "a.com")
	if err != nil {
		t.Fatal(err)
	}
	want := report.Site{ByType: report.TypeTotals{"blog": {Unique: 6, Total: 13}, "page": {Unique: 6, Total: 8}}, ItemsByType: map[string]int{"blog": 2, "page": 1}, Likes: 4}
	if fmt.Sprint(s) != fmt.Sprint(want) || s.ByType.Sum() != (report.Totals{Unique: 12, Total: 21}) {
		t.Errorf("Site(a.com) = %+v, want %+v", s, want)
	}
	if s.Items(nil) != 3 || s.Items([]string{"blog"}) != 2 || s.ByType.Only([]string{"page"}).Sum().Total != 8 {
		t.Errorf("Site(a.com) by type: %d items, %d blog items, page totals %+v", s.Items(nil), s.Items([]string{"blog"}), s.ByType.Only([]string{"page"}))
	}
	if s, err := db.Site(ctx, "none.com"); err != nil || s.Items(nil) != 0 || len(s.ByType) != 0 {
		t.Errorf("Site of an unknown site = %+v %v", s, err)
	}
}

func TestSeries(t *testing.T) {
	storetest.ReadModels(t, nil, testSeries)
}

func testSeries(t *testing.T, db storetest.ReadModel) {
	seedDays(t, db)
	ctx := context.Background()
	pts, err := db.SiteSeries(ctx, "a.com", nil, day0.AddDate(0, 0, -1), day0.AddDate(0, 0, 3))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pts {
		got = append(got, fmt.Sprintf("%s:%v:%d/%d", p.Date, p.Known, p.Totals.Unique, p.Totals.Total))
	}
	// Each day sums every item's latest row on or before it: b's day 0 on day 1, day 2's on day 3.
	want := "2026-11-19:false:0/0 2026-11-20:true:7/8 2026-11-21:true:9/14 2026-11-22:true:12/21 2026-11-23:true:12/21"
	if strings.Join(got, " ") != want {
		t.Errorf("SiteSeries = %s\nwant        %s", strings.Join(got, " "), want)
	}
	// Only some types: the others (client events) are left out.
	pts, err = db.SiteSeries(ctx, "a.com", []string{"blog"}, day0, day0.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, p := range pts {
		got = append(got, fmt.Sprintf("%d/%d", p.Totals.Unique, p.Totals.Total))
	}
	if strings.Join(got, " ") != "2/3 4/7 6/13" {
		t.Errorf("SiteSeries of blog only = %v, want 2/3 4/7 6/13", got)
	}
	pts, err = db.ItemSeries(ctx, item.Item{Site: "a.com", Type: "blog", Slug: "b"}, day0, day0.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, p := range pts {
		got = append(got, fmt.Sprintf("%v:%d", p.Known, p.Totals.Total))
	}
	if strings.Join(got, " ") != "true:1 true:1 true:4" {
		t.Errorf("ItemSeries of b = %v: the day without a row holds the row before it", got)
	}
	pts, err = db.ItemSeries(ctx, item.Item{Site: "a.com", Type: "blog", Slug: "b"}, day0.AddDate(0, 0, -2), day0.AddDate(0, 0, -1))
	if err != nil || len(pts) != 2 || pts[0].Known || pts[1].Known {
		t.Errorf("ItemSeries before b's first row = %+v %v, want two unknown days", pts, err)
	}
	tt, err := db.SnapshotTotals(ctx, "a.com", day0.AddDate(0, 0, 1))
	if err != nil || fmt.Sprint(tt) != fmt.Sprint(report.TypeTotals{"blog": {Unique: 4, Total: 7}, "page": {Unique: 5, Total: 7}}) {
		t.Errorf("SnapshotTotals = %v %v", tt, err)
	}
	last, ok, err := db.LastSnapshot(ctx)
	if err != nil || !ok || !last.Equal(day0.AddDate(0, 0, 2)) {
		t.Errorf("LastSnapshot = %v %v %v", last, ok, err)
	}
}

func TestItemsQuery(t *testing.T) {
	start := day0.AddDate(0, 0, 3).Add(10 * time.Hour)
	clk := clock.NewFake(start)
	storetest.ReadModels(t, clk.Now, func(t *testing.T, db storetest.ReadModel) {
		clk.Set(start)
		testItemsQuery(t, db, clk)
	})
}

func testItemsQuery(t *testing.T, db storetest.ReadModel, clk *clock.Fake) {
	seedDays(t, db)
	ctx := context.Background()
	clock := clk.Now()
	for i, r := range []item.Counted{ // flushed in this order, a minute apart: "/x" is the most recent
		counted("a.com", "blog", "a", 4, 12, 1), counted("a.com", "blog", "b", 9, 10, 2), counted("a.com", "blog", "100%_off", 1, 1, 0),
		counted("a.com", "page", "/x", 6, 11, 0), counted("b.com", "blog", "z", 50, 50, 0),
	} {
		clk.Set(clock.Add(time.Duration(i) * time.Minute))
		if err := db.UpsertCounts(ctx, []item.Counted{r}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		q     report.ItemQuery
		want  string // slug:recent, in order
		total int
	}{
		{report.ItemQuery{Sort: "total"}, "a:3 /x:3 b:6 100%_off:1", 4},
		{report.ItemQuery{}, "a:3 /x:3 b:6 100%_off:1", 4},
		{report.ItemQuery{Sort: "unique"}, "b:6 /x:3 a:3 100%_off:1", 4},
		{report.ItemQuery{Sort: "recent"}, "/x:3 100%_off:1 b:6 a:3", 4},
		{report.ItemQuery{Sort: "total", Search: "PAGE"}, "/x:3", 1},
		{report.ItemQuery{Sort: "total", Search: "%"}, "100%_off:1", 1},
		{report.ItemQuery{Sort: "total", Search: "_"}, "100%_off:1", 1},
		{report.ItemQuery{Sort: "total", Offset: 1, Limit: 2}, "/x:3 b:6", 4},
		{report.ItemQuery{Sort: "total", Types: []string{"page"}}, "/x:3", 1},
		{report.ItemQuery{Sort: "unique", Types: []string{"blog", "home"}, Offset: 1, Limit: 1}, "a:3", 3},
		{report.ItemQuery{Sort: "total", Types: []string{"blog"}, Search: "page"}, "", 0},
		{report.ItemQuery{Sort: "total", Types: []string{}}, "", 0},
	}
	for _, tt := range tests {
		tt.q.Site = "a.com"
		tt.q.RecentSince = day0.AddDate(0, 0, 2) // views after the end of day 2
		if tt.q.Limit == 0 {
			tt.q.Limit = -1
		}
		rows, n, err := db.Items(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s:%d", r.Slug, r.Recent))
		}
		if strings.Join(got, " ") != tt.want || n != tt.total {
			t.Errorf("Items(%+v) = %v (%d), want %s (%d)", tt.q, got, n, tt.want, tt.total)
		}
	}
	it, ok, err := db.Item(ctx, item.Item{Site: "a.com", Type: "blog", Slug: "b"})
	if err != nil || !ok || it.Unique != 9 || it.Total != 10 || it.Likes != 2 || !it.LastSyncedAt.Equal(clock.Add(time.Minute)) {
		t.Errorf("Item(b) = %+v %v %v", it, ok, err)
	}
	if _, ok, err := db.Item(ctx, item.Item{Site: "a.com", Type: "blog", Slug: "never"}); ok || err != nil {
		t.Errorf("Item of an unknown item: ok=%v err=%v", ok, err)
	}
}

// TestItemsAtScale: the item table's count stops past report.MaxItemCount, so a page costs
// what the page costs; a search finds rare and common items alike, counts rare ones exactly,
// and the site's totals and the rollup count every item.
func TestItemsAtScale(t *testing.T) {
	storetest.ReadModels(t, nil, func(t *testing.T, db storetest.ReadModel) {
		ctx := context.Background()
		n := 2*report.MaxItemCount + 50 // enough for SQLite to search through its trigram index
		rows := make([]item.Counted, n)
		for i := range rows {
			rows[i] = counted("big.com", "blog", fmt.Sprintf("post-%05d", i), int64(i%7), int64(i%7+i%3), 0)
		}
		if err := db.UpsertCounts(ctx, rows); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			search string
			first  string
			total  int
		}{
			// Most views first: 8 (6 + 2) first at post-00020; the count from the rollup, exact.
			{"", "post-00020", n},
			{"post", "post-00020", report.MaxItemCount + 1}, // past the bound: "10,000+"
			{"POST-0100", "post-01007", 10},                 // rare: through the trigram index, exact
			{"-1004", "post-10043", 10},                     // post-1004x, not post-01004
			{"49", "post-01049", 599},                       // too short for trigrams: read in order
			{"blog post-0000", "", 0},                       // type and slug are not one text
		}
		for _, tt := range tests {
			page, total, err := db.Items(ctx, report.ItemQuery{Site: "big.com", Sort: "total", Search: tt.search, Limit: 3, RecentSince: day0})
			if err != nil {
				t.Fatal(err)
			}
			first := ""
			if len(page) > 0 {
				first = page[0].Slug
			}
			if first != tt.first || total != tt.total {
				t.Errorf("search %q: first %q of %d, want %q of %d", tt.search, first, total, tt.first, tt.total)
			}
		}
		s, err := db.Site(ctx, "big.com")
		if err != nil || s.Items(nil) != n {
			t.Errorf("Site(big.com) = %d items %v, want %d", s.Items(nil), err, n)
		}
	})
}

func TestLastFlush(t *testing.T) {
	at := time.Date(2026, 11, 24, 12, 15, 0, 0, time.UTC)
	storetest.ReadModels(t, func() time.Time { return at }, func(t *testing.T, db storetest.ReadModel) {
		testLastFlush(t, db, at)
	})
}

func testLastFlush(t *testing.T, db storetest.ReadModel, at time.Time) {
	ctx := context.Background()
	if _, ok, err := db.LastFlush(ctx); ok || err != nil {
		t.Fatalf("fresh read model: LastFlush ok=%v err=%v", ok, err)
	}
	if err := db.RecordFlush(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := db.LastFlush(ctx); !ok || err != nil || !got.Equal(at) {
		t.Errorf("LastFlush = %v %v %v, want %v", got, ok, err, at)
	}
}

// TestExcluded: the read model overwrites per-day totals and sums them over the days asked,
// reasons apart from bots, most first.
func TestExcluded(t *testing.T) {
	storetest.ReadModels(t, nil, func(t *testing.T, db storetest.ReadModel) {
		ctx := context.Background()
		ex := func(site, day, kind, name string, n int64) item.Excluded {
			return item.Excluded{Site: site, Day: day, Kind: kind, Name: name, Count: n}
		}
		rows := []item.Excluded{
			ex("a.com", "2026-11-20", "reason", "bot", 100), ex("a.com", "2026-11-21", "reason", "bot", 5),
			ex("a.com", "2026-11-22", "reason", "bot", 1), ex("a.com", "2026-11-22", "reason", "prefetch", 3),
			ex("a.com", "2026-11-21", "bot", "Googlebot", 2), ex("a.com", "2026-11-22", "bot", "bingbot", 1),
			ex("a.com", "2026-11-22", "bot", "Googlebot", 1), ex("b.com", "2026-11-22", "reason", "webdriver", 9),
		}
		// Twice, then a newer total for one day: overwritten, never added.
		for range 2 {
			if err := db.UpsertExcluded(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.UpsertExcluded(ctx, []item.Excluded{ex("a.com", "2026-11-22", "reason", "bot", 2)}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Excluded(ctx, "a.com", day0.AddDate(0, 0, 1), day0.AddDate(0, 0, 2))
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(got.Reasons, got.Bots); s != "[{bot 7} {prefetch 3}] [{Googlebot 3} {bingbot 1}]" {
			t.Errorf("Excluded(a.com, 21st–22nd) = %s", s)
		}
		if got, err := db.Excluded(ctx, "c.com", day0, day0.AddDate(0, 0, 5)); err != nil || len(got.Reasons)+len(got.Bots) != 0 {
			t.Errorf("Excluded of a site with none = %+v %v", got, err)
		}
		// --retention-days prunes these rows too: days before the 22nd go.
		if n, err := db.PruneDays(ctx, day0.AddDate(0, 0, 2)); err != nil || n != 3 {
			t.Errorf("PruneDays before the 22nd = %d %v, want the 3 rows of the 20th and 21st", n, err)
		}
		got, _ = db.Excluded(ctx, "a.com", day0, day0.AddDate(0, 0, 5))
		if s := fmt.Sprint(got.Reasons, got.Bots); s != "[{prefetch 3} {bot 2}] [{Googlebot 1} {bingbot 1}]" {
			t.Errorf("after PruneDays: %s", s)
		}
	})
}
