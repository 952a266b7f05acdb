// Package storetest gives tests real stores in one line, as goatcounter's gctest.DB does: a
// bbolt write model and a migrated SQLite read model in the test's temp dir, closed (and the
// bbolt file checked for consistency) when the test ends. Only _test.go files import it.
package storetest

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/sqlite"
)

// Write opens a bbolt write model in a temp dir; opts.Now is the clock. The file must pass
// bolt.Check when the test ends.
func Write(t testing.TB, opts bolt.Options) *bolt.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "write.db")
	if opts.Logger == nil {
		opts.Logger = Log()
	}
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close write model: %v", err)
		}
		if err := bolt.Check(path); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Read opens a migrated SQLite read model in a temp dir and returns it with its path.
func Read(t testing.TB, opts sqlite.Options) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "read.db")
	db, err := sqlite.Open(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// SID is a stable session id for a named test visitor on t's UTC day, like a real one: the
// same all day, another the next day.
func SID(visitor string, t time.Time) session.ID {
	sum := sha256.Sum256([]byte(visitor + "|" + session.FormatDay(t)))
	return session.ID(sum[:16])
}

// Log is a logger that drops everything, for code under test that must log somewhere.
func Log() *slog.Logger { return slog.New(slog.DiscardHandler) }
