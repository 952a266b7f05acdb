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
// the newer cumulative numbers of its day.
func (db *DB) UpsertDims(ctx context.Context, rows []item.DimCount) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return upsertInGroups(ctx, tx, len(rows), 8,
			`/* flush */ INSERT INTO dimension_daily (site, type, slug, date, dim, value, views, visitors)`,
			`ON CONFLICT (site, dim, value, date, type, slug) DO UPDATE SET views = excluded.views, visitors = excluded.visitors`,
			func(dst []any, i int) []any {
				r := rows[i]
				return append(dst, r.Owner.Site, r.Owner.Type, r.Owner.Slug, r.Day, r.Dim.String(), r.Value, r.Views, r.Visitors)
			})
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
		for _, table := range []string{"dimension_daily", "excluded_daily"} {
			res, err := tx.ExecContext(ctx, `/* snapshot */ DELETE FROM `+table+` WHERE date < ?`, session.FormatDay(before))
			if err != nil {
				return fmt.Errorf("prune %s: %w", table, err)
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, err
}

// Breakdown sums one owner's rows of a dimension by value, most views first.
func (db *DB) Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: breakdown */
		SELECT value, SUM(views) AS v, SUM(visitors) FROM dimension_daily
		WHERE site = ? AND type = ? AND slug = ? AND dim = ? AND date BETWEEN ? AND ?
		GROUP BY value ORDER BY v DESC, value LIMIT ?`,
		q.Site, q.Type, q.Slug, q.Dim, session.FormatDay(q.First), session.FormatDay(q.Last), limitOrAll(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("read breakdown of %s by %q: %w", q.Site, q.Dim, err)
	}
	return scanAll(rows, func(r *report.DimRow) []any { return []any{&r.Value, &r.Views, &r.Visitors} })
}

// DimDays returns one owner's views and visitors of one value, per day that has any.
func (db *DB) DimDays(ctx context.Context, q report.DimQuery) ([]report.DimDay, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: dimension days */
		SELECT date, views, visitors FROM dimension_daily
		WHERE site = ? AND type = ? AND slug = ? AND dim = ? AND value = ? AND date BETWEEN ? AND ?
		ORDER BY date`,
		q.Site, q.Type, q.Slug, q.Dim, q.Value, session.FormatDay(q.First), session.FormatDay(q.Last))
	if err != nil {
		return nil, fmt.Errorf("read days of %s %s=%q: %w", q.Site, q.Dim, q.Value, err)
	}
	return scanAll(rows, func(r *report.DimDay) []any { return []any{&r.Date, &r.Views, &r.Visitors} })
}

// DimItems sums a site's items' rows with one value of a dimension, most views first.
func (db *DB) DimItems(ctx context.Context, q report.OwnerQuery) ([]report.OwnerRow, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard: items by dimension */
		SELECT type, slug, SUM(views) AS v, SUM(visitors) FROM dimension_daily
		WHERE site = ?1 AND dim = ?2 AND value = ?3 AND date BETWEEN ?4 AND ?5 AND type <> ''
		  AND (?6 IS NULL OR type IN (SELECT value FROM json_each(?6)))
		GROUP BY type, slug ORDER BY v DESC, type, slug LIMIT ?7`,
		q.Site, q.Dim, q.Value, session.FormatDay(q.First), session.FormatDay(q.Last),
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
