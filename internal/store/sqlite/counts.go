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

// values is the VALUES list of n rows of cols parameters each.
func values(cols, n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	return strings.TrimSuffix(strings.Repeat(row+",", n), ",")
}

// inGroups executes, for n rows in groups of rowsPerStatement, the statement sql builds around
// a group's VALUES list, the full-size statement prepared once. args appends the values of row
// i; each result row, if scan is not nil, goes to scan.
func inGroups(ctx context.Context, tx *sql.Tx, n, cols int, build func(values string) string, args func(dst []any, i int) []any, scan func(*sql.Rows) error) error {
	full, err := tx.PrepareContext(ctx, build(values(cols, rowsPerStatement)))
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
		if scan == nil {
			if k == rowsPerStatement {
				_, err = full.ExecContext(ctx, buf...)
			} else {
				_, err = tx.ExecContext(ctx, build(values(cols, k)), buf...)
			}
			if err != nil {
				return err
			}
			continue
		}
		var rows *sql.Rows
		if k == rowsPerStatement {
			rows, err = full.QueryContext(ctx, buf...)
		} else {
			rows, err = tx.QueryContext(ctx, build(values(cols, k)), buf...)
		}
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// upsertInGroups is inGroups for an INSERT of rows (head names the table and columns) with
// its conflict clause.
func upsertInGroups(ctx context.Context, tx *sql.Tx, n, cols int, head, conflict string, args func(dst []any, i int) []any) error {
	return inGroups(ctx, tx, n, cols, func(values string) string { return head + " VALUES " + values + " " + conflict }, args, nil)
}

// countsArgs appends row i's site, type, slug, unique, total and likes.
func countsArgs(rows []item.Counted) func(dst []any, i int) []any {
	return func(dst []any, i int) []any {
		r := rows[i]
		return append(dst, r.Item.Site, r.Item.Type, r.Item.Slug, r.Counts.Unique, r.Counts.Total, r.Counts.Likes)
	}
}

// UpsertCounts writes items' cumulative counts into view_counts in one transaction, and moves
// each site's totals in site_totals by the difference to the rows they replace. It overwrites,
// never adds, so writing the same counts twice leaves the same rows. rows hold each item once.
func (db *DB) UpsertCounts(ctx context.Context, rows []item.Counted) error {
	now := db.timestamp()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The rollup reads the rows before the upsert replaces them.
		err := inGroups(ctx, tx, len(rows), 6, func(values string) string {
			return `/* flush */ WITH n (site, type, slug, u, t, l) AS (VALUES ` + values + `)
				INSERT INTO site_totals (site, type, unique_views, total_views, likes, items)
				SELECT n.site, n.type, SUM(n.u - COALESCE(o.unique_views, 0)), SUM(n.t - COALESCE(o.total_views, 0)),
				       SUM(n.l - COALESCE(o.likes, 0)), SUM(o.id IS NULL)
				FROM n LEFT JOIN view_counts o ON o.site = n.site AND o.type = n.type AND o.slug = n.slug
				WHERE true GROUP BY n.site, n.type
				ON CONFLICT (site, type) DO UPDATE SET
					unique_views = unique_views + excluded.unique_views,
					total_views  = total_views + excluded.total_views,
					likes        = likes + excluded.likes,
					items        = items + excluded.items`
		}, countsArgs(rows), nil)
		if err != nil {
			return err
		}
		return inGroups(ctx, tx, len(rows), 7, func(values string) string {
			return `/* flush */ INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)
				VALUES ` + values + ` ON CONFLICT (site, type, slug) DO UPDATE SET
					unique_views   = excluded.unique_views,
					total_views    = excluded.total_views,
					likes          = excluded.likes,
					last_synced_at = excluded.last_synced_at`
		}, func(dst []any, i int) []any { return append(countsArgs(rows)(dst, i), now) }, nil)
	})
	if err != nil {
		return fmt.Errorf("upsert view_counts: %w", err)
	}
	return nil
}

// UpsertDaily writes the end-of-day cumulative counts of date of the items that changed that
// day into item_daily, overwriting an earlier snapshot of that day, and moves site_daily by
// the difference each row makes, all in one transaction. An item not flushed yet enters
// view_counts (and site_totals) with these counts, for the next flush to overwrite.
func (db *DB) UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error {
	d := session.DayNumber(date)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := addItems(ctx, tx, rows, db.timestamp()); err != nil {
			return err
		}
		// Each row's id, the value it replaces (the item's latest row on or before the day) and
		// the day of its next row, before which the difference holds.
		var moves []report.DailyMove
		var writes []any
		err := inGroups(ctx, tx, len(rows), 5, func(values string) string {
			return fmt.Sprintf(`/* snapshot */ WITH n (site, type, slug, u, t) AS (VALUES %s)
				SELECT v.id, n.site, n.type, n.u, n.t, o.day, o.unique_views, o.total_views,
				       (SELECT MIN(day) FROM item_daily x WHERE x.item_id = v.id AND x.day > %[2]d)
				FROM n JOIN view_counts v ON v.site = n.site AND v.type = n.type AND v.slug = n.slug
				LEFT JOIN item_daily o ON o.item_id = v.id
				      AND o.day = (SELECT MAX(day) FROM item_daily y WHERE y.item_id = v.id AND y.day <= %[2]d)`, values, d)
		}, func(dst []any, i int) []any {
			r := rows[i]
			return append(dst, r.Item.Site, r.Item.Type, r.Item.Slug, r.Counts.Unique, r.Counts.Total)
		}, func(r *sql.Rows) error {
			var m report.DailyMove
			var id int64
			var oday, next, ou, ot sql.NullInt64
			if err := r.Scan(&id, &m.Site, &m.Type, &m.New.Unique, &m.New.Total, &oday, &ou, &ot, &next); err != nil {
				return err
			}
			m.Old = report.Totals{Unique: ou.Int64, Total: ot.Int64}
			m.Next, m.HasNext = next.Int64, next.Valid
			if !m.Keep(oday.Int64, oday.Valid, d) {
				return nil
			}
			moves = append(moves, m)
			writes = append(writes, id, d, m.New.Unique, m.New.Total)
			return nil
		})
		if err != nil {
			return err
		}
		err = inGroups(ctx, tx, len(writes)/4, 4, func(values string) string {
			return `/* snapshot */ INSERT INTO item_daily (item_id, day, unique_views, total_views) VALUES ` + values + `
				ON CONFLICT (item_id, day) DO UPDATE SET unique_views = excluded.unique_views, total_views = excluded.total_views`
		}, func(dst []any, i int) []any { return append(dst, writes[4*i:4*i+4]...) }, nil)
		if err != nil {
			return err
		}
		return moveSiteDaily(ctx, tx, d, moves)
	})
	if err != nil {
		return fmt.Errorf("upsert the snapshot of %s: %w", session.FormatDay(date), err)
	}
	return nil
}

