// Package postgres is tally's read model on PostgreSQL, for sites that outgrow one machine: the
// same tables and columns as the SQLite read model (internal/sqlite), the same queries for the
// jobs, the dashboard and /api/top, through pgx's connection pool. Every difference of dialect
// between the two read models is in this package and in migrations/postgres.
//
// Times are kept to the second, as on SQLite, so that both models answer alike; text columns
// have the "C" collation (see the migration), ordered byte by byte as SQLite orders them.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a DB. Zero values mean the defaults.
type Options struct {
	Now            func() time.Time // clock for last_synced_at and job runs; default time.Now
	ConnectTimeout time.Duration    // per connection attempt, and for the first one; default 5 s
	MaxConns       int32            // default 8
	Node           string           // the name job_runs gives this node's runs
}

// DB is the read model on PostgreSQL.
type DB struct {
	pool  *pgxpool.Pool
	now   func() time.Time
	where string // the server and database, for messages; never the password
	node  string
}

// Open connects to the database at rawURL (postgres://user:password@host:5432/db?sslmode=…),
// waiting at most Options.ConnectTimeout, and applies pending migrations under an advisory
// lock, so that nodes starting together migrate once.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 5 * time.Second
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	where := Redact(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", where, errors.New("not a valid postgres:// URL"))
	}
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	cfg.MaxConns = opts.MaxConns
	// An idle connection is pinged before use (pgxpool does so after 1 s idle), and a server
	// that went away must not make that ping hang.
	cfg.PingTimeout = opts.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", where, err)
	}
	db := &DB{pool: pool, now: opts.Now, where: where, node: opts.Node}
	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("read model %s: cannot connect: %w", where, err)
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("read model %s: %w", where, err)
	}
	return db, nil
}

// Redact writes a database URL without its password, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "(a PostgreSQL URL that cannot be parsed)"
	}
	return u.Redacted()
}

// Where names the server and database, without the password.
func (db *DB) Where() string { return db.where }

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping reports whether the server answers, for /healthz.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("read model %s: %w", db.where, err)
	}
	return nil
}

// timestamp is how times are written: UTC, to the second, as on SQLite.
func (db *DB) timestamp() time.Time { return db.now().UTC().Truncate(time.Second) }
