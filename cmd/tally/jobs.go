package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/sqlite"
)

// errServerRunning means a running server holds the data directory.
var errServerRunning = errors.New("in use by a running tally server")

// openBoth opens both stores of dataDir for a one-off job. If a running server holds the
// write model, it says so within a few seconds instead of waiting.
func openBoth(ctx context.Context, dataDir string) (*bolt.Store, *sqlite.DB, error) {
	w, err := bolt.Open(filepath.Join(dataDir, writeModelFile), bolt.Options{LockTimeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrLocked) {
		return nil, nil, fmt.Errorf("the data directory %s is %w; "+
			"run the job through it instead: curl -u admin:PASSWORD -X POST http://HOST:PORT/ops/api/flush (or /ops/api/snapshot?date=YYYY-MM-DD)", dataDir, errServerRunning)
	}
	if err != nil {
		return nil, nil, err
	}
	r, err := sqlite.Open(ctx, filepath.Join(dataDir, readModelFile), sqlite.Options{})
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, r, nil
}

func runFlush(ctx context.Context, e env, c command, args []string) error {
	fs := newFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	if err := parseFlags(fs, args, e.getenv); err != nil {
		return err
	}
	w, r, err := openBoth(ctx, *data)
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
	date := snapshot.Yesterday(time.Now())
	if *dateStr != "" {
		d, err := snapshot.ParseDate(*dateStr)
		if err != nil {
			return fmt.Errorf("--date: %w", err)
		}
		date = d
	}
	w, r, err := openBoth(ctx, *data)
	if err != nil {
		return err
	}
	defer w.Close()
	defer r.Close()
	n, err := snapshot.New(w, r, time.Now, newLogger(e.stderr)).Run(ctx, date)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot of %s: %d items\n", date.Format(time.DateOnly), n)
	return nil
}
