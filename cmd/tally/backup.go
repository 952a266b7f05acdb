package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/store"
)

func runBackup(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet("backup", c.synopsis, e.stderr, "DIR")
	data := fs.String("data", "./data", "data directory to back up")
	server := fs.String("server", "", "URL of the running server holding the data directory (default: read from DATA/server.url)")
	stores := registerStores(fs)
	dest, err := envflag.ParseWithArg(fs, args, e.getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *data, store.Options{WriteStore: *stores.write, ReadStore: *stores.read})
	switch {
	case errors.Is(err, datadir.ErrInUse):
		return backupThroughServer(ctx, e, *data, *server, dest)
	case err != nil:
		return err
	}
	defer st.Close()
	m, err := st.Backup(ctx, dest, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (%s)\n", *data, dest, strings.Join(m.Files, ", "))
	noteReadModel(e, m)
	return nil
}

// backupThroughServer asks the server holding the data directory for a consistent copy.
func backupThroughServer(ctx context.Context, e env, dataDir, server, dest string) error {
	if server == "" {
		var err error
		if server, err = datadir.Server(dataDir); err != nil {
			return err
		}
	}
	pw, ok := e.getenv("TALLY_ADMIN_PASSWORD")
	if !ok {
		var err error
		if pw, err = readPassword(e, "Admin password of the running server: "); err != nil {
			return err
		}
	}
	m, err := backup.Fetch(ctx, server, admin.User, pw, dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s through the running server %s to %s (%s)\n", dataDir, server, dest, strings.Join(m.Files, ", "))
	noteReadModel(e, m)
	return nil
}

func runRestore(ctx context.Context, e env, c command, args []string) error {
	fs := envflag.NewFlagSet("restore", c.synopsis, e.stderr, "DIR")
	data := fs.String("data", "./data", "data directory to restore into")
	stores := registerStores(fs)
	src, err := envflag.ParseWithArg(fs, args, e.getenv)
	if err != nil {
		return err
	}
	res, err := store.Restore(ctx, src, *data, store.Options{WriteStore: *stores.write, ReadStore: *stores.read})
	if errors.Is(err, datadir.ErrInUse) {
		return fmt.Errorf("%w; stop it first", err)
	}
	if err != nil {
		if res.Aside != "" {
			return fmt.Errorf("%w (the previous files are in %s)", err, res.Aside)
		}
		return err
	}
	before := "there were no files before"
	if res.Aside != "" {
		before = "the previous files are in " + res.Aside
	}
	fmt.Fprintf(e.stdout, "restored the backup of %s into %s; %s\n", res.Manifest.CreatedAt.Format(time.RFC3339), *data, before)
	fmt.Fprintf(e.stdout, "flushed all %d items, so the read model matches the write model\n", res.Items)
	if res.Days > 0 {
		fmt.Fprintf(e.stdout, "rebuilt the daily series from the write model: %d days snapshotted\n", res.Days)
	}
	return nil
}

// noteReadModel reminds the owner that a read model on PostgreSQL is not in tally's backups.
func noteReadModel(e env, m backup.Manifest) {
	if !slices.Contains(m.Files, datadir.ReadFile) {
		fmt.Fprintln(e.stdout, "the read model (on PostgreSQL) is not in this backup: back it up with pg_dump, "+
			"or let tally restore rebuild it from the write model")
	}
}
