package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// UpsertDims writes the dimension rows of a flush; a row already there is overwritten with
// the newer cumulative numbers of its day.
func (db *DB) UpsertDims(ctx context.Context, rows []item.DimCount) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	sites, types, slugs, days, dims, values := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	views, visitors := make([]int64, n), make([]int64, n)
	for i, r := range rows {
		sites[i], types[i], slugs[i], days[i] = r.Owner.Site, r.Owner.Type, r.Owner.Slug, r.Day
		dims[i], values[i], views[i], visitors[i] = r.Dim.String(), r.Value, r.Views, r.Visitors
	}
	_, err := db.pool.Exec(ctx, `/* flush */
		INSERT INTO dimension_daily (site, type, slug, date, dim, value, views, visitors)
		SELECT s, t, g, d::date, m, v, n, u
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
		  AS x(s, t, g, d, m, v, n, u)
		ON CONFLICT (site, dim, value, date, type, slug) DO UPDATE SET views = excluded.views, visitors = excluded.visitors`,
		sites, types, slugs, days, dims, values, views, visitors)
	if err != nil {
		return fmt.Errorf("upsert dimension_daily: %w", err)
	}
	return nil
}

// PruneDays deletes the rows of days before before that --retention-days bounds: sources,
// devices and countries (dimension_daily) and what was not counted (excluded_daily), in one
// transaction. It returns how many rows went.
func (db *DB) PruneDays(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, table := range []string{"dimension_daily", "excluded_daily"} {
			tag, err := tx.Exec(ctx, `/* snapshot */ DELETE FROM `+table+` WHERE date < $1::date`, session.FormatDay(before))
			if err != nil {
				return fmt.Errorf("prune %s: %w", table, err)
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n, err
}

// Breakdown sums one owner's rows of a dimension by value, most views first.
func (db *DB) Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: breakdown */
		SELECT value, SUM(views)::bigint AS v, SUM(visitors)::bigint FROM dimension_daily
		WHERE site = $1 AND type = $2 AND slug = $3 AND dim = $4 AND date BETWEEN $5::date AND $6::date
		GROUP BY value ORDER BY v DESC, value LIMIT $7`,
		q.Site, q.Type, q.Slug, q.Dim, session.FormatDay(q.First), session.FormatDay(q.Last), limitOrAll(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read breakdown of %s by %q: %w", q.Site, q.Dim, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.DimRow, error) {
		var d report.DimRow
		return d, r.Scan(&d.Value, &d.Views, &d.Visitors)
	})
}

// DimDays returns one owner's views and visitors of one value, per day that has any.
func (db *DB) DimDays(ctx context.Context, q report.DimQuery) ([]report.DimDay, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: dimension days */
		SELECT to_char(date, 'YYYY-MM-DD'), views, visitors FROM dimension_daily
		WHERE site = $1 AND type = $2 AND slug = $3 AND dim = $4 AND value = $5 AND date BETWEEN $6::date AND $7::date
		ORDER BY date`,
		q.Site, q.Type, q.Slug, q.Dim, q.Value, session.FormatDay(q.First), session.FormatDay(q.Last))
	if err != nil {
		return nil, fmt.Errorf("read days of %s %s=%q: %w", q.Site, q.Dim, q.Value, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.DimDay, error) {
		var d report.DimDay
		return d, r.Scan(&d.Date, &d.Views, &d.Visitors)
	})
}

// DimItems sums a site's items' rows with one value of a dimension, most views first.
func (db *DB) DimItems(ctx context.Context, q report.OwnerQuery) ([]report.OwnerRow, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: items by dimension */
		SELECT type, slug, SUM(views)::bigint AS v, SUM(visitors)::bigint FROM dimension_daily
		WHERE site = $1 AND dim = $2 AND value = $3 AND date BETWEEN $4::date AND $5::date AND type <> ''
		  AND ($6::text[] IS NULL OR type = ANY($6::text[]))
		GROUP BY type, slug ORDER BY v DESC, type, slug LIMIT $7`,
		q.Site, q.Dim, q.Value, session.FormatDay(q.First), session.FormatDay(q.Last), q.Types, limitOrAll(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read items of %s by %s=%q: %w", q.Site, q.Dim, q.Value, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.OwnerRow, error) {
		var o report.OwnerRow
		return o, r.Scan(&o.Type, &o.Slug, &o.Views, &o.Visitors)
	})
}

// limitOrAll is a LIMIT for n rows, or NULL (no limit) for all of them.
func limitOrAll(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

// ConcurrentWrites says that the flush may copy items and dimension rows at the same time:
// each runs on a connection of its own.
func (db *DB) ConcurrentWrites() bool { return true }
