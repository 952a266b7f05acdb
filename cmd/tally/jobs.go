package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/sqlite"
)

// openForJob opens both stores for a one-off job, or says what to do instead when a running
// server holds them.
func openForJob(ctx context.Context, dir string) (*bolt.Store, *sqlite.DB, error) {
	w, r, err := datadir.OpenBoth(ctx, dir)
	if errors.Is(err, datadir.ErrInUse) {
		return nil, nil, fmt.Errorf("%w; run the job through it instead: curl -u admin:PASSWORD -X POST "+
			"http://HOST:PORT/ops/api/flush (or /ops/api/snapshot?date=YYYY-MM-DD)", err)
	}
	return w, r, err
}

func runFlush(ctx context.Context, e env, c command, args []string) error {
	fs := newFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	if err := parseFlags(fs, args, e.getenv); err != nil {
		return err
	}
	w, r, err := openForJob(ctx, *data)
	if err != nil {
		return err
	}
	defer w.Close()
	defer r.Close()
	res, err := flush.New(w, r, newLogger(e.stderr)).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "flushed %d changed items in %s\n", res.Items, res.Duration.Round(time.Millisecond))
	return nil
}

func runSnapshot(ctx context.Context, e env, c command, args []string) error {
	fs := newFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	dateStr := fs.String("date", "", "day to snapshot, YYYY-MM-DD in UTC (default: yesterday); today gives the totals so far")
	if err := parseFlags(fs, args, e.getenv); err != nil {
		return err
	}
	date := session.Yesterday(time.Now())
	if *dateStr != "" {
		d, err := session.ParseDay(*dateStr)
		if err != nil {
			return fmt.Errorf("--date: %w", err)
		}
		date = d
	}
	w, r, err := openForJob(ctx, *data)
	if err != nil {
		return err
	}
	defer w.Close()
	defer r.Close()
	n, err := snapshot.New(w, r, time.Now, newLogger(e.stderr)).Run(ctx, date)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot of %s: %d items\n", session.FormatDay(date), n)
	return nil
}
