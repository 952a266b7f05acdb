package report

import (
	"sort"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// What both read models (SQLite and PostgreSQL) share beyond their tables: the names and the
// retention of job_runs, and the order of top lists and of the item table over the columns of
// view_counts, which both dialects spell alike.

// Job names in job_runs.
const (
	JobFlush    = "flush"
	JobSnapshot = "snapshot"
)

// JobRunsKept is how long job_runs keeps a run.
const JobRunsKept = 30 * 24 * time.Hour

// Ties in every order go to the item flushed first (view_counts.id), so each order is an
// index of view_counts and a page is read from it, never sorted.

// TopOrder is the ORDER BY of each order of a top list (TopFilter.By; "" is ByViews).
var TopOrder = map[string]string{
	"":      "total_views DESC, unique_views DESC, id",
	ByViews: "total_views DESC, unique_views DESC, id",
	ByLikes: "likes DESC, total_views DESC, id",
}

// ItemOrder is the ORDER BY of each of Sorts, over view_counts as v.
var ItemOrder = map[string]string{
	"total":  "v.total_views DESC, v.unique_views DESC, v.id",
	"unique": "v.unique_views DESC, v.total_views DESC, v.id",
	"recent": "v.last_synced_at DESC, v.total_views DESC, v.id",
}

// MaxItemCount bounds how far the item table counts the items that match a search (Items then
// answers at most MaxItemCount+1; without a search the count is exact, from the rollup): past
// it, the dashboard says "10,000+", so a search costs what its page costs, not the site's size.
const MaxItemCount = 10_000

// SiteType names a site's items of one type: the key of the per-site rollups.
type SiteType struct{ Site, Type string }

// Change is what a write adds to a site's rollup in site_totals.
type Change struct {
	Unique, Total, Likes int64
	Items                int64 // items the write created
}

// Plus adds two changes.
func (c Change) Plus(o Change) Change {
	return Change{Unique: c.Unique + o.Unique, Total: c.Total + o.Total, Likes: c.Likes + o.Likes, Items: c.Items + o.Items}
}

// DailyMove is what one item's daily row of a snapshot does to its site's daily rollup: it
// replaces the value Old (the item's latest row on or before the day, zero if none) with New,
// from the day up to the day of the item's next row (Next, if HasNext), which holds from then on.
type DailyMove struct {
	Site, Type string
	Old, New   Totals
	Next       int64 // a day number (session.DayNumber)
	HasNext    bool
}

// Keep reports whether a snapshot row belongs in item_daily: it changes the item's views, or
// it overwrites the row the item already has for its day (oldDay, ok: the day of the row it
// replaces). A change of likes alone leaves the day's value the row before it.
func (m DailyMove) Keep(oldDay int64, ok bool, day int64) bool {
	return m.New != m.Old || ok && oldDay == day
}

// MoveGroup is the sum of the moves of one site and type that hold up to the same next day.
type MoveGroup struct {
	Site, Type string
	Diff       Totals
	Next       int64
	HasNext    bool
}

// GroupMoves sums moves by site, type and next day, in a stable order. Every site and type
// of moves has a group, even when its difference is zero.
func GroupMoves(moves []DailyMove) []MoveGroup {
	type key struct {
		site, typ string
		next      int64
		has       bool
	}
	sums := map[key]Totals{}
	for _, m := range moves {
		k := key{m.Site, m.Type, m.Next, m.HasNext}
		t := sums[k]
		t.Unique += m.New.Unique - m.Old.Unique
		t.Total += m.New.Total - m.Old.Total
		sums[k] = t
	}
	out := make([]MoveGroup, 0, len(sums))
	for k, t := range sums {
		out = append(out, MoveGroup{Site: k.site, Type: k.typ, Diff: t, Next: k.next, HasNext: k.has})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.HasNext != b.HasNext {
			return a.HasNext
		}
		return a.Next < b.Next
	})
	return out
}

// DayRow is one stored daily row of a sparse history: the cumulative counts of Key (a type of
// a site, or "" for one item) at the end of Day, a day on which they changed.
type DayRow struct {
	Key    string
	Day    int64 // a day number (session.DayNumber)
	Totals Totals
}

// Cumulate turns the sparse rows of a history — for each key, its latest row before first and
// every row from first to last — into one point per day: the sum over keys of each key's
// latest row on or before that day. A day before any row has Known false.
func Cumulate(rows []DayRow, first, last time.Time) []DayPoint {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Day < rows[j].Day })
	cur := map[string]Totals{}
	var sum Totals
	var out []DayPoint
	i := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		n := session.DayNumber(d)
		for ; i < len(rows) && rows[i].Day <= n; i++ {
			r := rows[i]
			old := cur[r.Key]
			sum.Unique += r.Totals.Unique - old.Unique
			sum.Total += r.Totals.Total - old.Total
			cur[r.Key] = r.Totals
		}
		out = append(out, DayPoint{Date: session.FormatDay(d), Totals: sum, Known: len(cur) > 0})
	}
	return out
}

// DimNumber is the number dimension_daily and dim_values keep for the dimension named name
// ("" for the owner's own views and visitors; an unknown name gets a number no row has).
func DimNumber(name string) int {
	if name == "" {
		return int(item.DimTotal)
	}
	if d, ok := item.ParseDim(name); ok {
		return int(d)
	}
	return int(item.NumDims)
}

// DayNumberOf is the day number (session.DayNumber) of a YYYY-MM-DD day, 0 for anything
// else: the write model gives only valid days.
func DayNumberOf(day string) int64 {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0
	}
	return session.DayNumber(t)
}

// DimOwners are the distinct sites of rows, and the distinct items that own rows, as items
// with no counts (for the read models to give them ids).
func DimOwners(rows []item.DimCount) (sites []string, items []item.Counted) {
	seenSite, seenItem := map[string]bool{}, map[item.Item]bool{}
	for _, r := range rows {
		if !seenSite[r.Owner.Site] {
			seenSite[r.Owner.Site] = true
			sites = append(sites, r.Owner.Site)
		}
		if r.Owner.Type != "" && !seenItem[r.Owner] {
			seenItem[r.Owner] = true
			items = append(items, item.Counted{Item: r.Owner})
		}
	}
	return sites, items
}
