package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// The dashboard's queries, as internal/sqlite has them. Sums are cast back to bigint (SUM of a
// bigint is numeric in PostgreSQL) and dates read as YYYY-MM-DD text.

// Sites returns every counted site, most viewed first.
func (db *DB) Sites(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: sites */
		SELECT site FROM site_totals GROUP BY site ORDER BY SUM(total_views) DESC, site`)
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return out, nil
}

// Site returns a site's cumulative counts by type, its item count and its likes, as of the
// last flush.
func (db *DB) Site(ctx context.Context, site string) (report.Site, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: current totals */
		SELECT type, unique_views, total_views, likes, items FROM site_totals WHERE site = $1 AND items > 0`, site)
	if err != nil {
		return report.Site{}, fmt.Errorf("current totals: %w", err)
	}
	defer rows.Close()
	out := report.Site{ByType: report.TypeTotals{}, ItemsByType: map[string]int{}}
	for rows.Next() {
		var typ string
		var t report.Totals
		var likes, n int64
		if err := rows.Scan(&typ, &t.Unique, &t.Total, &likes, &n); err != nil {
			return report.Site{}, fmt.Errorf("current totals: %w", err)
		}
		out.ByType[typ] = t
		out.ItemsByType[typ] = int(n)
		out.Likes += likes
	}
	if err := rows.Err(); err != nil {
		return report.Site{}, fmt.Errorf("current totals: %w", err)
	}
	return out, nil
}

