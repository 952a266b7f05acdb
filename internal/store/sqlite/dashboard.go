package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// The dashboard's queries. Days are UTC dates. "Views in the last N days" means the current
// cumulative count minus the snapshot at the end of the day N days ago: today so far plus the
// N−1 full days before it.

// Sites returns every counted site, most viewed first.
func (db *DB) Sites(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: sites */
		SELECT site FROM site_totals GROUP BY site ORDER BY SUM(total_views) DESC, site`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return scanAll(rows, func(s *string) []any { return []any{s} })
}

// Site returns a site's cumulative counts by type, its item count and its likes, as of the
// last flush.
func (db *DB) Site(ctx context.Context, site string) (report.Site, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: current totals */
		SELECT type, unique_views, total_views, likes, items FROM site_totals WHERE site = ?`, site)
	if err != nil {
		return report.Site{}, fmt.Errorf("current totals: %w", err)
	}
	defer rows.Close()
	out := report.Site{ByType: report.TypeTotals{}, ItemsByType: map[string]int{}}
	for rows.Next() {
		var typ string
		var t report.Totals
		var likes int64
		var n int
		if err := rows.Scan(&typ, &t.Unique, &t.Total, &likes, &n); err != nil {
			return report.Site{}, fmt.Errorf("current totals: %w", err)
		}
		if n == 0 {
			continue
		}
		out.ByType[typ] = t
		out.ItemsByType[typ] = n
		out.Likes += likes
	}
	return out, rows.Err()
}

// SnapshotTotals returns a site's cumulative counts by type at the end of date: each type's
// latest daily row on or before it; empty before tally counted anything.
func (db *DB) SnapshotTotals(ctx context.Context, site string, date time.Time) (report.TypeTotals, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: snapshot totals */
		SELECT type, unique_views, total_views, MAX(day) FROM site_daily
		WHERE site = ? AND day <= ? GROUP BY type`, site, session.DayNumber(date))
	if err != nil {
		return nil, fmt.Errorf("snapshot totals: %w", err)
	}
	defer rows.Close()
	out := report.TypeTotals{}
	for rows.Next() {
		var typ string
		var t report.Totals
		var d int64
		if err := rows.Scan(&typ, &t.Unique, &t.Total, &d); err != nil {
			return nil, fmt.Errorf("snapshot totals: %w", err)
		}
		out[typ] = t
	}
	return out, rows.Err()
}

// SiteSeries returns a site's cumulative counts at the end of each day from first to last.
// Only types count when types is not nil.
func (db *DB) SiteSeries(ctx context.Context, site string, types []string, first, last time.Time) ([]report.DayPoint, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: series */
		SELECT type, day, unique_views, total_views FROM site_daily
		WHERE site = ?1 AND day BETWEEN ?2 AND ?3 AND (?4 IS NULL OR type IN (SELECT value FROM json_each(?4)))
		UNION ALL
		SELECT type, MAX(day), unique_views, total_views FROM site_daily
		WHERE site = ?1 AND day < ?2 AND (?4 IS NULL OR type IN (SELECT value FROM json_each(?4)))
		GROUP BY type`,
		site, session.DayNumber(first), session.DayNumber(last), typeList(types))
	if err != nil {
		return nil, fmt.Errorf("site series: %w", err)
	}
	return cumulate(rows, first, last)
}

