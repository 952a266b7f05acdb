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
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// pageView is a page view of it by visitor who at now, from referrer ref, in Firefox on Linux.
func pageView(it item.Item, who string, now time.Time, ref string) item.View {
	var d item.Dims
	d[item.DimReferrer], d[item.DimBrowser], d[item.DimBrowserVersion] = ref, "Firefox", "Firefox 133"
	d[item.DimOS], d[item.DimDevice] = "Linux", "desktop"
	return item.View{Item: it, Session: storetest.SID(who, now), Page: true, Dims: d}
}

// dimRows reads every changed (owner, day) pair as "site/type/slug day dim=value" → views/visitors.
func dimRows(t *testing.T, w storetest.WriteModel) (map[string]string, []item.DimChange) {
	t.Helper()
	var all []item.DimChange
	var after item.DimChange
	for {
		page, err := w.DimsDirty(context.Background(), after, 2) // small pages: paging is part of it
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1]
	}
	out := map[string]string{}
	for _, ch := range all {
		for _, r := range ch.Rows {
			if r.Owner != ch.Owner || r.Day != ch.Day {
				t.Errorf("row %+v under pair %v %s", r, ch.Owner, ch.Day)
			}
			k := fmt.Sprintf("%s/%s/%s %s %s=%s", r.Owner.Site, r.Owner.Type, r.Owner.Slug, r.Day, r.Dim, r.Value)
			out[k] = fmt.Sprintf("%d/%d", r.Views, r.Visitors)
		}
	}
	return out, all
}

