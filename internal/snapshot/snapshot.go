// Package snapshot writes the daily series: for a day D, the cumulative counts as of the end of
// D in UTC of each item that changed on D. History is sparse: a day on which an item did not
// change has no row of its own, and its value is the item's latest row before it.
//
// It reads the write model's per-day history rather than the current counts, so the 00:05 run
// is exact even though views keep arriving after midnight, and any earlier day can be
// backfilled with the same result. A run also writes every day since the last snapshot that
// none wrote, so no day's changes are ever skipped. Daily views are snapshot(D) − snapshot(D−1),
// computed when read and never stored.
package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

// Source is the write model as the snapshot needs it.
type Source interface {
	FirstDay(ctx context.Context) (time.Time, bool, error)
	ChangedOn(ctx context.Context, date time.Time, after item.Item, limit int) ([]item.Counted, error)
}

// Sink is the read model as the snapshot needs it.
type Sink interface {
	UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error
	MarkSnapshot(ctx context.Context, date time.Time) error
	LastSnapshot(ctx context.Context) (time.Time, bool, error)
	RecordSnapshot(ctx context.Context, items int) error
	// PruneDays deletes the daily dimension and "Not counted" rows of days before before.
	PruneDays(ctx context.Context, before time.Time) (int64, error)
}

const chunk = 10_000

// Snapshotter runs snapshots, one at a time.
type Snapshotter struct {
	src Source
	dst Sink
	now func() time.Time
	log *slog.Logger
	mu  *semaphore.Weighted // one run at a time; waiting gives up with the context
	// retention, above 0, is how many days of dimension rows each run keeps (--retention-days).
	retention int
}

// New returns a Snapshotter from src to dst with clock now.
func New(src Source, dst Sink, now func() time.Time, log *slog.Logger) *Snapshotter {
	return &Snapshotter{src: src, dst: dst, now: now, log: log, mu: semaphore.NewWeighted(1)}
}

// Retain makes every run delete the daily dimension rows (sources, devices, countries) older
// than days days; 0 keeps them all. Views, likes and their daily snapshots are never pruned.
func (s *Snapshotter) Retain(days int) *Snapshotter {
	s.retention = days
	return s
}

// Run snapshots the UTC day of date and returns how many items it wrote. Today gives the
// totals so far (a later run of the same day overwrites them); a future day is refused.
func (s *Snapshotter) Run(ctx context.Context, date time.Time) (int, error) {
	date = session.Day(date)
	if date.Before(session.FirstDay) {
		return 0, fmt.Errorf("snapshot %s: %w", session.FormatDay(date), session.ErrDayRange)
	}
	if date.After(s.now().UTC()) {
		return 0, fmt.Errorf("snapshot %s: the day has not begun", session.FormatDay(date))
	}
	if err := s.mu.Acquire(ctx, 1); err != nil {
		return 0, fmt.Errorf("snapshot: wait for the running snapshot: %w", err)
	}
	defer s.mu.Release(1)
	start := time.Now()
	from, err := s.firstUnwritten(ctx, date)
	if err != nil {
		return 0, fmt.Errorf("snapshot: %w", err)
	}
	n := 0
	for d := from; !d.After(date); d = d.AddDate(0, 0, 1) {
		k, err := s.writeDay(ctx, d)
		n += k
		if err != nil {
			return n, fmt.Errorf("snapshot: %w", err)
		}
	}
	if err := s.dst.RecordSnapshot(ctx, n); err != nil {
		return n, fmt.Errorf("snapshot: %w", err)
	}
	if s.retention > 0 {
		before := session.Day(s.now()).AddDate(0, 0, -s.retention)
		pruned, err := s.dst.PruneDays(ctx, before)
		if err != nil {
			return n, fmt.Errorf("snapshot: %w", err)
		}
		if pruned > 0 {
			s.log.Info("pruned sources, devices, countries and Not counted rows past --retention-days", "before", session.FormatDay(before), "rows", pruned)
		}
	}
	s.log.Info("snapshot written", "date", session.FormatDay(date), "from", session.FormatDay(from), "items", n,
		"duration", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// firstUnwritten is the first day a snapshot of date writes: date itself, or the day after the
// last snapshot when days between were never written (from the write model's first day, before
// any snapshot), so that every day an item changed gets its row.
func (s *Snapshotter) firstUnwritten(ctx context.Context, date time.Time) (time.Time, error) {
	last, ok, err := s.dst.LastSnapshot(ctx)
	if err != nil {
		return date, err
	}
	if ok {
		if next := last.AddDate(0, 0, 1); next.Before(date) {
			return next, nil
		}
		return date, nil
	}
	first, ok, err := s.src.FirstDay(ctx)
	if err != nil || !ok || !first.Before(date) {
		return date, err
	}
	return first, nil
}

// writeDay writes the rows of the items that changed on day d and marks d snapshotted.
func (s *Snapshotter) writeDay(ctx context.Context, d time.Time) (int, error) {
	n := 0
	var after item.Item
	for {
		rows, err := s.src.ChangedOn(ctx, d, after, chunk)
		if err != nil {
			return n, err
		}
		if len(rows) == 0 {
			break
		}
		if err := s.dst.UpsertDaily(ctx, d, rows); err != nil {
			return n, err
		}
		n += len(rows)
		after = rows[len(rows)-1].Item
	}
	return n, s.dst.MarkSnapshot(ctx, d)
}

// MaxCatchUp bounds how many missed days CatchUp writes in one go.
const MaxCatchUp = 366

// CatchUp snapshots yesterday and every earlier day missed since the last snapshot (the
// server was down at 00:05, say), oldest first, at most MaxCatchUp days. The write model's
// history makes late snapshots as exact as timely ones.
func (s *Snapshotter) CatchUp(ctx context.Context) (days int, err error) {
	yesterday := session.Yesterday(s.now())
	from := yesterday
	last, ok, err := s.dst.LastSnapshot(ctx)
	if err != nil {
		return 0, fmt.Errorf("snapshot catch-up: %w", err)
	}
	if ok && last.Before(yesterday) {
		from = last.AddDate(0, 0, 1)
		if earliest := yesterday.AddDate(0, 0, -(MaxCatchUp - 1)); from.Before(earliest) {
			from = earliest
		}
	}
	for d := from; !d.After(yesterday); d = d.AddDate(0, 0, 1) {
		if _, err := s.Run(ctx, d); err != nil {
			return days, err
		}
		days++
	}
	return days, nil
}
