// Package report names what the read side answers with: top lists, totals, daily series and
// the dashboard's item table. It is storage-neutral, as internal/item is for the write side:
// every read model returns these types, and every handler turns them into its own JSON.
package report

import (
	"slices"
	"time"
)

// Totals are summed counts.
type Totals struct {
	Unique int64
	Total  int64
}

// TypeTotals are a site's counts by type.
type TypeTotals map[string]Totals

// Sum adds up all types.
func (tt TypeTotals) Sum() Totals {
	var s Totals
	for _, t := range tt {
		s.Unique += t.Unique
		s.Total += t.Total
	}
	return s
}

// Site is a site's cumulative state as of the last flush.
type Site struct {
	ByType      TypeTotals
	ItemsByType map[string]int
	Likes       int64
}

// Only keeps the types in types (page types; nil keeps every type).
func (tt TypeTotals) Only(types []string) TypeTotals {
	if types == nil {
		return tt
	}
	out := TypeTotals{}
	for t, v := range tt {
		if slices.Contains(types, t) {
			out[t] = v
		}
	}
	return out
}

// Items counts the items of the types in types (nil: every type).
func (s Site) Items(types []string) int {
	n := 0
	for t, c := range s.ItemsByType {
		if types == nil || slices.Contains(types, t) {
			n += c
		}
	}
	return n
}

// HasOnly reports whether every type the site has items of is among types: then a filter by
// types leaves every item in.
func (s Site) HasOnly(types []string) bool {
	for t, n := range s.ItemsByType {
		if n > 0 && !slices.Contains(types, t) {
			return false
		}
	}
	return true
}

// DayPoint is the cumulative counts at the end of one day.
type DayPoint struct {
	Date   string // YYYY-MM-DD, UTC
	Totals Totals
	Known  bool // a snapshot of that day exists
}

// TopFilter selects the rows of a top list. Empty fields match everything.
type TopFilter struct {
	Site  string
	Type  string
	Types []string // when Type is empty, only these types (page types, not events); nil: any
	Limit int
	By    string // ByViews (default) or ByLikes
}

// Orders of a top list.
const (
	ByViews = "views"
	ByLikes = "likes"
)

// TopItem is one row of a top list.
type TopItem struct {
	Site, Type, Slug     string
	Unique, Total, Likes int64
}

// ItemRow is one line of the dashboard's item table.
type ItemRow struct {
	Site, Type, Slug     string
	Unique, Total, Likes int64
	Recent               int64     // views since the end of ItemQuery.RecentSince
	LastSyncedAt         time.Time // when a flush last wrote it
}

// Sorts of the item table; the first is the default.
var Sorts = []string{"total", "unique", "recent"}

// ValidSort reports whether s is one of Sorts.
func ValidSort(s string) bool { return slices.Contains(Sorts, s) }

// ItemQuery selects a page of the item table.
type ItemQuery struct {
	Site        string
	Search      string    // substring of type or slug, case-insensitive
	Sort        string    // one of Sorts; empty means the first
	Offset      int       // rows to skip
	Limit       int       // rows to return; negative for all
	RecentSince time.Time // "last 7 days" counts views after the end of this day
	Types       []string  // only items of these types (page types, not events); nil: any
}

// NotCounted is what a site did not count over some days: per reason and per bot product token,
// most first.
type NotCounted struct {
	Reasons []Count
	Bots    []Count
}

// Count is a named count.
type Count struct {
	Name  string
	Count int64
}

// Add puts c among the bots or the reasons.
func (e *NotCounted) Add(bot bool, c Count) {
	if bot {
		e.Bots = append(e.Bots, c)
	} else {
		e.Reasons = append(e.Reasons, c)
	}
}

// DimQuery selects dimension rows of one owner over the days First to Last (UTC, inclusive):
// a site (Type and Slug empty) or one of its items.
type DimQuery struct {
	Site, Type, Slug string
	Dim              string // a dimension's name (see item.Dim); "" for the owner's totals
	Value            string // for DimDays: the value whose days to read ("" with Dim "")
	First, Last      time.Time
	Limit            int // rows at most; 0 or less: all
}

// DimRow is one value of a dimension: its views and visitors, summed over the days (a visitor
// is counted once per owner and day, so a reader of three days counts three times).
type DimRow struct {
	Value           string
	Views, Visitors int64
}

// DimDay is one day's views and visitors of one value.
type DimDay struct {
	Date            string // YYYY-MM-DD, UTC
	Views, Visitors int64
}

// OwnerQuery selects a site's items by their dimension rows: those with Dim = Value (Dim ""
// and Value "": every item by its own totals, which only client events have), over First to
// Last.
type OwnerQuery struct {
	Site, Dim, Value string
	First, Last      time.Time
	Types            []string // only these types; nil: any
	Limit            int      // rows at most; 0 or less: all
}

// OwnerRow is one item's views and visitors in an OwnerQuery.
type OwnerRow struct {
	Type, Slug      string
	Views, Visitors int64
}
