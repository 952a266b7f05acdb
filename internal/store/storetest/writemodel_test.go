package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// The conformance suite of the write models: bbolt and Redis keep the same promises.

var (
	hello = item.Item{Site: "blog.example.com", Type: "blog", Slug: "hello"}
	other = item.Item{Site: "blog.example.com", Type: "blog", Slug: "other"}
)

// eachWriteModel runs test on every write model with a fresh clock at start.
func eachWriteModel(t *testing.T, start time.Time, test func(t *testing.T, w storetest.WriteModel, clk *clock.Fake)) {
	clk := clock.NewFake(start)
	storetest.WriteModels(t, clk.Now, func(t *testing.T, w storetest.WriteModel) {
		clk.Set(start)
		test(t, w, clk)
	})
}

// view records a view and reports whether it was counted as unique.
func view(t *testing.T, w storetest.WriteModel, v item.View) bool {
	t.Helper()
	ctx := context.Background()
	before, err := w.Counts(ctx, v.Item)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Record(ctx, v); err != nil {
		t.Fatal(err)
	}
	after, err := w.Counts(ctx, v.Item)
	if err != nil {
		t.Fatal(err)
	}
	if after.Total != before.Total+1 {
		t.Fatalf("total went from %d to %d after one view", before.Total, after.Total)
	}
	return after.Unique == before.Unique+1
}

func TestWriteModelWindowSlides(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		alice := storetest.SID("alice", noon)
		steps := []struct {
			advance time.Duration
			unique  bool
		}{
			{0, true},
			{29*time.Minute + 59*time.Second, false},
			{29*time.Minute + 59*time.Second, false}, // the window slid with the last view
			{30 * time.Minute, true},                 // exactly 30 minutes idle: closed
			{time.Millisecond, false},
		}
		for i, st := range steps {
			clk.Add(st.advance)
			if got := view(t, w, item.View{Item: hello, Session: alice}); got != st.unique {
				t.Errorf("step %d (+%v): unique=%v, want %v", i, st.advance, got, st.unique)
			}
		}
		if view(t, w, item.View{Item: other, Session: alice}) != true {
			t.Error("another item is a window of its own")
		}
		c, _ := w.Counts(context.Background(), hello)
		if c.Unique != 2 || c.Total != 5 {
			t.Errorf("counts %+v, want 2 unique of 5", c)
		}
	})
}

func TestWriteModelMidnight(t *testing.T) {
	before := time.Date(2026, 11, 24, 23, 50, 0, 0, time.UTC)
	eachWriteModel(t, before, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		view(t, w, item.View{Item: hello, Session: storetest.SID("a", before)})
		clk.Set(before.Add(20 * time.Minute))
		// During the first half hour of a day, the beacon path passes yesterday's id too.
		if view(t, w, item.View{Item: hello, Session: storetest.SID("a", clk.Now()), Previous: storetest.SID("a", before)}) {
			t.Error("a reader who crossed midnight within the window counted as a new unique")
		}
		// The day history keeps yesterday exact.
		got, err := w.ChangedOn(context.Background(), before, item.Item{}, 10)
		if err != nil || len(got) != 1 || got[0].Counts.Total != 1 {
			t.Errorf("counts as of yesterday: %+v %v, want 1 view", got, err)
		}
		today, _ := w.ChangedOn(context.Background(), clk.Now(), item.Item{}, 10)
		if len(today) != 1 || today[0].Counts.Total != 2 {
			t.Errorf("counts as of today: %+v, want 2 views", today)
		}
	})
}

