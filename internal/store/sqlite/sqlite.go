// Package sqlite is tally's embedded read model: the tables the flush and snapshot jobs fill,
// and the queries that top lists and the dashboard run, in one SQLite file through
// modernc.org/sqlite (pure Go, no cgo).
//
// Writes go through a single connection, so SQLite's one-writer rule never surfaces as
// SQLITE_BUSY between our own goroutines; reads use a separate pool and, with WAL, never wait
// for the writer.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Options configure a DB. Zero values mean the defaults.
type Options struct {
	BusyTimeout time.Duration    // how long a statement waits for another process's lock; default 5 s
	Now         func() time.Time // clock for last_synced_at; default time.Now
	ReadOnly    bool             // open without applying migrations or writing
	Node        string           // the name job_runs gives this node's runs
}

// DB is the read model.
type DB struct {
	write *sql.DB
	read  *sql.DB
	now   func() time.Time
	node  string
}

// Open opens or creates the database at path and applies pending migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if !opts.ReadOnly {
		// SQLite creates files with the process's umask (often 0644) and gives -wal and -shm
		// the database file's mode: creating it first keeps all three private.
		if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
	}
	// Pragmas go in the DSN so that every pooled connection gets them, not just the first.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	// Statement journals and sorts stay in memory: a flush's multi-row upserts otherwise write
	// a temporary file as large as the pages they touch.
	q.Add("_pragma", "temp_store(MEMORY)")
	dsn := "file:" + path + "?" + q.Encode()

	// The writer keeps 32 MB of pages: a flush among a million items touches each sort index
	// at ten thousand places, and SQLite's default 2 MB reads them all again from the file.
	write, err := sql.Open("sqlite", dsn+"&_pragma=cache_size(-32768)")
	if err != nil {
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	db := &DB{write: write, read: read, now: opts.Now, node: opts.Node}
	if !opts.ReadOnly {
		if err := db.migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.read.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open read model %s: %w", path, err)
	}
	return db, nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	errW := db.write.Close()
	errR := db.read.Close()
	if errW != nil {
		return fmt.Errorf("close read model: %w", errW)
	}
	if errR != nil {
		return fmt.Errorf("close read model: %w", errR)
	}
	return nil
}

// Ping reports whether the database answers, for /healthz.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("read model: %w", err)
	}
	return nil
}

// inTx runs fn in a write transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// timestamp is how times are stored: RFC 3339 in UTC, to the second, so they sort as text.
func (db *DB) timestamp() string {
	return db.now().UTC().Format(time.RFC3339)
}

func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339, s)
}

// BackupTo writes a consistent, compacted copy of the read model to path (VACUUM INTO), while
// reads go on. It takes the writer connection for its duration.
func (db *DB) BackupTo(ctx context.Context, path string) error {
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("back up read model: %w", err)
	}
	return os.Chmod(path, 0o600)
}

// Check runs SQLite's integrity check.
func (db *DB) Check(ctx context.Context) error {
	var res string
	if err := db.read.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("check read model: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("check read model: %s", res)
	}
	return nil
}
