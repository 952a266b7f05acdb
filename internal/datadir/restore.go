package datadir

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/sqlite"
)

// Restored says what Restore did.
type Restored struct {
	Manifest backup.Manifest
	Aside    string // where the files it replaced went
	Items    int    // items flushed into the restored read model
}

// Restore puts the backup in src into dir: it checks the backup's stores, refuses while a
// server holds dir, moves the current files aside, copies the backup's files in, and flushes
// every item, so the read model matches the write model exactly.
func Restore(ctx context.Context, src, dir string, now time.Time) (Restored, error) {
	m, err := backup.ReadManifest(src)
	if err != nil {
		return Restored{}, err
	}
	if err := bolt.Check(filepath.Join(src, WriteFile)); err != nil {
		return Restored{}, fmt.Errorf("the backup is damaged: %w", err)
	}
	if err := checkReadModel(ctx, src); err != nil {
		return Restored{}, fmt.Errorf("the backup is damaged: %w", err)
	}
	if err := Create(dir); err != nil {
		return Restored{}, err
	}
	w, err := OpenWrite(dir, bolt.Options{})
	if err != nil {
		return Restored{}, err
	}
	w.Close()
	res := Restored{Manifest: m}
	if res.Aside, err = backup.Replace(src, dir, partNames(), now); err != nil {
		return res, err
	}
	if res.Items, err = reflushAll(ctx, dir); err != nil {
		return res, fmt.Errorf("restored, but the first flush failed (run tally flush): %w", err)
	}
	return res, nil
}

// reflushAll marks every item dirty and flushes: the two stores of a backup were copied a moment
// apart, and this makes the read model match the write model exactly.
func reflushAll(ctx context.Context, dir string) (int, error) {
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.Write.MarkAllDirty(ctx); err != nil {
		return 0, err
	}
	res, err := flush.New(s.Write, s.Read, slog.New(slog.DiscardHandler)).Run(ctx)
	return res.Items, err
}

func checkReadModel(ctx context.Context, dir string) error {
	db, err := OpenRead(ctx, dir, sqlite.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Check(ctx)
}