// addItems puts the items of rows that view_counts lacks into it, with rows' counts, and
// counts them in site_totals, so that they have ids; an item already there is left alone.
func addItems(ctx context.Context, tx *sql.Tx, rows []item.Counted, now string) error {
	added := map[report.SiteType]report.Change{}
	err := inGroups(ctx, tx, len(rows), 7, func(values string) string {
		return `/* flush, snapshot */ INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)
			VALUES ` + values + ` ON CONFLICT (site, type, slug) DO NOTHING
			RETURNING site, type, unique_views, total_views, likes`
	}, func(dst []any, i int) []any { return append(countsArgs(rows)(dst, i), now) }, func(r *sql.Rows) error {
		var k report.SiteType
		var c report.Change
		if err := r.Scan(&k.Site, &k.Type, &c.Unique, &c.Total, &c.Likes); err != nil {
			return err
		}
		c.Items = 1
		added[k] = added[k].Plus(c)
		return nil
	})
	if err != nil {
		return err
	}
	for k, c := range added {
		if _, err := tx.ExecContext(ctx, `/* flush, snapshot */
			INSERT INTO site_totals (site, type, unique_views, total_views, likes, items) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (site, type) DO UPDATE SET
				unique_views = unique_views + excluded.unique_views,
				total_views  = total_views + excluded.total_views,
				likes        = likes + excluded.likes,
				items        = items + excluded.items`, k.Site, k.Type, c.Unique, c.Total, c.Likes, c.Items); err != nil {
			return err
		}
	}
	return nil
}

// moveSiteDaily adds the rows' differences to site_daily: from day d up to the day of each
// item's next row, after which that row holds the item's value. A site without a row on d
// first gets a copy of its latest row before d.
func moveSiteDaily(ctx context.Context, tx *sql.Tx, d int64, moves []report.DailyMove) error {
	for _, g := range report.GroupMoves(moves) {
		if _, err := tx.ExecContext(ctx, `/* snapshot */
			INSERT INTO site_daily (site, type, day, unique_views, total_views)
			SELECT ?1, ?2, ?3,
			       COALESCE((SELECT unique_views FROM site_daily WHERE site = ?1 AND type = ?2 AND day < ?3 ORDER BY day DESC LIMIT 1), 0),
			       COALESCE((SELECT total_views FROM site_daily WHERE site = ?1 AND type = ?2 AND day < ?3 ORDER BY day DESC LIMIT 1), 0)
			WHERE true ON CONFLICT (site, type, day) DO NOTHING`, g.Site, g.Type, d); err != nil {
			return err
		}
		if g.Diff == (report.Totals{}) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `/* snapshot */
			UPDATE site_daily SET unique_views = unique_views + ?, total_views = total_views + ?
			WHERE site = ? AND type = ? AND day >= ? AND (? = 0 OR day < ?)`,
			g.Diff.Unique, g.Diff.Total, g.Site, g.Type, d, g.HasNext, g.Next); err != nil {
			return err
		}
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
		ORDER BY `+report.TopOrder[f.By]+`
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

// MarkSnapshot records that date was snapshotted, after all its rows are written.
func (db *DB) MarkSnapshot(ctx context.Context, date time.Time) error {
	if _, err := db.write.ExecContext(ctx, `/* snapshot */ INSERT INTO snapshot_days (day) VALUES (?) ON CONFLICT DO NOTHING`,
		session.DayNumber(date)); err != nil {
		return fmt.Errorf("mark the snapshot of %s: %w", session.FormatDay(date), err)
	}
	return nil
}

// LastSnapshot returns the latest day with a snapshot; ok is false if there is none.
func (db *DB) LastSnapshot(ctx context.Context) (date time.Time, ok bool, err error) {
	var d sql.NullInt64
	if err := db.read.QueryRowContext(ctx, `/* snapshot catch-up */ SELECT MAX(day) FROM snapshot_days`).Scan(&d); err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	if !d.Valid {
		return time.Time{}, false, nil
	}
	return session.DayOf(d.Int64), true, nil
}