func TestWriteModelDimensions(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		hn := "news.ycombinator.com"
		cv := item.Item{Site: hello.Site, Type: "download", Slug: "cv.pdf"}
		for _, v := range []item.View{
			pageView(hello, "a", noon, hn),
			pageView(other, "a", noon, item.Direct), // the same reader goes on: no new site visitor
			pageView(hello, "b", noon, hn),
			pageView(hello, "b", noon, hn),                // a repeat: a view, not a visitor
			{Item: cv, Session: storetest.SID("a", noon)}, // a client event: no site rows
		} {
			if err := w.Record(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		rows, _ := dimRows(t, w)
		day := "2026-11-24"
		site := hello.Site + "//"
		for k, want := range map[string]string{
			site + " " + day + " =":                                     "4/2",
			site + " " + day + " referrer=" + hn:                        "3/2",
			site + " " + day + " referrer=(direct)":                     "1/0",
			site + " " + day + " browser=Firefox":                       "4/2",
			site + " " + day + " browser_version=Firefox 133":           "4/2",
			site + " " + day + " os=Linux":                              "4/2",
			site + " " + day + " device=desktop":                        "4/2",
			"blog.example.com/blog/hello " + day + " referrer=" + hn:    "3/2",
			"blog.example.com/blog/other " + day + " referrer=(direct)": "1/1",
			"blog.example.com/download/cv.pdf " + day + " =":            "1/1",
		} {
			if rows[k] != want {
				t.Errorf("%s = %q, want %q", k, rows[k], want)
			}
		}
		for _, k := range []string{"blog/hello " + day + " browser=Firefox", "blog/hello " + day + " ="} {
			if _, ok := rows["blog.example.com/"+k]; ok {
				t.Errorf("an item got %s: pages keep their sources only, the site everything", k)
			}
		}
		if len(rows) != 10 { // 7 of the site, the referrer of each page, the event's totals
			t.Errorf("%d rows, want 10: %v", len(rows), rows)
		}

		// Flushed pairs are clean until a view changes them again; a new day makes everyone a
		// new visitor.
		_, flushed := dimRows(t, w)
		if err := w.CleanDims(ctx, flushed); err != nil {
			t.Fatal(err)
		}
		if rows, _ := dimRows(t, w); len(rows) != 0 {
			t.Errorf("after CleanDims: %v", rows)
		}
		// Rebuilding a read model marks everything the write model holds, rows included.
		if _, err := w.MarkAllDirty(ctx); err != nil {
			t.Fatal(err)
		}
		again, changes := dimRows(t, w)
		if len(again) != 10 {
			t.Errorf("after MarkAllDirty: %d rows, want the 10 held", len(again))
		}
		if err := w.CleanDims(ctx, changes); err != nil {
			t.Fatal(err)
		}
		tomorrow := noon.Add(24 * time.Hour)
		clk.Set(tomorrow)
		if err := w.Record(ctx, pageView(hello, "a", tomorrow, hn)); err != nil {
			t.Fatal(err)
		}
		rows, flushed = dimRows(t, w)
		if got := rows[site+" 2026-11-25 ="]; got != "1/1" {
			t.Errorf("next day, site totals = %q, want 1/1 (a new day, a new visitor)", got)
		}
		if _, ok := rows[site+" "+day+" ="]; ok {
			t.Error("yesterday's rows are dirty again")
		}

		// Two days on, once flushed, the first day's rows leave the write model; yesterday's stay.
		if err := w.CleanDims(ctx, flushed); err != nil {
			t.Fatal(err)
		}
		clk.Set(noon.Add(48 * time.Hour))
		if err := w.PruneDims(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.MarkAllDirty(ctx); err != nil {
			t.Fatal(err)
		}
		rows, _ = dimRows(t, w)
		if _, ok := rows[site+" "+day+" ="]; ok {
			t.Errorf("after PruneDims two days on, %s is still held: %v", day, rows)
		}
		if rows[site+" 2026-11-25 ="] != "1/1" {
			t.Errorf("after PruneDims, yesterday's rows are gone too: %v", rows)
		}
	})
}

func TestWriteModelDimensionValuesAreCapped(t *testing.T) {
	clk := clock.NewFake(noon)
	for name, open := range map[string]func(t *testing.T) storetest.WriteModel{
		"bbolt": func(t *testing.T) storetest.WriteModel {
			return storetest.Write(t, bolt.Options{Now: clk.Now, MaxDimValues: 2})
		},
		"redis": func(t *testing.T) storetest.WriteModel {
			return storetest.Redis(t, redis.Options{Now: clk.Now, MaxDimValues: 2})
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := open(t)
			for i, ref := range []string{"a.example", "b.example", "c.example", "a.example", "d.example"} {
				if err := w.Record(context.Background(), pageView(hello, fmt.Sprint("v", i), noon, ref)); err != nil {
					t.Fatal(err)
				}
			}
			rows, _ := dimRows(t, w)
			pre := hello.Site + "// 2026-11-24 referrer="
			for value, want := range map[string]string{"a.example": "2/2", "b.example": "1/1", item.Other: "2/2"} {
				if rows[pre+value] != want {
					t.Errorf("%s = %q, want %q", value, rows[pre+value], want)
				}
			}
			if _, ok := rows[pre+"c.example"]; ok {
				t.Error("a third value was kept past the cap of 2")
			}
		})
	}
}

func TestWriteModelRealtime(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		for _, v := range []item.View{pageView(hello, "a", noon, ""), pageView(hello, "b", noon, ""),
			pageView(other, "a", noon, ""), {Item: item.Item{Site: hello.Site, Type: "download", Slug: "x"}, Session: storetest.SID("c", noon)}} {
			if err := w.Record(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		clk.Add(10 * time.Minute)
		live, err := w.Realtime(ctx, hello.Site)
		if err != nil {
			t.Fatal(err)
		}
		if live.Views != 3 || live.Visitors != 2 || len(live.Pages) != 2 || live.Pages[0].Item != hello || live.Pages[0].Views != 2 {
			t.Errorf("Realtime = %+v, want 3 page views by 2 visitors, hello first with 2", live)
		}
		if other, _ := w.Realtime(ctx, "elsewhere.example"); other.Views != 0 {
			t.Errorf("another site's live views = %+v", other)
		}
		clk.Add(21 * time.Minute)
		if live, _ := w.Realtime(ctx, hello.Site); live.Views != 0 || live.Visitors != 0 || len(live.Pages) != 0 {
			t.Errorf("31 minutes later: %+v, want nothing", live)
		}
	})
}

