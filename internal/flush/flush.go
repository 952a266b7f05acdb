// Package flush copies what changed in the write model into the read model.
//
// A flush reads only dirty items (cost follows change, not size), writes their cumulative counts
// with an upsert that overwrites, and only then clears their dirty marks — and only the marks
// that no newer view has renewed meanwhile. The two stores cannot share a transaction; the
// overwrite is what makes that safe: a flush that dies between the read model's commit and the
// clearing of the marks is simply repeated by the next one, with the same result.
package flush

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/tallyhq/tally/internal/item"
)

// Source is the write model as the flush needs it.
type Source interface {
	Dirty(ctx context.Context, after item.Item, limit int) ([]item.Change, error)
	Clean(ctx context.Context, flushed []item.Change) error
	// Excluded returns a page of the per-day totals of what was not counted, about limit rows
	// after cursor ("" from the first; the next cursor is "" after the last); PruneExcluded
	// drops the days before day, once flushed.
	Excluded(ctx context.Context, cursor string, limit int) ([]item.Excluded, string, error)
	PruneExcluded(ctx context.Context, day string) error
	// DimsDirty returns the (owner, day) pairs whose dimension rows changed, after after;
	// CleanDims clears the flushed ones; PruneDims drops days before yesterday (by the write
	// model's clock) that are flushed.
	DimsDirty(ctx context.Context, after item.DimChange, limit int) ([]item.DimChange, error)
	CleanDims(ctx context.Context, flushed []item.DimChange) error
	PruneDims(ctx context.Context) error
}

// Sink is the read model as the flush needs it.
type Sink interface {
	UpsertCounts(ctx context.Context, rows []item.Counted) error
	UpsertExcluded(ctx context.Context, rows []item.Excluded) error
	UpsertDims(ctx context.Context, rows []item.DimCount) error
	RecordFlush(ctx context.Context, items int) error
}

// chunk bounds the items read, written and cleared per round, so memory stays flat and a
// failure part-way keeps what was already done.
const chunk = 10_000

// Flusher runs flushes, one at a time.
type Flusher struct {
	src Source
	dst Sink
	log *slog.Logger
	mu  *semaphore.Weighted // one run at a time; waiting gives up with the context
	// drain, when set, runs first: it hands this node's buffered exclusions to the write model.
	drain func(context.Context) error
}

// New returns a Flusher from src to dst.
func New(src Source, dst Sink, log *slog.Logger) *Flusher {
	return &Flusher{src: src, dst: dst, log: log, mu: semaphore.NewWeighted(1)}
}

// DrainFirst makes every run start with drain, so a flush shows what this node has not yet
// handed to the write model (see internal/excluded).
func (f *Flusher) DrainFirst(drain func(context.Context) error) *Flusher {
	f.drain = drain
	return f
}

// Result reports what a flush did.
type Result struct {
	Items    int           `json:"items"`
	Duration time.Duration `json:"-"`
}

// Run flushes every item dirty at the time it reaches it. A second caller waits for the first
// to finish and then runs its own flush, so it sees every view acknowledged before it called;
// it stops waiting when ctx ends (a shutdown must not hang behind a flush that is stuck).
func (f *Flusher) Run(ctx context.Context) (Result, error) {
	if err := f.mu.Acquire(ctx, 1); err != nil {
		return Result{}, fmt.Errorf("flush: wait for the running flush: %w", err)
	}
	defer f.mu.Release(1)
	start := time.Now()
	res := Result{}
	if f.drain != nil {
		if err := f.drain(ctx); err != nil {
			// The counts stay buffered for the next drain; the views need not wait.
			f.log.Warn("flush: hand exclusions to the write model", "err", err)
		}
	}
	// Items and dimension rows are independent: on a read model that takes writes on several
	// connections at once (PostgreSQL) the two copies overlap; on SQLite, whose writes take
	// turns on one connection, overlapping them costs more than it saves.
	g, gctx := errgroup.WithContext(ctx)
	if c, ok := f.dst.(interface{ ConcurrentWrites() bool }); !ok || !c.ConcurrentWrites() {
		g.SetLimit(1)
	}
	g.Go(func() error {
		n, err := f.items(gctx)
		res.Items = n
		return err
	})
	g.Go(func() error { return f.dims(gctx) })
	if err := g.Wait(); err != nil {
		return res, fmt.Errorf("flush: %w", err)
	}
	if err := f.excluded(ctx); err != nil {
		return res, fmt.Errorf("flush: %w", err)
	}
	if err := f.dst.RecordFlush(ctx, res.Items); err != nil {
		return res, fmt.Errorf("flush: %w", err)
	}
	res.Duration = time.Since(start)
	f.log.Info("flushed", "items", res.Items, "duration", res.Duration.Round(time.Millisecond))
	return res, nil
}

// items copies the dirty items, chunk by chunk, and returns how many it copied.
func (f *Flusher) items(ctx context.Context) (int, error) {
	n := 0
	var after item.Item
	for {
		changes, err := f.src.Dirty(ctx, after, chunk)
		if err != nil || len(changes) == 0 {
			return n, err
		}
		rows := make([]item.Counted, len(changes))
		for i, ch := range changes {
			rows[i] = ch.Counted
		}
		if err := f.dst.UpsertCounts(ctx, rows); err != nil {
			return n, err
		}
		if err := f.src.Clean(ctx, changes); err != nil {
			// The rows are written; the marks stay and the next flush writes the same values.
			return n, err
		}
		n += len(changes)
		after = changes[len(changes)-1].Item
	}
}

// dimRowsPerRound bounds the dimension rows written per round.
const dimRowsPerRound = 20_000

// excludedPage bounds the "Not counted" rows read and written at once.
const excludedPage = 5_000

// dims copies the (owner, day) pairs whose dimension rows changed, as items are copied, then
// drops from the write model the days before yesterday: nothing adds to them any more, and the
// read model has them.
func (f *Flusher) dims(ctx context.Context) error {
	var after item.DimChange
	for {
		changes, err := f.src.DimsDirty(ctx, after, chunk)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			break
		}
		var rows []item.DimCount
		start := 0
		for i, ch := range changes {
			rows = append(rows, ch.Rows...)
			if len(rows) < dimRowsPerRound && i < len(changes)-1 {
				continue
			}
			if err := f.dst.UpsertDims(ctx, rows); err != nil {
				return err
			}
			if err := f.src.CleanDims(ctx, changes[start:i+1]); err != nil {
				return err
			}
			rows, start = rows[:0], i+1
		}
		after = item.DimChange{Owner: changes[len(changes)-1].Owner, Day: changes[len(changes)-1].Day}
	}
	return f.src.PruneDims(ctx)
}

// excluded copies the per-day totals of what was not counted, then drops from the write model
// the days that can no longer change: those before the day before the newest one held (the
// buffer of a node hands over yesterday's last counts just after midnight). There are at most
// a few hundred rows per site and day, and only a day or two of them.
func (f *Flusher) excluded(ctx context.Context) error {
	newest := ""
	for cursor := ""; ; {
		rows, next, err := f.src.Excluded(ctx, cursor, excludedPage)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := f.dst.UpsertExcluded(ctx, rows); err != nil {
				return err
			}
		}
		for _, r := range rows {
			newest = max(newest, r.Day)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if newest == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, newest)
	if err != nil {
		return fmt.Errorf("exclusions of day %q: %w", newest, err)
	}
	return f.src.PruneExcluded(ctx, d.AddDate(0, 0, -1).Format(time.DateOnly))
}
