// Package snapshot writes the daily series: for a day D, each item's cumulative counts as of the
// end of D in UTC.
//
// It reads the write model's per-day history rather than the current counts, so the 00:05 run
// is exact even though views keep arriving after midnight, and any earlier day can be
// backfilled with the same result. Daily views are snapshot(D) − snapshot(D−1), computed when
// read and never stored.
package snapshot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tallyhq/tally/internal/item"
)

// Source is the write model as the snapshot needs it.
type Source interface {
	CountsAsOf(ctx context.Context, date time.Time, after item.Item, limit int) ([]item.Counted, error)
}

// Sink is the read model as the snapshot needs it.
type Sink interface {
	UpsertDaily(ctx context.Context, date time.Time, rows []item.Counted) error
	SummarizeDay(ctx context.Context, date time.Time) error
	LastSnapshot(ctx context.Context) (time.Time, bool, error)
	RecordSnapshot(ctx context.Context, items int) error
}

const chunk = 10_000

// Snapshotter runs snapshots, one at a time.
type Snapshotter struct {
	src Source
	dst Sink
	now func() time.Time
	log *slog.Logger
	mu  sync.Mutex
}

// New returns a Snapshotter from src to dst with clock now.
func New(src Source, dst Sink, now func() time.Time, log *slog.Logger) *Snapshotter {
	return &Snapshotter{src: src, dst: dst, now: now, log: log}
}

// Yesterday returns the UTC date before now's: what the 00:05 run snapshots.
func Yesterday(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC)
}

// ParseDate parses YYYY-MM-DD as a UTC date.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return t, nil
}

// Run snapshots the UTC day of date and returns how many items it wrote. Today gives the
// totals so far (a later run of the same day overwrites them); a future day is refused.
func (s *Snapshotter) Run(ctx context.Context, date time.Time) (int, error) {
	y, m, d := date.UTC().Date()
	date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if date.After(s.now().UTC()) {
		return 0, fmt.Errorf("snapshot %s: the day has not begun", date.Format(time.DateOnly))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	start := time.Now()
	n := 0
	var after item.Item
	for {
		rows, err := s.src.CountsAsOf(ctx, date, after, chunk)
		if err != nil {
			return n, fmt.Errorf("snapshot: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		if err := s.dst.UpsertDaily(ctx, date, rows); err != nil {
			return n, fmt.Errorf("snapshot: %w", err)
		}
		n += len(rows)
		after = rows[len(rows)-1].Item
	}
	if err := s.dst.SummarizeDay(ctx, date); err != nil {
		return n, fmt.Errorf("snapshot: %w", err)
	}
	if err := s.dst.RecordSnapshot(ctx, n); err != nil {
		return n, fmt.Errorf("snapshot: %w", err)
	}
	s.log.Info("snapshot written", "date", date.Format(time.DateOnly), "items", n,
		"duration", time.Since(start).Round(time.Millisecond))
	return n, nil
}

// MaxCatchUp bounds how many missed days CatchUp writes in one go.
const MaxCatchUp = 366

// CatchUp snapshots yesterday and every earlier day missed since the last snapshot (the
// server was down at 00:05, say), oldest first, at most MaxCatchUp days. The write model's
// history makes late snapshots as exact as timely ones.
func (s *Snapshotter) CatchUp(ctx context.Context) (days int, err error) {
	yesterday := Yesterday(s.now())
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