// dimensionRows is what the read model conformance tests write.
var dimensionRows = []item.DimCount{
	{Owner: item.SiteOwner("blog.example.com"), Day: "2026-11-23", Dim: item.DimTotal, Views: 10, Visitors: 4},
	{Owner: item.SiteOwner("blog.example.com"), Day: "2026-11-24", Dim: item.DimTotal, Views: 6, Visitors: 3},
	{Owner: item.SiteOwner("blog.example.com"), Day: "2026-11-23", Dim: item.DimReferrer, Value: "news.ycombinator.com", Views: 7, Visitors: 3},
	{Owner: item.SiteOwner("blog.example.com"), Day: "2026-11-24", Dim: item.DimReferrer, Value: "news.ycombinator.com", Views: 1, Visitors: 1},
	{Owner: item.SiteOwner("blog.example.com"), Day: "2026-11-24", Dim: item.DimReferrer, Value: item.Direct, Views: 5, Visitors: 2},
	{Owner: hello, Day: "2026-11-23", Dim: item.DimReferrer, Value: "news.ycombinator.com", Views: 7, Visitors: 3},
	{Owner: other, Day: "2026-11-24", Dim: item.DimReferrer, Value: "news.ycombinator.com", Views: 1, Visitors: 1},
	{Owner: item.Item{Site: "blog.example.com", Type: "download", Slug: "cv.pdf"}, Day: "2026-11-24", Dim: item.DimTotal, Views: 3, Visitors: 2},
}

func TestReadModelDimensions(t *testing.T) {
	storetest.ReadModels(t, func() time.Time { return noon }, func(t *testing.T, db storetest.ReadModel) {
		ctx := context.Background()
		if err := db.UpsertDims(ctx, dimensionRows); err != nil {
			t.Fatal(err)
		}
		// A later flush overwrites a day's row with its newer cumulative numbers.
		newer := dimensionRows[4]
		newer.Views, newer.Visitors = 6, 3
		if err := db.UpsertDims(ctx, []item.DimCount{newer}); err != nil {
			t.Fatal(err)
		}
		first, last := noon.AddDate(0, 0, -6), noon
		got, err := db.Breakdown(ctx, report.DimQuery{Site: "blog.example.com", Dim: "referrer", First: first, Last: last})
		want := []report.DimRow{{Value: "news.ycombinator.com", Views: 8, Visitors: 4}, {Value: item.Direct, Views: 6, Visitors: 3}}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Breakdown = %v %v, want %v", got, err, want)
		}
		got, _ = db.Breakdown(ctx, report.DimQuery{Site: "blog.example.com", Type: "blog", Slug: "hello", Dim: "referrer", First: first, Last: last, Limit: 1})
		if fmt.Sprint(got) != fmt.Sprint([]report.DimRow{{Value: "news.ycombinator.com", Views: 7, Visitors: 3}}) {
			t.Errorf("one item's Breakdown = %v", got)
		}
		if got, _ := db.Breakdown(ctx, report.DimQuery{Site: "blog.example.com", Dim: "referrer", First: last, Last: last}); len(got) != 2 || got[0].Value != item.Direct {
			t.Errorf("today's Breakdown = %v, want (direct) first", got)
		}
		days, err := db.DimDays(ctx, report.DimQuery{Site: "blog.example.com", First: first, Last: last})
		if err != nil || fmt.Sprint(days) != fmt.Sprint([]report.DimDay{{Date: "2026-11-23", Views: 10, Visitors: 4}, {Date: "2026-11-24", Views: 6, Visitors: 3}}) {
			t.Errorf("DimDays = %v %v", days, err)
		}
		items, err := db.DimItems(ctx, report.OwnerQuery{Site: "blog.example.com", Dim: "referrer", Value: "news.ycombinator.com", First: first, Last: last})
		if err != nil || fmt.Sprint(items) != fmt.Sprint([]report.OwnerRow{{Type: "blog", Slug: "hello", Views: 7, Visitors: 3}, {Type: "blog", Slug: "other", Views: 1, Visitors: 1}}) {
			t.Errorf("DimItems by referrer = %v %v", items, err)
		}
		events, err := db.DimItems(ctx, report.OwnerQuery{Site: "blog.example.com", First: first, Last: last})
		if err != nil || fmt.Sprint(events) != fmt.Sprint([]report.OwnerRow{{Type: "download", Slug: "cv.pdf", Views: 3, Visitors: 2}}) {
			t.Errorf("DimItems of events = %v %v", events, err)
		}
		if n, err := db.PruneDays(ctx, noon); err != nil || n != 3 {
			t.Errorf("PruneDays before today = %d %v, want the 3 rows of yesterday", n, err)
		}
		if days, _ := db.DimDays(ctx, report.DimQuery{Site: "blog.example.com", First: first, Last: last}); len(days) != 1 {
			t.Errorf("after PruneDays: %v", days)
		}
	})
}

