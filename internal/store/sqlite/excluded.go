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

// UpsertExcluded writes per-day exclusion totals into excluded_daily. It overwrites, never
// adds, so writing the same totals twice leaves the same rows.
func (db *DB) UpsertExcluded(ctx context.Context, rows []item.Excluded) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return upsertInGroups(ctx, tx, len(rows), 5,
			`/* flush */ INSERT INTO excluded_daily (site, date, kind, name, count)`,
			`ON CONFLICT (site, date, kind, name) DO UPDATE SET count = excluded.count`,
			func(dst []any, i int) []any {
				r := rows[i]
				return append(dst, r.Site, r.Day, r.Kind, r.Name, r.Count)
			})
	})
	if err != nil {
		return fmt.Errorf("upsert excluded_daily: %w", err)
	}
	return nil
}

// Excluded sums what site did not count from first to last (UTC days, inclusive).
func (db *DB) Excluded(ctx context.Context, site string, first, last time.Time) (report.NotCounted, error) {
	rows, err := db.read.QueryContext(ctx, `/* dashboard */
		SELECT kind, name, SUM(count) AS n FROM excluded_daily
		WHERE site = ? AND date BETWEEN ? AND ?
		GROUP BY kind, name ORDER BY n DESC, name`,
		site, session.FormatDay(first), session.FormatDay(last))
	if err != nil {
		return report.NotCounted{}, fmt.Errorf("read excluded_daily of %s: %w", site, err)
	}
	defer rows.Close()
	var ex report.NotCounted
	for rows.Next() {
		var kind string
		var c report.Count
		if err := rows.Scan(&kind, &c.Name, &c.Count); err != nil {
			return report.NotCounted{}, fmt.Errorf("read excluded_daily of %s: %w", site, err)
		}
		ex.Add(kind == item.ExcludedBot, c)
	}
	if err := rows.Err(); err != nil {
		return report.NotCounted{}, fmt.Errorf("read excluded_daily of %s: %w", site, err)
	}
	return ex, nil
}