func TestWriteModelDayHistory(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	eachWriteModel(t, d1, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		view(t, w, item.View{Item: hello, Session: storetest.SID("a", clk.Now())}) // day 20: 1
		clk.Set(d1.AddDate(0, 0, 2))
		view(t, w, item.View{Item: hello, Session: storetest.SID("a", clk.Now())}) // day 22: 2
		view(t, w, item.View{Item: other, Session: storetest.SID("a", clk.Now())}) // day 22: other 1
		clk.Set(d1.AddDate(0, 0, 3))
		view(t, w, item.View{Item: hello, Session: storetest.SID("b", clk.Now())}) // day 23: 3
		// A day lists the items that changed on it, with their counts at its end; a day without
		// changes lists none (its counts are those of the last day that had any).
		for offset, want := range map[int]string{-1: "[]", 0: "[hello:1]", 1: "[]", 2: "[hello:2 other:1]", 3: "[hello:3]", 4: "[]"} {
			got, err := w.ChangedOn(ctx, d1.AddDate(0, 0, offset), item.Item{}, 10)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, c := range got {
				s = append(s, fmt.Sprintf("%s:%d", c.Item.Slug, c.Counts.Total))
			}
			if fmt.Sprint(s) != want && !(want == "[]" && len(s) == 0) {
				t.Errorf("as of day %+d: %v, want %s", offset, s, want)
			}
		}
		// Paging by key: after hello comes other.
		page, _ := w.ChangedOn(ctx, d1.AddDate(0, 0, 2), hello, 10)
		if len(page) != 1 || page[0].Item != other {
			t.Errorf("after hello: %+v", page)
		}
		first, ok, err := w.FirstDay(ctx)
		if err != nil || !ok || !first.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("FirstDay = %v %v %v", first, ok, err)
		}
	})
}

func TestWriteModelDirtyMarks(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		view(t, w, item.View{Item: hello, Session: storetest.SID("a", noon)})
		view(t, w, item.View{Item: other, Session: storetest.SID("a", noon)})
		changes, err := w.Dirty(ctx, item.Item{}, 10)
		if err != nil || len(changes) != 2 || changes[0].Item != hello || changes[1].Item != other {
			t.Fatalf("Dirty = %+v %v", changes, err)
		}
		if page, _ := w.Dirty(ctx, hello, 10); len(page) != 1 || page[0].Item != other {
			t.Errorf("Dirty after hello = %+v", page)
		}
		// A view lands between reading and clearing: that item stays dirty.
		view(t, w, item.View{Item: other, Session: storetest.SID("b", noon)})
		if err := w.Clean(ctx, changes); err != nil {
			t.Fatal(err)
		}
		left, _ := w.Dirty(ctx, item.Item{}, 10)
		if len(left) != 1 || left[0].Item != other || left[0].Counts.Total != 2 {
			t.Errorf("after Clean: %+v, want other with its newer counts", left)
		}
		if n, _ := w.DirtyLen(ctx); n != 1 {
			t.Errorf("DirtyLen = %d, want 1", n)
		}
		if n, err := w.MarkAllDirty(ctx); err != nil || n != 2 {
			t.Errorf("MarkAllDirty = %d %v, want 2", n, err)
		}
	})
}

func TestWriteModelLikes(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		like := func(visitor string, delta int) item.LikeCounts {
			t.Helper()
			lc, err := w.Like(ctx, item.Like{Item: hello, Session: storetest.SID(visitor, clk.Now()), Delta: delta, Cap: 16,
				Client: storetest.SID("office", clk.Now()), Budget: 20})
			if err != nil {
				t.Fatal(err)
			}
			return lc
		}
		if lc := like("a", 10); lc.User != 10 || lc.Total != 10 {
			t.Errorf("10 presses: %+v", lc)
		}
		if lc := like("a", 10); lc.User != 16 || lc.Total != 16 {
			t.Errorf("past the cap: %+v, want 16", lc)
		}
		if lc := like("b", 16); lc.User != 4 || lc.Total != 20 {
			t.Errorf("past the address budget: %+v, want b at 4, total 20", lc)
		}
		if lc := like("a", -1); lc.User != 15 || lc.Total != 19 {
			t.Errorf("unlike: %+v", lc)
		}
		if lc := like("c", -1); lc.User != 0 || lc.Total != 19 {
			t.Errorf("unlike with none to take back: %+v", lc)
		}
		got, _ := w.Likes(ctx, hello, storetest.SID("a", clk.Now()))
		if got.User != 15 || got.Total != 19 {
			t.Errorf("Likes = %+v", got)
		}
		clk.Add(24 * time.Hour) // a new day: the cap and the budget start again
		if lc := like("a", 16); lc.User != 16 || lc.Total != 35 {
			t.Errorf("next day: %+v, want 16 more", lc)
		}
	})
}