// TestWriteModelEventVisitorsAreViewers: an event's visitors are the site's visitors of the day
// who did it, so a conversion rate never passes 100%: events from sessions that viewed no page
// of the site count as events, not as visitors.
func TestWriteModelEventVisitorsAreViewers(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, _ *clock.Fake) {
		ctx := context.Background()
		cv := item.Item{Site: hello.Site, Type: "download", Slug: "cv.pdf"}
		event := func(who string) {
			if err := w.Record(ctx, item.View{Item: cv, Session: storetest.SID(who, noon)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 20 { // twenty sessions that never viewed a page
			event(fmt.Sprint("drive-by", i))
		}
		if err := w.Record(ctx, pageView(hello, "reader", noon, "")); err != nil {
			t.Fatal(err)
		}
		event("reader")
		event("reader") // once a day
		rows, _ := dimRows(t, w)
		if got := rows["blog.example.com/download/cv.pdf 2026-11-24 ="]; got != "22/1" {
			t.Errorf("the event's views/visitors = %q, want 22/1: only the reader who viewed a page", got)
		}
		if got := rows["blog.example.com// 2026-11-24 ="]; got != "1/1" {
			t.Errorf("the site's views/visitors = %q, want 1/1", got)
		}
	})
}

// TestWriteModelFairShares: whoever fills a site's day first does not own it. One client
// network brings at most item.MaxNewValuesPerNetwork new values of a dimension, one registrable
// domain at most item.MaxHostsPerDomain referrer hosts (the rest count as the domain), and a
// real reader's source that arrives after a spray of a thousand spam referrers still shows.
// Page rows of a source dimension are bounded by the same cap as the site's values.
func TestWriteModelFairShares(t *testing.T) {
	clk := clock.NewFake(noon)
	for name, open := range map[string]func(t *testing.T, maxValues int) storetest.WriteModel{
		"bbolt": func(t *testing.T, maxValues int) storetest.WriteModel {
			return storetest.Write(t, bolt.Options{Now: clk.Now, MaxDimValues: maxValues})
		},
		"redis": func(t *testing.T, maxValues int) storetest.WriteModel {
			return storetest.Redis(t, redis.Options{Now: clk.Now, MaxDimValues: maxValues})
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			send := func(w storetest.WriteModel, it item.Item, who, network, ref string) {
				t.Helper()
				v := pageView(it, who, noon, ref)
				v.Network = storetest.SID(network, noon)
				if err := w.Record(ctx, v); err != nil {
					t.Fatal(err)
				}
			}
			w := open(t, item.DefaultMaxDimValues)
			for i := range 1000 { // one address sprays a thousand spam domains
				send(w, hello, fmt.Sprint("spammer", i), "spam-net", fmt.Sprintf("spam%d.example", i))
			}
			for i := range 15 { // another network, fifteen hosts of one domain
				send(w, hello, fmt.Sprint("subdomains", i), "other-net", fmt.Sprintf("a%d.spam.test", i))
			}
			send(w, hello, "reader", "reader-net", "news.ycombinator.com")
			rows, _ := dimRows(t, w)
			site := hello.Site + "// 2026-11-24 referrer="
			var spam, hosts int
			for k := range rows {
				switch {
				case strings.HasPrefix(k, site+"spam") && strings.HasSuffix(k, ".example"):
					spam++
				case strings.HasPrefix(k, site+"a") && strings.HasSuffix(k, ".spam.test"):
					hosts++
				}
			}
			if spam != item.MaxNewValuesPerNetwork || rows[site+item.Other] != "980/980" {
				t.Errorf("one network kept %d spam referrers and %q as (other), want %d and 980/980", spam, rows[site+item.Other], item.MaxNewValuesPerNetwork)
			}
			if hosts != item.MaxHostsPerDomain || rows[site+"spam.test"] != "5/5" {
				t.Errorf("one domain kept %d hosts and %q as spam.test, want %d and 5/5", hosts, rows[site+"spam.test"], item.MaxHostsPerDomain)
			}
			if rows[site+"news.ycombinator.com"] != "1/1" {
				t.Errorf("the real reader's source after the spray: %q, want 1/1", rows[site+"news.ycombinator.com"])
			}

			// Page rows: with a cap of 3, the site's three values fill its page rows of the
			// day; a fourth (page, value) pair counts as that page's (other).
			w = open(t, 3)
			for i, ref := range []string{"a.example", "b.example", "c.example"} {
				send(w, hello, fmt.Sprint("v", i), fmt.Sprint("net", i), ref)
			}
			send(w, other, "v9", "net9", "a.example")
			rows, _ = dimRows(t, w)
			if got := rows["blog.example.com/blog/other 2026-11-24 referrer="+item.Other]; got != "1/1" {
				t.Errorf("a page row past the cap: %q under (other), want 1/1 (rows %v)", got, rows)
			}
			if got := rows["blog.example.com// 2026-11-24 referrer=a.example"]; got != "2/2" {
				t.Errorf("the site's a.example: %q, want 2/2", got)
			}
		})
	}
}

