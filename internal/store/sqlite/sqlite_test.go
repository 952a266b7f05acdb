package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/report"
)

func newTestDB(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "read.db")
	db, err := Open(context.Background(), path, Options{Now: func() time.Time { return time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestMigrationsApplyOnce(t *testing.T) {
	db, path := newTestDB(t)
	ctx := context.Background()
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no migration recorded")
	}
	db.Close()
	// Reopening must not apply anything twice (CREATE TABLE would fail if it did).
	db2, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var again int
	db2.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&again)
	if again != n {
		t.Errorf("%d migrations recorded after reopening, want %d", again, n)
	}
}

func TestReadOnlyOpenReadsExistingDB(t *testing.T) {
	_, path := newTestDB(t)
	ro, err := Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Top(context.Background(), report.TopFilter{Limit: 1}); err != nil {
		t.Errorf("read-only Top: %v", err)
	}
}

// TestFilesArePrivate: the read model, its WAL and shared-memory files, and its backups are
// readable by the owner only, whatever the umask.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	db, path := newTestDB(t)
	if err := db.UpsertCounts(context.Background(), []item.Counted{{Item: item.Item{Site: "a.com", Type: "blog", Slug: "a"}, Counts: item.Counts{Unique: 1, Total: 1}}}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if err := db.BackupTo(context.Background(), backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %o, want 600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}