func TestWriteModelConcurrency(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		var wg sync.WaitGroup
		for v := range 200 {
			wg.Go(func() {
				sid := storetest.SID(fmt.Sprint(v), noon)
				for range 3 {
					if err := w.Record(ctx, item.View{Item: hello, Session: sid}); err != nil {
						t.Error(err)
					}
				}
				if _, err := w.Like(ctx, item.Like{Item: hello, Session: sid, Delta: 2, Cap: 16}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		c, _ := w.Counts(ctx, hello)
		if c.Unique != 200 || c.Total != 600 || c.Likes != 400 {
			t.Errorf("counts %+v, want 200 unique, 600 total, 400 likes: nothing lost", c)
		}
	})
}

func TestWriteModelSeedsAndSessions(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		before, err := w.Seed(ctx, []item.Seed{{Item: hello, Views: 100, Likes: 5}})
		if err != nil || before[0].Views != 0 {
			t.Fatalf("first seed: %+v %v", before, err)
		}
		before, _ = w.Seed(ctx, []item.Seed{{Item: hello, Views: 120, Likes: 5}})
		c, _ := w.Counts(ctx, hello)
		if before[0].Views != 100 || c.Total != 120 || c.Unique != 0 || c.Likes != 5 {
			t.Errorf("re-seed: before %+v, counts %+v; want moved by the difference", before, c)
		}
		// A file without a views column keeps the views imported before.
		w.Seed(ctx, []item.Seed{{Item: hello, Views: item.Keep, Likes: 9}})
		if c, _ := w.Counts(ctx, hello); c.Total != 120 || c.Likes != 9 {
			t.Errorf("a seed without views: %+v, want views kept at 120 and likes 9", c)
		}
		if err := w.CreateSession(ctx, "tok", "pw1", noon.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			tok, pw string
			at      time.Time
			want    bool
		}{{"tok", "pw1", noon, true}, {"tok", "pw2", noon, false}, {"nope", "pw1", noon, false}, {"tok", "pw1", noon.Add(time.Hour), false}} {
			clk.Set(tt.at)
			if ok, err := w.SessionValid(ctx, tt.tok, tt.pw); ok != tt.want || err != nil {
				t.Errorf("SessionValid(%s, %s) at %v = %v %v", tt.tok, tt.pw, tt.at, ok, err)
			}
		}
		clk.Set(noon)
		w.DeleteSession(ctx, "tok")
		if ok, _ := w.SessionValid(ctx, "tok", "pw1"); ok {
			t.Error("a deleted session is valid")
		}
	})
}

// TestWriteModelSessionCap: with a cap, a visitor adds at most that many views to an item in a
// minute, however many nodes the views come through (the write model counts them).
func TestWriteModelSessionCap(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, clk *clock.Fake) {
		ctx := context.Background()
		v := item.View{Item: hello, Session: storetest.SID("a", noon), Cap: 3}
		capped := 0
		for range 5 {
			err := w.Record(ctx, v)
			if errors.Is(err, item.ErrCapped) {
				capped++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if other := w.Record(ctx, item.View{Item: other, Session: v.Session, Cap: 3}); other != nil {
			t.Errorf("another item has a cap of its own: %v", other)
		}
		clk.Add(time.Minute)
		if err := w.Record(ctx, v); err != nil {
			t.Errorf("the next minute: %v", err)
		}
		c, _ := w.Counts(ctx, hello)
		if capped != 2 || c.Total != 4 {
			t.Errorf("%d capped, total %d; want 2 capped and 4 counted", capped, c.Total)
		}
	})
}