// TestWriteModelVisitorsPerClient: with --visitors-per-client, one client network adds at
// most that many visitors to a site a day, however many User-Agents it invents; its views
// still count, and a visitor over the bound is not one for the site's events either.
func TestWriteModelVisitorsPerClient(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, _ *clock.Fake) {
		ctx := context.Background()
		send := func(who, network string) {
			v := pageView(hello, who, noon, "")
			v.Network, v.VisitorCap = storetest.SID(network, noon), 3
			if err := w.Record(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 { // one address, ten made-up User-Agents
			send(fmt.Sprint("agent", i), "one-office")
		}
		send("reader", "home")
		send("reader", "home")
		send("other reader", "home")
		if err := w.Record(ctx, item.View{Item: item.Item{Site: hello.Site, Type: "download", Slug: "x"}, Session: storetest.SID("agent9", noon)}); err != nil {
			t.Fatal(err)
		}
		rows, _ := dimRows(t, w)
		if got := rows["blog.example.com// 2026-11-24 ="]; got != "13/5" {
			t.Errorf("the site's views/visitors = %q, want 13/5: 3 of the office's 10, and 2 from home", got)
		}
		if got := rows["blog.example.com/download/x 2026-11-24 ="]; got != "1/0" {
			t.Errorf("an event of a visitor past the bound = %q, want 1/0", got)
		}
	})
}
