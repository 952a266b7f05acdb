package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The dashboard's queries. Days are UTC dates. "Views in the last N days" means the current
// cumulative count minus the snapshot at the end of the day N days ago: today so far plus the
// N−1 full days before it.

// Totals are summed counts.
type Totals struct {
	Unique int64 `json:"unique"`
	Total  int64 `json:"total"`
}

// Sites returns every counted site, most viewed first.
func (db *DB) Sites(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: sites */
		SELECT site FROM view_counts GROUP BY site ORDER BY SUM(total_views) DESC, site`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("list sites: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Likes returns a site's total likes as of the last flush.
func (db *DB) Likes(ctx context.Context, site string) (int64, error) {
	var n int64
	if err := db.read.QueryRowContext(ctx, `/* dashboard: likes */
		SELECT COALESCE(SUM(likes), 0) FROM view_counts WHERE site = ?`, site).Scan(&n); err != nil {
		return 0, fmt.Errorf("sum likes: %w", err)
	}
	return n, nil
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

// Current returns a site's cumulative counts by type as of the last flush, and its item count.
func (db *DB) Current(ctx context.Context, site string) (TypeTotals, int, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: current totals */
		SELECT type, SUM(unique_views), SUM(total_views), COUNT(*) FROM view_counts WHERE site = ? GROUP BY type`, site)
	if err != nil {
		return nil, 0, fmt.Errorf("current totals: %w", err)
	}
	defer rows.Close()
	out := TypeTotals{}
	items := 0
	for rows.Next() {
		var typ string
		var t Totals
		var n int
		if err := rows.Scan(&typ, &t.Unique, &t.Total, &n); err != nil {
			return nil, 0, fmt.Errorf("current totals: %w", err)
		}
		out[typ] = t
		items += n
	}
	return out, items, rows.Err()
}

// SnapshotTotals returns a site's cumulative counts by type at the end of date; empty if no
// snapshot of that day exists (before tally counted anything, for one).
func (db *DB) SnapshotTotals(ctx context.Context, site string, date time.Time) (TypeTotals, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: snapshot totals */
		SELECT type, unique_views_snapshot, total_views_snapshot FROM view_totals_daily
		WHERE site = ? AND date = ?`, site, date.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("snapshot totals: %w", err)
	}
	defer rows.Close()
	out := TypeTotals{}
	for rows.Next() {
		var typ string
		var t Totals
		if err := rows.Scan(&typ, &t.Unique, &t.Total); err != nil {
			return nil, fmt.Errorf("snapshot totals: %w", err)
		}
		out[typ] = t
	}
	return out, rows.Err()
}

// DayPoint is the cumulative counts at the end of one day.
type DayPoint struct {
	Date   string
	Totals Totals
	Known  bool // a snapshot of that day exists
}

// SiteSeries returns a site's cumulative counts at the end of each day from first to last.
func (db *DB) SiteSeries(ctx context.Context, site string, first, last time.Time) ([]DayPoint, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: series */
		SELECT date, SUM(unique_views_snapshot), SUM(total_views_snapshot) FROM view_totals_daily
		WHERE site = ? AND date BETWEEN ? AND ? GROUP BY date`,
		site, first.Format(time.DateOnly), last.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("site series: %w", err)
	}
	return fillDays(rows, first, last)
}

