package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/sqlite"
)

// Restored says what Restore did.
type Restored struct {
	Manifest backup.Manifest
	Aside    string // where the files it replaced went
	Items    int    // items flushed into the read model
	Days     int    // days snapshotted again, when the read model was rebuilt in full
}

// Restore puts the backup in src into dir: it checks the backup's stores, refuses while a
// server holds dir, moves the current files aside, copies the backup's files in, and flushes
// every item, so the read model matches the write model exactly. When the backup holds no read
// model (the read model is on PostgreSQL, or its file was lost), the read model is rebuilt in
// full: every item flushed and every day since the first count snapshotted again from the
// write model's day history, which makes the daily series exact.
func Restore(ctx context.Context, src, dir string, opts Options) (Restored, error) {
	if opts.WriteStore != "" {
		return Restored{}, errors.New("tally restore puts back a bbolt write model; a write model on Redis is restored by Redis (its RDB or AOF files)")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m, err := backup.ReadManifest(src)
	if err != nil {
		return Restored{}, err
	}
	if err := bolt.Check(filepath.Join(src, datadir.WriteFile)); err != nil {
		return Restored{}, fmt.Errorf("the backup is damaged: %w", err)
	}
	_, err = os.Lstat(filepath.Join(src, datadir.ReadFile))
	withRead := err == nil
	if withRead {
		if err := checkSQLite(ctx, src); err != nil {
			return Restored{}, fmt.Errorf("the backup is damaged: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return Restored{}, err
	}
	if err := datadir.Create(dir); err != nil {
		return Restored{}, err
	}
	w, err := OpenWrite(dir, bolt.Options{})
	if err != nil {
		return Restored{}, err
	}
	w.Close()
	res := Restored{Manifest: m}
	if res.Aside, err = backup.Replace(src, dir, partNames(), now()); err != nil {
		return res, err
	}
	if err := rebuild(ctx, dir, opts, !withRead || IsPostgres(opts.ReadStore), &res); err != nil {
		return res, fmt.Errorf("restored the write model, but the read model could not be rebuilt (run tally restore again, or tally flush): %w", err)
	}
	return res, nil
}

// rebuild marks every item dirty and flushes; in full, it also snapshots every day from the
// write model's first one to yesterday.
func rebuild(ctx context.Context, dir string, opts Options, full bool, res *Restored) error {
	s, err := Open(ctx, dir, opts)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Write.MarkAllDirty(ctx); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	fl, err := flush.New(s.Write, s.Read, log).Run(ctx)
	res.Items = fl.Items
	if err != nil || !full {
		return err
	}
	first, ok, err := s.Write.FirstDay(ctx)
	if err != nil || !ok {
		return err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	snap := snapshot.New(s.Write, s.Read, now, log)
	for d := first; !d.After(session.Yesterday(now())); d = d.AddDate(0, 0, 1) {
		if _, err := snap.Run(ctx, d); err != nil {
			return err
		}
		res.Days++
	}
	return nil
}

func checkSQLite(ctx context.Context, dir string) error {
	db, err := sqlite.Open(ctx, filepath.Join(dir, datadir.ReadFile), sqlite.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Check(ctx)
}
