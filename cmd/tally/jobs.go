package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store"
)

// openForJob opens both stores for a one-off job, or says what to do instead when a running
// server holds them.
func openForJob(ctx context.Context, dir string, s storeFlags) (*store.Stores, error) {
	if err := sameStores(dir, *s.write, *s.read, true, true); err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err != nil && *s.write == "" {
		return nil, fmt.Errorf("no data directory at %s: give --data the directory tally serve uses (default ./data)", dir)
	}
	st, err := store.Open(ctx, dir, store.Options{WriteStore: *s.write, ReadStore: *s.read})
	if errors.Is(err, datadir.ErrInUse) {
		base := "http://HOST:PORT"
		if u, err := datadir.Server(dir); err == nil {
			base = u
		}
		return nil, fmt.Errorf("%w; run the job through it instead: curl -u admin:PASSWORD -X POST "+
			"%s/ops/api/flush (or /ops/api/snapshot?date=YYYY-MM-DD)", err, base)
	}
	return st, err
}

func runFlush(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	stores := registerStores(fs)
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
		return err
	}
	st, err := openForJob(ctx, *data, stores)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := flush.New(st.Write, st.Read, newLogger(e.stderr)).Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "flushed %d changed items in %s\n", res.Items, res.Duration.Round(time.Millisecond))
	return nil
}

func runSnapshot(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet(c.name, c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory")
	dateStr := fs.String("date", "", "day to snapshot, YYYY-MM-DD in UTC (default: yesterday); today gives the totals so far")
	stores := registerStores(fs)
	if err := envflag.Parse(fs, args, e.getenv); err != nil {
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
	st, err := openForJob(ctx, *data, stores)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := snapshot.New(st.Write, st.Read, time.Now, newLogger(e.stderr)).Run(ctx, date)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "snapshot of %s: %d items\n", session.FormatDay(date), n)
	return nil
}

// sameStores refuses a command given only --data for a data directory whose server runs on
// shared stores (as DATA/stores records): it would read or write the directory's own files,
// which that server does not use, and report success.
func sameStores(dir, write, read string, usesWrite, usesRead bool) error {
	noted := datadir.NotedStores(dir)
	var missing []string
	if usesWrite && write == "" && noted.Write != "" {
		missing = append(missing, "--write-store "+noted.Write)
	}
	if usesRead && read == "" && noted.Read != "" {
		missing = append(missing, "--read-store "+noted.Read)
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the server of %s runs with %s, not the stores in the data directory: give the same (with its password where the URL has one)",
		dir, strings.Join(missing, " and "))
}

// Usage of the store flags, the same on every command.
const (
	writeStoreUsage = "write model: empty for bbolt in DATA/write.db, or redis://[:password@]host:6379/0 (rediss:// for TLS)"
	readStoreUsage  = "read model: empty for SQLite in DATA/read.db, or postgres://user:password@host:5432/db?sslmode=disable"
)

// readStoreFlag registers --read-store on a command that touches only the read model.
func readStoreFlag(fs *flag.FlagSet) *string { return fs.String("read-store", "", readStoreUsage) }

// storeFlags are --write-store and --read-store of a command that touches both models.
type storeFlags struct{ write, read *string }

func registerStores(fs *flag.FlagSet) storeFlags {
	return storeFlags{write: fs.String("write-store", "", writeStoreUsage), read: readStoreFlag(fs)}
}