// ItemSeries returns one item's cumulative counts at the end of each day from first to last.
func (db *DB) ItemSeries(ctx context.Context, site, typ, slug string, first, last time.Time) ([]DayPoint, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: item trend */
		SELECT date, unique_views_snapshot, total_views_snapshot FROM view_counts_daily
		WHERE site = ? AND type = ? AND slug = ? AND date BETWEEN ? AND ?`,
		site, typ, slug, first.Format(time.DateOnly), last.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("item series: %w", err)
	}
	return fillDays(rows, first, last)
}

// fillDays reads (date, unique, total) rows into one point per day, marking missing days.
func fillDays(rows *sql.Rows, first, last time.Time) ([]DayPoint, error) {
	defer rows.Close()
	byDate := map[string]Totals{}
	for rows.Next() {
		var d string
		var t Totals
		if err := rows.Scan(&d, &t.Unique, &t.Total); err != nil {
			return nil, fmt.Errorf("series: %w", err)
		}
		byDate[d] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	var out []DayPoint
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		t, ok := byDate[key]
		out = append(out, DayPoint{Date: key, Totals: t, Known: ok})
	}
	return out, nil
}

// ItemRow is one line of the dashboard's item table.
type ItemRow struct {
	Site         string `json:"site"`
	Type         string `json:"type"`
	Slug         string `json:"slug"`
	Unique       int64  `json:"unique"`
	Total        int64  `json:"total"`
	Recent       int64  `json:"last_7_days"`
	LastSyncedAt string `json:"last_synced_at"`
}

// ItemQuery selects a page of the item table.
type ItemQuery struct {
	Site        string
	Search      string    // substring of type or slug, case-insensitive
	Sort        string    // "total" (default), "unique" or "recent"
	Offset      int       // rows to skip
	Limit       int       // rows to return
	RecentSince time.Time // "last 7 days" counts views after the end of this day
}

var itemOrder = map[string]string{
	"total":  "v.total_views DESC, v.unique_views DESC",
	"unique": "v.unique_views DESC, v.total_views DESC",
	"recent": "v.last_synced_at DESC, v.total_views DESC",
}

// Items returns one page of a site's items and how many items match in all.
func (db *DB) Items(ctx context.Context, q ItemQuery) ([]ItemRow, int, error) {
	order, ok := itemOrder[q.Sort]
	if !ok {
		order = itemOrder["total"]
	}
	like := "%" + escapeLike(strings.ToLower(q.Search)) + "%"
	filter := `v.site = ?1 AND (?2 = '%%' OR lower(v.slug) LIKE ?2 ESCAPE '\' OR lower(v.type) LIKE ?2 ESCAPE '\')`
	var n int
	if err := db.read.QueryRowContext(ctx, `/* dashboard: item count */
		SELECT COUNT(*) FROM view_counts v WHERE `+filter, q.Site, like).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("count items: %w", err)
	}
	// Sort and cut the page first, then look up the 7-day baseline of just those rows: joining
	// every item to the daily table before sorting costs a hundred times more.
	rows, err := db.read.QueryContext(ctx, `/* dashboard: items */
		SELECT v.site, v.type, v.slug, v.unique_views, v.total_views,
		       MAX(0, v.total_views - COALESCE(d.total_views_snapshot, 0)), v.last_synced_at
		FROM (SELECT * FROM view_counts v WHERE `+filter+` ORDER BY `+order+`, v.type, v.slug LIMIT ?4 OFFSET ?5) v
		LEFT JOIN view_counts_daily d
		       ON d.site = v.site AND d.type = v.type AND d.slug = v.slug AND d.date = ?3
		ORDER BY `+order+`, v.type, v.slug`, q.Site, like, q.RecentSince.Format(time.DateOnly), q.Limit, q.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	out := []ItemRow{}
	for rows.Next() {
		var r ItemRow
		if err := rows.Scan(&r.Site, &r.Type, &r.Slug, &r.Unique, &r.Total, &r.Recent, &r.LastSyncedAt); err != nil {
			return nil, 0, fmt.Errorf("list items: %w", err)
		}
		out = append(out, r)
	}
	return out, n, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Item returns one item's row; ok is false if it was never flushed.
func (db *DB) Item(ctx context.Context, site, typ, slug string) (ItemRow, bool, error) {
	r := ItemRow{Site: site, Type: typ, Slug: slug}
	err := db.read.QueryRowContext(ctx, `/* dashboard: item */
		SELECT unique_views, total_views, last_synced_at FROM view_counts WHERE site = ? AND type = ? AND slug = ?`,
		site, typ, slug).Scan(&r.Unique, &r.Total, &r.LastSyncedAt)
	if err == sql.ErrNoRows {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read item: %w", err)
	}
	return r, true, nil
}
