package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// UpsertDims writes the dimension rows of a flush; a row already there is overwritten with
// the newer cumulative numbers of its day. Owners and values get their ids first: a site in
// sites, an item in view_counts (an item not flushed yet enters with no views, for the flush
// to count), a value in dim_values.
func (db *DB) UpsertDims(ctx context.Context, rows []item.DimCount) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		sites, items := report.DimOwners(rows)
		err := upsertInGroups(ctx, tx, len(sites), 1, `/* flush */ INSERT INTO sites (site)`, `ON CONFLICT DO NOTHING`,
			func(dst []any, i int) []any { return append(dst, sites[i]) })
		if err != nil {
			return err
		}
		if err := addItems(ctx, tx, items, db.timestamp()); err != nil {
			return err
		}
		err = upsertInGroups(ctx, tx, len(rows), 3, `/* flush */ INSERT INTO dim_values (site, dim, value)`, `ON CONFLICT DO NOTHING`,
			func(dst []any, i int) []any { return append(dst, rows[i].Owner.Site, int(rows[i].Dim), rows[i].Value) })
		if err != nil {
			return err
		}
		return inGroups(ctx, tx, len(rows), 8, func(values string) string {
			return `/* flush */ WITH n (site, type, slug, day, dim, value, views, visitors) AS (VALUES ` + values + `)
				INSERT INTO dimension_daily (owner, dim, day, value_id, views, visitors)
				SELECT CASE WHEN n.type = '' THEN -(SELECT id FROM sites s WHERE s.site = n.site)
				            ELSE (SELECT id FROM view_counts v WHERE v.site = n.site AND v.type = n.type AND v.slug = n.slug) END,
				       n.dim, n.day,
				       (SELECT id FROM dim_values dv WHERE dv.site = n.site AND dv.dim = n.dim AND dv.value = n.value),
				       n.views, n.visitors
				FROM n WHERE true
				ON CONFLICT (owner, dim, day, value_id) DO UPDATE SET views = excluded.views, visitors = excluded.visitors`
		}, func(dst []any, i int) []any {
			r := rows[i]
			return append(dst, r.Owner.Site, r.Owner.Type, r.Owner.Slug, report.DayNumberOf(r.Day), int(r.Dim), r.Value, r.Views, r.Visitors)
		}, nil)
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, del := range []struct {
			table string
			until any
		}{{"dimension_daily WHERE day", session.DayNumber(before)}, {"excluded_daily WHERE date", session.FormatDay(before)}} {
			res, err := tx.ExecContext(ctx, `/* snapshot */ DELETE FROM `+del.table+` < ?`, del.until)
			if err != nil {
				return fmt.Errorf("prune %s: %w", del.table, err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}

// owner is the id of q's owner as dimension_daily has it, for ?1 the site, ?2 the type and ?3
// the slug: minus the site's id, or the item's.
const owner = `CASE WHEN ?2 = '' THEN -(SELECT id FROM sites WHERE site = ?1)
	ELSE (SELECT id FROM view_counts WHERE site = ?1 AND type = ?2 AND slug = ?3) END`

// Breakdown sums one owner's rows of a dimension by value, most views first.
func (db *DB) Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: breakdown */
		SELECT dv.value, SUM(d.views) AS v, SUM(d.visitors) FROM dimension_daily d JOIN dim_values dv ON dv.id = d.value_id
		WHERE d.owner = `+owner+` AND d.dim = ?4 AND d.day BETWEEN ?5 AND ?6
		GROUP BY dv.value ORDER BY v DESC, dv.value LIMIT ?7`,
		q.Site, q.Type, q.Slug, report.DimNumber(q.Dim), session.DayNumber(q.First), session.DayNumber(q.Last), limitOrAll(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read breakdown of %s by %q: %w", q.Site, q.Dim, err)
	}
	return scanAll(rows, func(r *report.DimRow) []any { return []any{&r.Value, &r.Views, &r.Visitors} })
}

// DimDays returns one owner's views and visitors of one value, per day that has any.
func (db *DB) DimDays(ctx context.Context, q report.DimQuery) ([]report.DimDay, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: dimension days */
		SELECT date(d.day * 86400, 'unixepoch'), d.views, d.visitors FROM dimension_daily d
		WHERE d.owner = `+owner+` AND d.dim = ?4 AND d.day BETWEEN ?5 AND ?6
		  AND d.value_id = (SELECT id FROM dim_values WHERE site = ?1 AND dim = ?4 AND value = ?7)
		ORDER BY d.day`,
		q.Site, q.Type, q.Slug, report.DimNumber(q.Dim), session.DayNumber(q.First), session.DayNumber(q.Last), q.Value)
	if err != nil {
		return nil, fmt.Errorf("read days of %s %s=%q: %w", q.Site, q.Dim, q.Value, err)
	}
	return scanAll(rows, func(r *report.DimDay) []any { return []any{&r.Date, &r.Views, &r.Visitors} })
}

// DimItems sums a site's items' rows with one value of a dimension, most views first.
func (db *DB) DimItems(ctx context.Context, q report.OwnerQuery) ([]report.OwnerRow, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: items by dimension */
		SELECT v.type, v.slug, SUM(d.views) AS s, SUM(d.visitors) FROM dimension_daily d JOIN view_counts v ON v.id = d.owner
		WHERE d.value_id = (SELECT id FROM dim_values WHERE site = ?1 AND dim = ?2 AND value = ?3)
		  AND d.day BETWEEN ?4 AND ?5 AND d.owner > 0
		  AND (?6 IS NULL OR v.type IN (SELECT value FROM json_each(?6)))
		GROUP BY v.type, v.slug ORDER BY s DESC, v.type, v.slug LIMIT ?7`,
		q.Site, report.DimNumber(q.Dim), q.Value, session.DayNumber(q.First), session.DayNumber(q.Last),
		typeList(q.Types), limitOrAll(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read items of %s by %s=%q: %w", q.Site, q.Dim, q.Value, err)
	}
	return scanAll(rows, func(r *report.OwnerRow) []any { return []any{&r.Type, &r.Slug, &r.Views, &r.Visitors} })
}

// limitOrAll is a LIMIT for n rows, or for all of them.
func limitOrAll(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// scanAll reads every row into a T, through the destinations fields gives for it.
func scanAll[T any](rows *sql.Rows, fields func(*T) []any) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var t T
		if err := rows.Scan(fields(&t)...); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
