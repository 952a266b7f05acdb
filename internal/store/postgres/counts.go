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

// rollupLock is the advisory lock key the transactions that move site_totals and site_daily
// take: "rollups" in ASCII. Each reads rows, then adds their differences to the rollups, so two
// at once (two nodes' jobs) would both add the same difference.
const rollupLock = 0x726f6c6c757073

// inRollupTx runs fn in a transaction that holds the rollup lock.
func (db *DB) inRollupTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rollupLock); err != nil {
			return err
		}
		return fn(tx)
	})
}

// UpsertCounts writes items' cumulative counts into view_counts, and moves each site's
// totals in site_totals by the difference to the rows they replace, in one statement. It
// overwrites, never adds, so writing the same counts twice leaves the same rows. rows hold
// each item once.
func (db *DB) UpsertCounts(ctx context.Context, rows []item.Counted) error {
	sites, types, slugs, unique, total, likes := columns(rows)
	err := db.inRollupTx(ctx, func(tx pgx.Tx) error {
		// Every part of one statement sees the rows as they were before it.
		_, err := tx.Exec(ctx, `/* flush */
			WITH n AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) AS x(s, t, g, u, n, l)),
			rollup AS (
				INSERT INTO site_totals (site, type, unique_views, total_views, likes, items)
				SELECT n.s, n.t, SUM(n.u - COALESCE(o.unique_views, 0)), SUM(n.n - COALESCE(o.total_views, 0)),
				       SUM(n.l - COALESCE(o.likes, 0)), COUNT(*) FILTER (WHERE o.id IS NULL)
				FROM n LEFT JOIN view_counts o ON o.site = n.s AND o.type = n.t AND o.slug = n.g
				GROUP BY n.s, n.t
				ON CONFLICT (site, type) DO UPDATE SET
					unique_views = site_totals.unique_views + excluded.unique_views,
					total_views  = site_totals.total_views + excluded.total_views,
					likes        = site_totals.likes + excluded.likes,
					items        = site_totals.items + excluded.items)
			INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)
			SELECT s, t, g, u, n, l, $7 FROM n
			ON CONFLICT (site, type, slug) DO UPDATE SET
				unique_views   = excluded.unique_views,
				total_views    = excluded.total_views,
				likes          = excluded.likes,
				last_synced_at = excluded.last_synced_at`,
			sites, types, slugs, unique, total, likes, db.timestamp())
		return err
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
	sites, types, slugs, unique, total, _ := columns(rows)
	d := session.DayNumber(date)
	err := db.inRollupTx(ctx, func(tx pgx.Tx) error {
		if err := db.addItems(ctx, tx, rows); err != nil {
			return err
		}
		// Each row's id, the value it replaces (the item's latest row on or before the day) and
		// the day of its next row, before which the difference holds.
		got, err := tx.Query(ctx, `/* snapshot */
			SELECT v.id, v.site, v.type, n.u, n.n, o.day, o.unique_views, o.total_views,
			       (SELECT MIN(day) FROM item_daily x WHERE x.item_id = v.id AND x.day > $6)
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS n(s, t, g, u, n)
			JOIN view_counts v ON v.site = n.s AND v.type = n.t AND v.slug = n.g
			LEFT JOIN LATERAL (SELECT day, unique_views, total_views FROM item_daily y
			                   WHERE y.item_id = v.id AND y.day <= $6 ORDER BY day DESC LIMIT 1) o ON true`,
			sites, types, slugs, unique, total, d)
		if err != nil {
			return err
		}
		var moves []report.DailyMove
		var ids, wu, wt []int64
		for got.Next() {
			var m report.DailyMove
			var id int64
			var oday, next, ou, ot *int64
			if err := got.Scan(&id, &m.Site, &m.Type, &m.New.Unique, &m.New.Total, &oday, &ou, &ot, &next); err != nil {
				got.Close()
				return err
			}
			if ou != nil {
				m.Old = report.Totals{Unique: *ou, Total: *ot}
			}
			if next != nil {
				m.Next, m.HasNext = *next, true
			}
			if oldDay, ok := deref(oday); !m.Keep(oldDay, ok, d) {
				continue
			}
			moves = append(moves, m)
			ids, wu, wt = append(ids, id), append(wu, m.New.Unique), append(wt, m.New.Total)
		}
		got.Close()
		if err := got.Err(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `/* snapshot */
			INSERT INTO item_daily (item_id, day, unique_views, total_views)
			SELECT i, $4, u, n FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS x(i, u, n)
			ON CONFLICT (item_id, day) DO UPDATE SET unique_views = excluded.unique_views, total_views = excluded.total_views`,
			ids, wu, wt, d); err != nil {
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
// counts them in site_totals, so that they have ids; an item already there is left alone. It
// runs in a transaction that holds the rollup lock.
func (db *DB) addItems(ctx context.Context, tx pgx.Tx, rows []item.Counted) error {
	sites, types, slugs, unique, total, likes := columns(rows)
	_, err := tx.Exec(ctx, `/* flush, snapshot */
		WITH added AS (
			INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at)
			SELECT s, t, g, u, n, l, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[]) AS x(s, t, g, u, n, l)
			ON CONFLICT (site, type, slug) DO NOTHING
			RETURNING site, type, unique_views, total_views, likes)
		INSERT INTO site_totals (site, type, unique_views, total_views, likes, items)
		SELECT site, type, SUM(unique_views), SUM(total_views), SUM(likes), COUNT(*) FROM added GROUP BY site, type
		ON CONFLICT (site, type) DO UPDATE SET
			unique_views = site_totals.unique_views + excluded.unique_views,
			total_views  = site_totals.total_views + excluded.total_views,
			likes        = site_totals.likes + excluded.likes,
			items        = site_totals.items + excluded.items`,
		sites, types, slugs, unique, total, likes, db.timestamp())
	return err
}

// deref is *p and whether p was not NULL.
func deref(p *int64) (int64, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// moveSiteDaily adds the rows' differences to site_daily: from day d up to the day of each
// item's next row, after which that row holds the item's value. A site without a row on d
// first gets a copy of its latest row before d.
func moveSiteDaily(ctx context.Context, tx pgx.Tx, d int64, moves []report.DailyMove) error {
	for _, g := range report.GroupMoves(moves) {
		if _, err := tx.Exec(ctx, `/* snapshot */
			INSERT INTO site_daily (site, type, day, unique_views, total_views)
			SELECT $1, $2, $3, COALESCE(p.unique_views, 0), COALESCE(p.total_views, 0)
			FROM (SELECT 1) one LEFT JOIN LATERAL (SELECT unique_views, total_views FROM site_daily
			      WHERE site = $1 AND type = $2 AND day < $3 ORDER BY day DESC LIMIT 1) p ON true
			ON CONFLICT (site, type, day) DO NOTHING`, g.Site, g.Type, d); err != nil {
			return err
		}
		if g.Diff == (report.Totals{}) {
			continue
		}
		if _, err := tx.Exec(ctx, `/* snapshot */
			UPDATE site_daily SET unique_views = unique_views + $1, total_views = total_views + $2
			WHERE site = $3 AND type = $4 AND day >= $5 AND (NOT $6 OR day < $7)`,
			g.Diff.Unique, g.Diff.Total, g.Site, g.Type, d, g.HasNext, g.Next); err != nil {
			return err
		}
	}
	return nil
}

// MarkSnapshot records that date was snapshotted, after all its rows are written.
func (db *DB) MarkSnapshot(ctx context.Context, date time.Time) error {
	if _, err := db.pool.Exec(ctx, `/* snapshot */ INSERT INTO snapshot_days (day) VALUES ($1) ON CONFLICT DO NOTHING`,
		session.DayNumber(date)); err != nil {
		return fmt.Errorf("mark the snapshot of %s: %w", session.FormatDay(date), err)
	}
	return nil
}

// LastSnapshot returns the latest day with a snapshot; ok is false if there is none.
func (db *DB) LastSnapshot(ctx context.Context) (time.Time, bool, error) {
	var d *int64
	if err := db.pool.QueryRow(ctx, `/* snapshot catch-up */ SELECT MAX(day)::bigint FROM snapshot_days`).Scan(&d); err != nil {
		return time.Time{}, false, fmt.Errorf("read last snapshot: %w", err)
	}
	if d == nil {
		return time.Time{}, false, nil
	}
	return session.DayOf(*d), true, nil
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
		ORDER BY `+report.TopOrder[f.By]+`
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