// TestWriteModelLinks: the write model keeps, per site it keeps, the last link it was told, for
// every node's dashboard; a site with no items (one the bounds refused) gets none.
func TestWriteModelLinks(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, _ *clock.Fake) {
		ctx := context.Background()
		if got, err := w.Links(ctx); err != nil || len(got) != 0 {
			t.Fatalf("links of an empty write model: %v %v", got, err)
		}
		for _, site := range []string{"example.com", "b.example"} {
			view(t, w, item.View{Item: item.Item{Site: site, Type: "home"}, Session: storetest.SID("v", noon)})
		}
		for _, l := range []struct{ site, link string }{
			{"example.com", "http://127.0.0.1:8090"},
			{"b.example", "https://www.b.example/"},
			{"example.com", "https://example.com/"},
			{"never-counted.example", "https://never-counted.example"},
		} {
			if err := w.SetLink(ctx, l.site, l.link); err != nil {
				t.Fatal(err)
			}
		}
		got, err := w.Links(ctx)
		want := map[string]string{"example.com": "https://example.com/", "b.example": "https://www.b.example/"}
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("Links = %v %v, want %v", got, err, want)
		}
	})
}

// TestWriteModelExcluded: exclusions add up per site, day, kind and name, and pruning drops
// whole days before the one given.
func TestWriteModelExcluded(t *testing.T) {
	eachWriteModel(t, noon, func(t *testing.T, w storetest.WriteModel, _ *clock.Fake) {
		ctx := context.Background()
		ex := func(site, day, kind, name string, n int64) item.Excluded {
			return item.Excluded{Site: site, Day: day, Kind: kind, Name: name, Count: n}
		}
		for _, rows := range [][]item.Excluded{
			{ex("a.com", "2026-11-23", "reason", "bot", 2), ex("a.com", "2026-11-24", "reason", "bot", 1), ex("a.com", "2026-11-24", "bot", "Googlebot", 1)},
			{ex("a.com", "2026-11-24", "reason", "bot", 4), ex("b.com", "2026-11-24", "reason", "prefetch", 1), ex("a.com", "2026-11-22", "reason", "webdriver", 3)},
		} {
			if err := w.AddExcluded(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		want := "a.com 2026-11-22 reason webdriver 3|a.com 2026-11-23 reason bot 2|a.com 2026-11-24 bot Googlebot 1|a.com 2026-11-24 reason bot 5|b.com 2026-11-24 reason prefetch 1"
		if got := excludedRows(t, w); got != want {
			t.Errorf("Excluded =\n%s\nwant\n%s", got, want)
		}
		if err := w.PruneExcluded(ctx, "2026-11-23"); err != nil {
			t.Fatal(err)
		}
		want = "a.com 2026-11-23 reason bot 2|a.com 2026-11-24 bot Googlebot 1|a.com 2026-11-24 reason bot 5|b.com 2026-11-24 reason prefetch 1"
		if got := excludedRows(t, w); got != want {
			t.Errorf("after PruneExcluded(2026-11-23) =\n%s\nwant\n%s", got, want)
		}
	})
}

func excludedRows(t *testing.T, w storetest.WriteModel) string {
	t.Helper()
	var rows []item.Excluded
	for cursor := ""; ; { // small pages: paging is part of it
		page, next, err := w.Excluded(context.Background(), cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, page...)
		if cursor = next; cursor == "" {
			break
		}
	}
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s %s %d", r.Site, r.Day, r.Kind, r.Name, r.Count))
	}
	slices.Sort(out)
	return strings.Join(out, "|")
}

// TestWriteModelBounds: --max-sites and --max-items-per-site hold on every write model alike.
// Past a bound nothing new is created — no item, no dimension rows, no live view, no likes —
// while existing items go on counting, and each refusal is reported with its reason.
func TestWriteModelBounds(t *testing.T) {
	clk := clock.NewFake(noon)
	type refusals struct {
		sync.Mutex
		n map[string]int
	}
	for name, open := range map[string]func(t *testing.T, r *refusals) storetest.WriteModel{
		"bbolt": func(t *testing.T, r *refusals) storetest.WriteModel {
			return storetest.Write(t, bolt.Options{Now: clk.Now, MaxSites: 2, MaxItemsPerSite: 3, OnRefused: func(reason string) {
				r.Lock()
				r.n[reason]++
				r.Unlock()
			}})
		},
		"redis": func(t *testing.T, r *refusals) storetest.WriteModel {
			return storetest.Redis(t, redis.Options{Now: clk.Now, MaxSites: 2, MaxItemsPerSite: 3, OnRefused: func(reason string) {
				r.Lock()
				r.n[reason]++
				r.Unlock()
			}})
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := &refusals{n: map[string]int{}}
			w := open(t, r)
			ctx := context.Background()
			page := func(site string, i int) item.Item { return item.Item{Site: site, Type: "page", Slug: fmt.Sprint(i)} }
			for _, site := range []string{"a.example", "b.example", "c.example"} {
				for i := range 5 {
					if err := w.Record(ctx, pageView(page(site, i), "v", noon, "ref.example")); err != nil {
						t.Fatal(err) // past a bound the view is answered as usual
					}
				}
			}
			if _, err := w.Like(ctx, item.Like{Item: page("d.example", 0), Session: storetest.SID("v", noon), Delta: 3, Cap: 16}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Like(ctx, item.Like{Item: page("a.example", 4), Session: storetest.SID("v", noon), Delta: 3, Cap: 16}); err != nil {
				t.Fatal(err)
			}
			for it, want := range map[item.Item]int64{page("a.example", 0): 1, page("a.example", 2): 1, page("a.example", 3): 0,
				page("b.example", 1): 1, page("b.example", 4): 0, page("c.example", 0): 0} {
				if c, err := w.Counts(ctx, it); err != nil || c.Total != want {
					t.Errorf("%v: total %d (%v), want %d", it, c.Total, err, want)
				}
			}
			for _, it := range []item.Item{page("d.example", 0), page("a.example", 4)} {
				if c, _ := w.Counts(ctx, it); c.Likes != 0 {
					t.Errorf("%v: %d likes kept past a bound", it, c.Likes)
				}
			}
			// An existing item goes on counting.
			if err := w.Record(ctx, pageView(page("a.example", 0), "w", noon, "")); err != nil {
				t.Fatal(err)
			}
			if c, _ := w.Counts(ctx, page("a.example", 0)); c.Total != 2 {
				t.Errorf("an existing item past the bound: total %d, want 2", c.Total)
			}
			if n, _ := w.DirtyLen(ctx); n != 6 {
				t.Errorf("%d dirty items, want the 6 that exist", n)
			}
			r.Lock()
			if r.n[item.RefusedItem] != 4+1 || r.n[item.RefusedSite] != 5+1 {
				t.Errorf("refusals %v, want 5 %s and 6 %s", r.n, item.RefusedItem, item.RefusedSite)
			}
			r.Unlock()
			// The refused site left nothing behind.
			rows, _ := dimRows(t, w)
			for k := range rows {
				if strings.HasPrefix(k, "c.example/") || strings.HasPrefix(k, "d.example/") {
					t.Errorf("a refused site has dimension rows: %s", k)
				}
			}
			if live, err := w.Realtime(ctx, "c.example"); err != nil || live.Views != 0 || len(live.Pages) != 0 {
				t.Errorf("a refused site has a live view: %+v (%v)", live, err)
			}
			// What the "Not counted" drain asks: refused sites are not kept, so their exclusions
			// go under (other sites).
			kept, err := w.KeptSites(ctx, []string{"a.example", "b.example", "c.example", "d.example"})
			if err != nil || !maps.Equal(kept, map[string]bool{"a.example": true, "b.example": true}) {
				t.Errorf("KeptSites = %v %v, want a and b", kept, err)
			}
		})
	}
}
