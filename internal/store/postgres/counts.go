package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// columns splits rows into one array per column: a whole chunk goes to the server as one
// statement over unnest(), however many rows it has.
func columns(rows []item.Counted) (sites, types, slugs []string, unique, total, likes []int64) {
	n := len(rows)
	sites, types, slugs = make([]string, n), make([]string, n), make([]string, n)
	unique, total, likes = make([]int64, n), make([]int64, n), make([]int64, n)
	for i, r := range rows {
		sites[i], types[i], slugs[i] = r.Item.Site, r.Item.Type, r.Item.Slug
		unique[i], total[i], likes[i] = r.Counts.Unique, r.Counts.Total, r.Counts.Likes
	}
	return
}

// UpsertCounts writes items' cumulative counts into view_counts in one statement. It
// overwrites, never adds, so writing the same counts twice leaves the same rows.
func (db *DB) UpsertCounts(ctx context.Context, rows []item.Counted) error {
	sites, types, slugs, unique, total, likes := columns(rows)
	_, err := db.pool.Exec(ctx, `/* flush */
		INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)
		SELECT s, t, g, u, n, l, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) AS x(s, t, g, u, n, l)
		ON CONFLICT (site, type, slug) DO UPDATE SET
			unique_views   = excluded.unique_views,
			total_views    = excluded.total_views,
			likes          = excluded.likes,
			last_synced_at = excluded.last_synced_at`,
		sites, types, slugs, unique, total, likes, db.timestamp())
	if err != nil {
		return fmt.Errorf("upsert view_counts: %w", err)
	}
	return nil
}

// UpsertDaily writes the end-of-day cumulative counts of date into view_counts_daily,
// overwriting any earlier snapshot of that day.
func (db *DB) UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error {
	sites, types, slugs, unique, total, _ := columns(rows)
	day := session.FormatDay(date)
	_, err := db.pool.Exec(ctx, `/* snapshot */
		INSERT INTO view_counts_daily (site, type, slug, date, unique_views_snapshot, total_views_snapshot)
		SELECT s, t, g, $6::date, u, n FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS x(s, t, g, u, n)
		ON CONFLICT (site, type, slug, date) DO UPDATE SET
			unique_views_snapshot = excluded.unique_views_snapshot,
			total_views_snapshot  = excluded.total_views_snapshot`,
		sites, types, slugs, unique, total, day)
	if err != nil {
		return fmt.Errorf("upsert view_counts_daily %s: %w", day, err)
	}
	return nil
}

// SummarizeDay writes view_totals_daily for date from that day's snapshot rows. Run after
// every snapshot of the day; it overwrites, so re-running is harmless.
func (db *DB) SummarizeDay(ctx context.Context, date time.Time) error {
	day := session.FormatDay(date)
	_, err := db.pool.Exec(ctx, `/* snapshot */
		INSERT INTO view_totals_daily (site, type, date, unique_views_snapshot, total_views_snapshot, items)
		SELECT site, type, date, SUM(unique_views_snapshot), SUM(total_views_snapshot), COUNT(*)
		FROM view_counts_daily WHERE date = $1::date
		GROUP BY site, type, date
		ON CONFLICT (site, type, date) DO UPDATE SET
			unique_views_snapshot = excluded.unique_views_snapshot,
			total_views_snapshot  = excluded.total_views_snapshot,
			items                 = excluded.items`, day)
	if err != nil {
		return fmt.Errorf("summarize %s: %w", day, err)
	}
	return nil
}

// LastSnapshot returns the latest day with a snapshot; ok is false if there is none.
func (db *DB) LastSnapshot(ctx context.Context) (time.Time, bool, error) {
	var s *string
	if err := db.pool.QueryRow(ctx, `/* snapshot catch-up */
		SELECT to_char(MAX(date), 'YYYY-MM-DD') FROM view_totals_daily`).Scan(&s); err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	if s == nil {
		return time.Time{}, false, nil
	}
	d, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	return d, true, nil
}

// RecordFlush notes that a flush finished now, having written items rows.
func (db *DB) RecordFlush(ctx context.Context, items int) error {
	return db.recordJob(ctx, report.JobFlush, items)
}

// RecordSnapshot notes that a snapshot finished now, having written items rows.
func (db *DB) RecordSnapshot(ctx context.Context, items int) error {
	return db.recordJob(ctx, report.JobSnapshot, items)
}

func (db *DB) recordJob(ctx context.Context, job string, items int) error {
	now := db.timestamp()
	_, err := db.pool.Exec(ctx, `/* flush, snapshot */
		WITH pruned AS (DELETE FROM job_runs WHERE finished_at < $5)
		INSERT INTO job_runs (job, finished_at, items, node) VALUES ($1, $2, $3, $4)`,
		job, now, items, db.node, now.Add(-report.JobRunsKept))
	if err != nil {
		return fmt.Errorf("record %s run: %w", job, err)
	}
	return nil
}

// LastFlush returns when the last flush finished; ok is false if none has.
func (db *DB) LastFlush(ctx context.Context) (time.Time, bool, error) {
	var at time.Time
	err := db.pool.QueryRow(ctx, `/* healthz, dashboard */
		SELECT finished_at FROM job_runs WHERE job = $1 ORDER BY finished_at DESC LIMIT 1`, report.JobFlush).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last flush: %w", err)
	}
	return at.UTC(), true, nil
}

// Top returns the most viewed items, most total views first.
func (db *DB) Top(ctx context.Context, f report.TopFilter) ([]report.TopItem, error) {
	rows, err := db.pool.Query(ctx, `/* top */
		SELECT site, type, slug, unique_views, total_views, likes
		FROM view_counts
		WHERE ($1 = '' OR site = $1) AND ($2 = '' OR type = $2)
		  AND ($2 <> '' OR $4::text[] IS NULL OR type = ANY($4::text[]))
		ORDER BY `+report.TopOrder[f.By]+`, site, type, slug
		LIMIT $3`, f.Site, f.Type, f.Limit, f.Types)
	if err != nil {
		return nil, fmt.Errorf("query top: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (report.TopItem, error) {
		var t report.TopItem
		err := r.Scan(&t.Site, &t.Type, &t.Slug, &t.Unique, &t.Total, &t.Likes)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("query top: %w", err)
	}
	if out == nil {
		out = []report.TopItem{}
	}
	return out, nil
}
