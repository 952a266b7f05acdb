package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// UpsertExcluded writes per-day exclusion totals into excluded_daily. It overwrites, never
// adds, so writing the same totals twice leaves the same rows.
func (db *DB) UpsertExcluded(ctx context.Context, rows []item.Excluded) error {
	if len(rows) == 0 {
		return nil
	}
	sites, days, kinds, names, counts := make([]string, len(rows)), make([]string, len(rows)),
		make([]string, len(rows)), make([]string, len(rows)), make([]int64, len(rows))
	for i, r := range rows {
		sites[i], days[i], kinds[i], names[i], counts[i] = r.Site, r.Day, r.Kind, r.Name, r.Count
	}
	_, err := db.pool.Exec(ctx, `/* flush */
		INSERT INTO excluded_daily (site, date, kind, name, count)
		SELECT s, d::date, k, n, c FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(s, d, k, n, c)
		ON CONFLICT (site, date, kind, name) DO UPDATE SET count = excluded.count`,
		sites, days, kinds, names, counts)
	if err != nil {
		return fmt.Errorf("upsert excluded_daily: %w", err)
	}
	return nil
}

// Excluded sums what site did not count from first to last (UTC days, inclusive).
func (db *DB) Excluded(ctx context.Context, site string, first, last time.Time) (report.NotCounted, error) {
	rows, err := db.pool.Query(ctx, `/* dashboard: excluded */
		SELECT kind, name, SUM(count)::bigint AS n FROM excluded_daily
		WHERE site = $1 AND date BETWEEN $2::date AND $3::date
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