// ItemSeries returns one item's cumulative counts at the end of each day from first to last.
func (db *DB) ItemSeries(ctx context.Context, it item.Item, first, last time.Time) ([]report.DayPoint, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: item trend */
		WITH i AS (SELECT id FROM view_counts WHERE site = ?1 AND type = ?2 AND slug = ?3)
		SELECT '', day, unique_views, total_views FROM item_daily
		WHERE item_id = (SELECT id FROM i) AND day BETWEEN ?4 AND ?5
		UNION ALL
		SELECT '', MAX(day), unique_views, total_views FROM item_daily
		WHERE item_id = (SELECT id FROM i) AND day < ?4
		HAVING COUNT(*) > 0`,
		it.Site, it.Type, it.Slug, session.DayNumber(first), session.DayNumber(last))
	if err != nil {
		return nil, fmt.Errorf("item series: %w", err)
	}
	return cumulate(rows, first, last)
}

// cumulate reads (key, day, unique, total) rows into one point per day from first to last.
func cumulate(rows *sql.Rows, first, last time.Time) ([]report.DayPoint, error) {
	got, err := scanAll(rows, func(r *report.DayRow) []any { return []any{&r.Key, &r.Day, &r.Totals.Unique, &r.Totals.Total} })
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	return report.Cumulate(got, first, last), nil
}

// Items returns one page of a site's items and how many items match in all, counted up to
// report.MaxItemCount+1 when a search narrows them. The page is read from the index of its
// order, and each row's 7-day baseline from its own latest daily row, so a page costs the
// same among ten items or a million.
func (db *DB) Items(ctx context.Context, q report.ItemQuery) ([]report.ItemRow, int, error) {
	order, ok := report.ItemOrder[q.Sort]
	if !ok {
		order = report.ItemOrder[report.Sorts[0]]
	}
	site, err := db.Site(ctx, q.Site)
	if err != nil {
		return nil, 0, fmt.Errorf("count items: %w", err)
	}
	// The filter names only the columns it needs: without a search and with every type of the
	// site asked for, the page is read from the sort index alone.
	like := "%" + escapeLike(strings.ToLower(q.Search)) + "%"
	filter := `v.site = ?1`
	if q.Search != "" {
		filter += ` AND (lower(v.slug) LIKE ?2 ESCAPE '\' OR lower(v.type) LIKE ?2 ESCAPE '\')`
	}
	types := typeList(q.Types)
	if q.Types != nil && !site.HasOnly(q.Types) {
		filter += ` AND v.type IN (SELECT value FROM json_each(?6))`
	}
	n, found, err := db.countItems(ctx, q, site, filter, like, types)
	if err != nil {
		return nil, 0, fmt.Errorf("count items: %w", err)
	}
	if found != nil {
		// Few items have the search's trigrams: read those, then sort them.
		filter = byIDs(filter) + ` AND v.id IN (SELECT value FROM json_each(?7))`
	}
	// The page is cut first, then each of its rows looks up its baseline: SQLite computes the
	// columns of the rows an OFFSET skips.
	rows, err := db.read.QueryContext(ctx, `/* dashboard: items */
		SELECT v.site, v.type, v.slug, v.unique_views, v.total_views, v.likes,
		       MAX(0, v.total_views - COALESCE((SELECT d.total_views FROM item_daily d
		                                        WHERE d.item_id = v.id AND d.day <= ?3 ORDER BY d.day DESC LIMIT 1), 0)),
		       v.last_synced_at
		FROM (SELECT v.id FROM view_counts v WHERE `+filter+` ORDER BY `+order+` LIMIT ?4 OFFSET ?5) p
		JOIN view_counts v ON v.id = p.id
		ORDER BY `+order,
		q.Site, like, session.DayNumber(q.RecentSince), q.Limit, q.Offset, types, found)
	if err != nil {
		return nil, 0, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	out := []report.ItemRow{}
	for rows.Next() {
		var r report.ItemRow
		var synced string
		if err := rows.Scan(&r.Site, &r.Type, &r.Slug, &r.Unique, &r.Total, &r.Likes, &r.Recent, &synced); err != nil {
			return nil, 0, fmt.Errorf("list items: %w", err)
		}
		if r.LastSyncedAt, err = parseTime(synced); err != nil {
			return nil, 0, fmt.Errorf("list items: %w", err)
		}
		out = append(out, r)
	}
	return out, n, rows.Err()
}

// byIDs is filter for rows looked up by their ids: "+" keeps SQLite from reading the site's
// sort index instead and testing every item against the list.
func byIDs(filter string) string { return strings.Replace(filter, "v.site = ?1", "+v.site = ?1", 1) }

// searchIndexFrom is how many items a site needs before a search goes through the trigram
// index: measured with tally-bench -read-scale (docs/performance.md).
const searchIndexFrom = 20_000

// countItems counts the items q matches: from site_totals without a search; with one, through
// the trigram index when few items have the search's trigrams (found is then their ids, as a
// JSON array), else by reading the matching items in order, at most report.MaxItemCount+1.
func (db *DB) countItems(ctx context.Context, q report.ItemQuery, site report.Site, filter, like string, types any) (n int, found any, err error) {
	if q.Search == "" {
		return site.Items(q.Types), nil, nil
	}
	// A trigram needs three characters; and among a few thousand items reading them all costs
	// less than the index's lists of common trigrams.
	if len(q.Search) >= 3 && site.Items(nil) >= searchIndexFrom {
		rows, err := db.read.QueryContext(ctx, `/* dashboard: item search */
			SELECT rowid FROM view_counts_search WHERE view_counts_search MATCH ? LIMIT ?`,
			`"`+strings.ReplaceAll(q.Search, `"`, `""`)+`"`, report.MaxItemCount+1)
		if err != nil {
			return 0, nil, err
		}
		ids, err := scanAll(rows, func(id *int64) []any { return []any{id} })
		if err != nil {
			return 0, nil, err
		}
		if len(ids) <= report.MaxItemCount {
			found, _ := json.Marshal(append([]int64{}, ids...))
			err := db.read.QueryRowContext(ctx, `/* dashboard: item count */
				SELECT COUNT(*) FROM view_counts v WHERE `+byIDs(filter)+`
				AND v.id IN (SELECT value FROM json_each(?7))`,
				q.Site, like, nil, nil, nil, types, string(found)).Scan(&n)
			return n, string(found), err
		}
	}
	err = db.read.QueryRowContext(ctx, `/* dashboard: item count */
		SELECT COUNT(*) FROM (SELECT 1 FROM view_counts v WHERE `+filter+` LIMIT ?4)`,
		q.Site, like, nil, report.MaxItemCount+1, nil, types).Scan(&n)
	return n, nil, err
}

// typeList is types as a JSON array for json_each, or nil (SQL NULL: any type) for nil.
func typeList(types []string) any {
	if types == nil {
		return nil
	}
	b, _ := json.Marshal(types)
	return string(b)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Item returns one item's row; ok is false if it was never flushed.
func (db *DB) Item(ctx context.Context, it item.Item) (report.ItemRow, bool, error) {
	r := report.ItemRow{Site: it.Site, Type: it.Type, Slug: it.Slug}
	var synced string
	err := db.read.QueryRowContext(ctx, `/* dashboard: item */
		SELECT unique_views, total_views, likes, last_synced_at FROM view_counts WHERE site = ? AND type = ? AND slug = ?`,
		it.Site, it.Type, it.Slug).Scan(&r.Unique, &r.Total, &r.Likes, &synced)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err == nil {
		r.LastSyncedAt, err = parseTime(synced)
	}
	if err != nil {
		return r, false, fmt.Errorf("read item: %w", err)
	}
	return r, true, nil
}
