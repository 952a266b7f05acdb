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
// the newer cumulative numbers of its day. Owners and values get their ids first: a site in
// sites, an item in view_counts (an item not flushed yet enters with no views, for the flush
// to count), a value in dim_values.
func (db *DB) UpsertDims(ctx context.Context, rows []item.DimCount) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	sites, types, slugs := make([]string, n), make([]string, n), make([]string, n)
	days, dims, values := make([]int64, n), make([]int16, n), make([]string, n)
	views, visitors := make([]int64, n), make([]int64, n)
	for i, r := range rows {
		sites[i], types[i], slugs[i], days[i] = r.Owner.Site, r.Owner.Type, r.Owner.Slug, report.DayNumberOf(r.Day)
		dims[i], values[i], views[i], visitors[i] = int16(r.Dim), r.Value, r.Views, r.Visitors
	}
	ownerSites, items := report.DimOwners(rows)
	err := db.inRollupTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `/* flush */ INSERT INTO sites (site) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, ownerSites); err != nil {
			return err
		}
		if err := db.addItems(ctx, tx, items); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `/* flush */
			INSERT INTO dim_values (site, dim, value) SELECT DISTINCT s, m, v FROM unnest($1::text[], $2::smallint[], $3::text[]) AS x(s, m, v)
			ON CONFLICT DO NOTHING`, sites, dims, values); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `/* flush */
			INSERT INTO dimension_daily (owner, dim, day, value_id, views, visitors)
			SELECT CASE WHEN x.t = '' THEN -s.id ELSE v.id END, x.m, x.d, dv.id, x.n, x.u
			FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::smallint[], $6::text[], $7::bigint[], $8::bigint[])
			  AS x(s, t, g, d, m, val, n, u)
			JOIN sites s ON s.site = x.s
			LEFT JOIN view_counts v ON x.t <> '' AND v.site = x.s AND v.type = x.t AND v.slug = x.g
			JOIN dim_values dv ON dv.site = x.s AND dv.dim = x.m AND dv.value = x.val
			ON CONFLICT (owner, dim, day, value_id) DO UPDATE SET views = excluded.views, visitors = excluded.visitors`,
			sites, types, slugs, days, dims, values, views, visitors)
		return err
	})
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
		for _, del := range []struct {
			table string
			until any
		}{{"dimension_daily WHERE day", session.DayNumber(before)}, {"excluded_daily WHERE date", session.FormatDay(before)}} {
			tag, err := tx.Exec(ctx, `/* snapshot */ DELETE FROM `+del.table+` < $1`, del.until)
			if err != nil {
				return fmt.Errorf("prune %s: %w", del.table, err)
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return n, err
}

// owner is the id of q's owner as dimension_daily has it, for $1 the site, $2 the type and $3
// the slug: minus the site's id, or the item's.
const owner = `CASE WHEN $2 = '' THEN -(SELECT id FROM sites WHERE site = $1)
	ELSE (SELECT id FROM view_counts WHERE site = $1 AND type = $2 AND slug = $3) END`

// Breakdown sums one owner's rows of a dimension by value, most views first.
func (db *DB) Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: breakdown */
		SELECT dv.value, SUM(d.views)::bigint AS v, SUM(d.visitors)::bigint FROM dimension_daily d JOIN dim_values dv ON dv.id = d.value_id
		WHERE d.owner = `+owner+` AND d.dim = $4 AND d.day BETWEEN $5 AND $6
		GROUP BY dv.value ORDER BY v DESC, dv.value LIMIT $7`,
		q.Site, q.Type, q.Slug, report.DimNumber(q.Dim), session.DayNumber(q.First), session.DayNumber(q.Last), limitOrAll(q.Limit))
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
		SELECT to_char(DATE '1970-01-01' + d.day, 'YYYY-MM-DD'), d.views, d.visitors FROM dimension_daily d
		WHERE d.owner = `+owner+` AND d.dim = $4 AND d.day BETWEEN $5 AND $6
		  AND d.value_id = (SELECT id FROM dim_values WHERE site = $1 AND dim = $4 AND value = $7)
		ORDER BY d.day`,
		q.Site, q.Type, q.Slug, report.DimNumber(q.Dim), session.DayNumber(q.First), session.DayNumber(q.Last), q.Value)
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
		SELECT v.type, v.slug, SUM(d.views)::bigint AS s, SUM(d.visitors)::bigint FROM dimension_daily d JOIN view_counts v ON v.id = d.owner
		WHERE d.value_id = (SELECT id FROM dim_values WHERE site = $1 AND dim = $2 AND value = $3)
		  AND d.day BETWEEN $4 AND $5 AND d.owner > 0
		  AND ($6::text[] IS NULL OR v.type = ANY($6::text[]))
		GROUP BY v.type, v.slug ORDER BY s DESC, v.type, v.slug LIMIT $7`,
		q.Site, report.DimNumber(q.Dim), q.Value, session.DayNumber(q.First), session.DayNumber(q.Last), q.Types, limitOrAll(q.Limit))
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
