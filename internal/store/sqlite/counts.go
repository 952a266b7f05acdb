package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// rowsPerStatement is how many rows one INSERT carries: the driver's cost is per statement, so
// a hundred rows in one costs little more than one.
const rowsPerStatement = 100

// upsertSQL builds an INSERT of n rows of cols columns followed by the conflict clause.
func upsertSQL(head string, cols, n int, conflict string) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return head + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", n), ",") + " " + conflict
}

// inGroups executes the upsert for n rows in statements of rowsPerStatement rows, the full-size
// statement prepared once. args appends the values of row i.
func inGroups(ctx context.Context, tx *sql.Tx, n, cols int, head, conflict string, args func(dst []any, i int) []any) error {
	full, err := tx.PrepareContext(ctx, upsertSQL(head, cols, rowsPerStatement, conflict))
	if err != nil {
		return err
	}
	defer full.Close()
	buf := make([]any, 0, cols*rowsPerStatement)
	for start := 0; start < n; start += rowsPerStatement {
		k := min(rowsPerStatement, n-start)
		buf = buf[:0]
		for i := start; i < start+k; i++ {
			buf = args(buf, i)
		}
		if k == rowsPerStatement {
			_, err = full.ExecContext(ctx, buf...)
		} else {
			_, err = tx.ExecContext(ctx, upsertSQL(head, cols, k, conflict), buf...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// UpsertCounts writes items' cumulative counts into view_counts in one transaction. It
// overwrites, never adds, so writing the same counts twice leaves the same rows.
func (db *DB) UpsertCounts(ctx context.Context, rows []item.Counted) error {
	now := db.timestamp()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return inGroups(ctx, tx, len(rows), 7,
			`/* flush */ INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)`,
			`ON CONFLICT (site, type, slug) DO UPDATE SET
				unique_views   = excluded.unique_views,
				total_views    = excluded.total_views,
				likes          = excluded.likes,
				last_synced_at = excluded.last_synced_at`,
			func(dst []any, i int) []any {
				r := rows[i]
				return append(dst, r.Item.Site, r.Item.Type, r.Item.Slug, r.Counts.Unique, r.Counts.Total, r.Counts.Likes, now)
			})
	})
	if err != nil {
		return fmt.Errorf("upsert view_counts: %w", err)
	}
	return nil
}

// UpsertDaily writes the end-of-day cumulative counts of date into view_counts_daily,
// overwriting any earlier snapshot of that day.
func (db *DB) UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error {
	day := session.FormatDay(date)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		return inGroups(ctx, tx, len(rows), 6,
			`/* snapshot */ INSERT INTO view_counts_daily (site, type, slug, date, unique_views_snapshot, total_views_snapshot)`,
			`ON CONFLICT (site, type, slug, date) DO UPDATE SET
				unique_views_snapshot = excluded.unique_views_snapshot,
				total_views_snapshot  = excluded.total_views_snapshot`,
			func(dst []any, i int) []any {
				r := rows[i]
				return append(dst, r.Item.Site, r.Item.Type, r.Item.Slug, day, r.Counts.Unique, r.Counts.Total)
			})
	})
	if err != nil {
		return fmt.Errorf("upsert view_counts_daily %s: %w", day, err)
	}
	return nil
}

// RecordFlush notes that a flush finished now, having written items rows.
func (db *DB) RecordFlush(ctx context.Context, items int) error {
	return db.recordJob(ctx, report.JobFlush, items)
}

// RecordSnapshot notes that a snapshot finished now, having written items rows.
func (db *DB) RecordSnapshot(ctx context.Context, items int) error {
	return db.recordJob(ctx, report.JobSnapshot, items)
}

// LastFlush returns when the last flush finished; ok is false if none has.
func (db *DB) LastFlush(ctx context.Context) (time.Time, bool, error) {
	return db.lastRun(ctx, report.JobFlush)
}

func (db *DB) recordJob(ctx context.Context, job string, items int) error {
	now := db.now().UTC()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `/* flush, snapshot */
			INSERT INTO job_runs (job, finished_at, items, node) VALUES (?, ?, ?, ?)`,
			job, now.Format(time.RFC3339), items, db.node); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `/* flush, snapshot */ DELETE FROM job_runs WHERE finished_at < ?`,
			now.Add(-report.JobRunsKept).Format(time.RFC3339))
		return err
	})
	if err != nil {
		return fmt.Errorf("record %s run: %w", job, err)
	}
	return nil
}

func (db *DB) lastRun(ctx context.Context, job string) (at time.Time, ok bool, err error) {
	var s string
	err = db.read.QueryRowContext(ctx, `/* healthz, dashboard */
		SELECT finished_at FROM job_runs WHERE job = ? ORDER BY finished_at DESC LIMIT 1`, job).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last %s run: %w", job, err)
	}
	at, err = parseTime(s)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last %s run: %w", job, err)
	}
	return at, true, nil
}

// Top returns the most viewed items, most total views first.
func (db *DB) Top(ctx context.Context, f report.TopFilter) ([]report.TopItem, error) {
	rows, err := db.read.QueryContext(ctx, `/* top */
		SELECT site, type, slug, unique_views, total_views, likes
		FROM view_counts
		WHERE (?1 = '' OR site = ?1) AND (?2 = '' OR type = ?2)
		  AND (?2 <> '' OR ?4 IS NULL OR type IN (SELECT value FROM json_each(?4)))
		ORDER BY `+report.TopOrder[f.By]+`, site, type, slug
		LIMIT ?3`, f.Site, f.Type, f.Limit, typeList(f.Types))
	if err != nil {
		return nil, fmt.Errorf("query top: %w", err)
	}
	defer rows.Close()
	out := []report.TopItem{}
	for rows.Next() {
		var t report.TopItem
		if err := rows.Scan(&t.Site, &t.Type, &t.Slug, &t.Unique, &t.Total, &t.Likes); err != nil {
			return nil, fmt.Errorf("query top: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query top: %w", err)
	}
	return out, nil
}

// SummarizeDay writes view_totals_daily for date from that day's snapshot rows. Run after
// every snapshot of the day; it overwrites, so re-running is harmless.
func (db *DB) SummarizeDay(ctx context.Context, date time.Time) error {
	day := session.FormatDay(date)
	_, err := db.write.ExecContext(ctx, `/* snapshot */
		INSERT INTO view_totals_daily (site, type, date, unique_views_snapshot, total_views_snapshot, items)
		SELECT site, type, date, SUM(unique_views_snapshot), SUM(total_views_snapshot), COUNT(*)
		FROM view_counts_daily WHERE date = ?
		GROUP BY site, type
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
func (db *DB) LastSnapshot(ctx context.Context) (date time.Time, ok bool, err error) {
	var s sql.NullString
	if err := db.read.QueryRowContext(ctx, `/* snapshot catch-up */
		SELECT MAX(date) FROM view_totals_daily`).Scan(&s); err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	if !s.Valid {
		return time.Time{}, false, nil
	}
	date, err = time.Parse(time.DateOnly, s.String)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	return date, true, nil
}