// SnapshotTotals returns a site's cumulative counts by type at the end of date: each type's
// latest daily row on or before it; empty before tally counted anything.
func (db *DB) SnapshotTotals(ctx context.Context, site string, date time.Time) (report.TypeTotals, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: snapshot totals */
		SELECT DISTINCT ON (type) type, unique_views, total_views FROM site_daily
		WHERE site = $1 AND day <= $2 ORDER BY type, day DESC`, site, session.DayNumber(date))
	if err != nil {
		return nil, fmt.Errorf("snapshot totals: %w", err)
	}
	defer rows.Close()
	out := report.TypeTotals{}
	for rows.Next() {
		var typ string
		var t report.Totals
		if err := rows.Scan(&typ, &t.Unique, &t.Total); err != nil {
			return nil, fmt.Errorf("snapshot totals: %w", err)
		}
		out[typ] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot totals: %w", err)
	}
	return out, nil
}

// SiteSeries returns a site's cumulative counts at the end of each day from first to last.
// Only types count when types is not nil.
func (db *DB) SiteSeries(ctx context.Context, site string, types []string, first, last time.Time) ([]report.DayPoint, error) {
	return db.series(ctx, "site series", `/* dashboard: series */
		SELECT type, day::bigint, unique_views, total_views FROM site_daily
		WHERE site = $1 AND day BETWEEN $2 AND $3 AND ($4::text[] IS NULL OR type = ANY($4::text[]))
		UNION ALL
		(SELECT DISTINCT ON (type) type, day::bigint, unique_views, total_views FROM site_daily
		 WHERE site = $1 AND day < $2 AND ($4::text[] IS NULL OR type = ANY($4::text[]))
		 ORDER BY type, day DESC)`,
		first, last, site, session.DayNumber(first), session.DayNumber(last), types)
}

// ItemSeries returns one item's cumulative counts at the end of each day from first to last.
func (db *DB) ItemSeries(ctx context.Context, it item.Item, first, last time.Time) ([]report.DayPoint, error) {
	return db.series(ctx, "item series", `/* dashboard: item trend */
		WITH i AS (SELECT id FROM view_counts WHERE site = $1 AND type = $2 AND slug = $3)
		SELECT '', day::bigint, unique_views, total_views FROM item_daily
		WHERE item_id = (SELECT id FROM i) AND day BETWEEN $4 AND $5
		UNION ALL
		(SELECT '', day::bigint, unique_views, total_views FROM item_daily
		 WHERE item_id = (SELECT id FROM i) AND day < $4 ORDER BY day DESC LIMIT 1)`,
		first, last, it.Site, it.Type, it.Slug, session.DayNumber(first), session.DayNumber(last))
}

// series reads (key, day, unique, total) rows into one point per day.
func (db *DB) series(ctx context.Context, what, query string, first, last time.Time, args ...any) ([]report.DayPoint, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.DayRow, error) {
		var d report.DayRow
		err := r.Scan(&d.Key, &d.Day, &d.Totals.Unique, &d.Totals.Total)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
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
	// Without a search the filter is the site alone, spelled so: a generic plan could not see
	// that an empty search matches everything, and would test every row.
	like := "%" + escapeLike(strings.ToLower(q.Search)) + "%"
	filter := `v.site = $1 AND $2 = '%%'`
	if q.Search != "" {
		// The first test is the one the trigram index (pg_trgm, where the server has it)
		// answers; the second is the search itself.
		filter = `v.site = $1 AND lower(v.type || ' ' || v.slug) LIKE $2 ESCAPE '\'
			AND (lower(v.slug) LIKE $2 ESCAPE '\' OR lower(v.type) LIKE $2 ESCAPE '\')`
	}
	// Without a type filter the query has none either, for the same reason; nor when the site
	// has no other types, so the page is read from its sort index alone.
	typeFilter := func(int) string { return "" }
	types := q.Types != nil && !site.HasOnly(q.Types)
	if types {
		typeFilter = func(n int) string { return fmt.Sprintf(" AND v.type = ANY($%d::text[])", n) }
	}
	var n int
	if q.Search == "" {
		n = site.Items(q.Types)
	} else {
		countArgs := []any{q.Site, like, report.MaxItemCount + 1}
		if types {
			countArgs = append(countArgs, q.Types)
		}
		if err := db.pool.QueryRow(ctx, `/* dashboard: item count */
			SELECT COUNT(*) FROM (SELECT 1 FROM view_counts v WHERE `+filter+typeFilter(4)+` LIMIT $3) m`, countArgs...).Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("count items: %w", err)
		}
	}
	var limit *int // NULL: no limit
	if q.Limit >= 0 {
		limit = &q.Limit
	}
	args := []any{q.Site, like, session.DayNumber(q.RecentSince), limit, q.Offset}
	if types {
		args = append(args, q.Types)
	}
	// The page is cut first, from the sort index; then only its rows look up their baselines.
	rows, err := db.pool.Query(ctx, `/* dashboard: items */
		SELECT v.site, v.type, v.slug, v.unique_views, v.total_views, v.likes,
		       GREATEST(0, v.total_views - COALESCE((SELECT d.total_views FROM item_daily d
		                                             WHERE d.item_id = v.id AND d.day <= $3 ORDER BY d.day DESC LIMIT 1), 0)),
		       v.last_synced_at
		FROM (SELECT v.id FROM view_counts v WHERE `+filter+typeFilter(6)+` ORDER BY `+order+` LIMIT $4 OFFSET $5) p
		JOIN view_counts v ON v.id = p.id
		ORDER BY `+order, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list items: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.ItemRow, error) {
		var it report.ItemRow
		err := r.Scan(&it.Site, &it.Type, &it.Slug, &it.Unique, &it.Total, &it.Likes, &it.Recent, &it.LastSyncedAt)
		it.LastSyncedAt = it.LastSyncedAt.UTC()
		return it, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list items: %w", err)
	}
	if out == nil {
		out = []report.ItemRow{}
	}
	return out, n, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Item returns one item's row; ok is false if it was never flushed.
func (db *DB) Item(ctx context.Context, it item.Item) (report.ItemRow, bool, error) {
	r := report.ItemRow{Site: it.Site, Type: it.Type, Slug: it.Slug}
	err := db.pool.QueryRow(ctx, `/* dashboard: item */
		SELECT unique_views, total_views, likes, last_synced_at FROM view_counts WHERE site = $1 AND type = $2 AND slug = $3`,
		it.Site, it.Type, it.Slug).Scan(&r.Unique, &r.Total, &r.Likes, &r.LastSyncedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("read item: %w", err)
	}
	r.LastSyncedAt = r.LastSyncedAt.UTC()
	return r, true, nil
}
