// Package store opens tally's stores from the two URLs and the data directory, and hands out
// what the rest of tally needs: the write model, the read model, and the capabilities only
// some back ends have, as named interfaces (Shared), never a concrete store type to assert on.
// The stores themselves live below it: bolt and redis (write models), sqlite and postgres
// (read models), their method sets in model and their conformance tests in storetest. Only
// internal/node and cmd/ import it.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/ingest"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/ops"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/model"
	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/top"
)

// lockWait is how long a command waits for the write model's lock before saying the directory
// is in use: long enough for a server that is just stopping, short enough never to hang.
const lockWait = 2 * time.Second

// OpenWrite opens the write model of dir. If a running server holds it, the error wraps
// ErrInUse and names the directory.
func OpenWrite(dir string, opts bolt.Options) (*bolt.Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = lockWait
	}
	w, err := bolt.Open(filepath.Join(dir, datadir.WriteFile), opts)
	if errors.Is(err, bolt.ErrLocked) {
		return nil, fmt.Errorf("the data directory %s is %w", dir, datadir.ErrInUse)
	}
	return w, err
}

// OpenRead opens the read model: SQLite in dir unless opts.ReadStore names a PostgreSQL
// database. It creates and migrates it unless opts.ReadOnly; a read-only open of a directory
// without a SQLite read model says so.
func OpenRead(ctx context.Context, dir string, opts Options) (ReadModel, error) {
	if IsPostgres(opts.ReadStore) {
		return postgres.Open(ctx, opts.ReadStore, postgres.Options{Now: opts.Now, Node: opts.Node})
	}
	if opts.ReadStore != "" {
		return nil, fmt.Errorf("--read-store %s: want empty (SQLite in the data directory) or a postgres:// URL", postgres.Redact(opts.ReadStore))
	}
	path := filepath.Join(dir, datadir.ReadFile)
	if opts.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no read model at %s: start tally serve with --data %s first", path, dir)
		}
	}
	return sqlite.Open(ctx, path, sqlite.Options{Now: opts.Now, ReadOnly: opts.ReadOnly, Node: opts.Node})
}

// IsPostgres reports whether a --read-store URL names a PostgreSQL database.
func IsPostgres(readStore string) bool {
	return strings.HasPrefix(readStore, "postgres://") || strings.HasPrefix(readStore, "postgresql://")
}

// WriteModel and ReadModel are the method sets every write and read model offers, declared
// once in internal/store/model.
type (
	WriteModel = model.WriteModel
	ReadModel  = model.ReadModel
)

// Every store has every method of its model, and every consumer's interface is part of the
// model it reads or writes: a method added to a consumer's interface that a store lacks fails
// to build here.
var (
	_ WriteModel = (*bolt.Store)(nil)
	_ WriteModel = (*redis.Store)(nil)
	_ ReadModel  = (*sqlite.DB)(nil)
	_ ReadModel  = (*postgres.DB)(nil)

	_ ingest.Recorder = WriteModel(nil)
	_ flush.Source    = WriteModel(nil)
	_ snapshot.Source = WriteModel(nil)
	_ admin.Sessions  = WriteModel(nil)
	_ excluded.Sink   = WriteModel(nil)
	_ flush.Sink      = ReadModel(nil)
	_ snapshot.Sink   = ReadModel(nil)
	_ ops.Reader      = ReadModel(nil)
	_ top.Lister      = ReadModel(nil)

	_ Shared = (*redis.Store)(nil)
)

// Shared is what a write model that many nodes share offers besides the write model: the
// salts every node derives ids with, the admin password and sessions of every node, one node
// per job tick, and a per-visitor cap kept for all nodes. Stores.Shared is nil when the write
// model is one process's (bbolt).
type Shared interface {
	admin.Passwords
	Salt(ctx context.Context) (salt []byte, created bool, err error)
	DaySalts() session.DaySalts
	Lock(ctx context.Context, job string, tick time.Time, node string, ttl time.Duration) (bool, error)
	// Durability says what an acknowledged view survives, for the start-up log.
	Durability(ctx context.Context) string
}

// Stores are the two models of a data directory, open.
type Stores struct {
	Dir   string
	Write WriteModel
	Read  ReadModel
	// Shared is the write model's side that many nodes share; nil on bbolt.
	Shared Shared
}

// Options say how to open the stores.
type Options struct {
	// WriteStore is the write model: "" for bbolt in DATA/write.db, or a redis:// URL.
	WriteStore string
	Write      bolt.Options // for bbolt
	Redis      redis.Options
	// ReadStore is the read model: "" for SQLite in DATA/read.db, or a postgres:// URL.
	ReadStore string
	ReadOnly  bool             // open the read model without migrating it (tally top)
	Node      string           // the name job_runs gives this node's runs
	Now       func() time.Time // the read model's clock; default time.Now
}

// Open opens both stores of dir.
func Open(ctx context.Context, dir string, opts Options) (*Stores, error) {
	w, err := OpenWriteModel(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	r, err := OpenRead(ctx, dir, opts)
	if err != nil {
		w.Close()
		return nil, err
	}
	st := &Stores{Dir: dir, Write: w, Read: r}
	st.Shared, _ = w.(Shared)
	return st, nil
}

// Close closes both stores.
func (s *Stores) Close() error {
	return errors.Join(s.Write.Close(), s.Read.Close())
}

// Backup writes a consistent backup of the stores and the secrets into dest, a new folder. A
// read model on PostgreSQL is not in it: back that up with pg_dump, or let tally restore
// rebuild it from the write model. A write model on Redis is Redis's to keep (RDB, AOF).
func (s *Stores) Backup(ctx context.Context, dest string, now time.Time) (backup.Manifest, error) {
	write, ok := s.Write.(*bolt.Store)
	if !ok {
		return backup.Manifest{}, errors.New("the write model is on Redis: back it up with Redis's own persistence (BGSAVE, or copy its AOF/RDB files), and the read model with pg_dump")
	}
	read, _ := s.Read.(*sqlite.DB)
	return backup.Make(ctx, dest, BackupParts(s.Dir, read, write), now)
}

// OpenWriteModel opens the write model: bbolt in dir unless opts.WriteStore names a Redis.
func OpenWriteModel(ctx context.Context, dir string, opts Options) (WriteModel, error) {
	switch {
	case IsRedis(opts.WriteStore):
		ro := opts.Redis
		if ro.Now == nil {
			ro.Now = opts.Now
		}
		return redis.Open(ctx, opts.WriteStore, ro)
	case opts.WriteStore != "":
		return nil, fmt.Errorf("--write-store %s: want empty (bbolt in the data directory) or a redis:// URL", redis.Redact(opts.WriteStore))
	}
	return OpenWrite(dir, opts.Write)
}

// IsRedis reports whether a --write-store URL names a Redis.
func IsRedis(writeStore string) bool {
	return strings.HasPrefix(writeStore, "redis://") || strings.HasPrefix(writeStore, "rediss://")
}

// BackupParts lists what a backup of dir holds, read model first (when it is SQLite's): a
// restore then flushes every item again, which makes the read model match the write model
// whatever moment each was copied.
func BackupParts(dir string, read *sqlite.DB, write *bolt.Store) []backup.Part {
	var parts []backup.Part
	if read != nil {
		parts = append(parts, backup.Part{Name: datadir.ReadFile, Write: read.BackupTo})
	}
	return append(parts,
		backup.Part{Name: datadir.WriteFile, Write: write.BackupTo},
		backup.Part{Name: session.SaltFile, Write: backup.CopyFile(filepath.Join(dir, session.SaltFile)), Optional: true},
		backup.Part{Name: admin.PasswordFile, Write: backup.CopyFile(filepath.Join(dir, admin.PasswordFile)), Optional: true},
	)
}

// Import sets starting counts in the write model (see bolt.Store.Seed) and returns what each
// item had been seeded with before.
func Import(ctx context.Context, dir string, opts Options, seeds []item.Seed) ([]item.Seed, error) {
	if err := datadir.Create(dir); err != nil {
		return nil, err
	}
	w, err := OpenWriteModel(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.Seed(ctx, seeds)
}

// partNames are the files a restore puts back: the names of BackupParts.
func partNames() []string {
	names := []string{datadir.ReadFile}
	for _, p := range BackupParts("", nil, nil) {
		names = append(names, p.Name)
	}
	return names
}

// Passwords is where the admin password hash lives: in the write model when nodes share one,
// so that every node has the same password and sessions; else in the data directory.
func (s *Stores) Passwords() admin.Passwords { return passwordsOf(s.Write, s.Dir) }

func passwordsOf(w WriteModel, dir string) admin.Passwords {
	if shared, ok := w.(Shared); ok {
		return shared
	}
	return admin.File(dir)
}

// Passwords is Stores.Passwords for a command that opened only the write model.
func Passwords(w WriteModel, dir string) admin.Passwords { return passwordsOf(w, dir) }

// Deriver makes the session deriver of the configured salt: the given one; a salt per UTC day
// (daily), kept in the data directory or, with nodes sharing Redis, there; or the salt
// generated once and kept in the data directory or in Redis. It says where it keeps a salt it
// generated ("" when it generated none).
func (s *Stores) Deriver(ctx context.Context, salt string, daily bool, now func() time.Time) (d *session.Deriver, generated string, err error) {
	shared, onRedis := s.Shared, s.Shared != nil
	switch {
	case daily && onRedis:
		d, err = session.NewRotatingIn(ctx, shared.DaySalts(), now)
		return d, "Redis, shared by every node", err
	case daily:
		d, err = session.NewRotating(ctx, s.Dir, now)
		return d, filepath.Join(s.Dir, session.SaltDir), err
	case salt == "" && onRedis:
		b, created, err := shared.Salt(ctx)
		if err != nil {
			return nil, "", err
		}
		if created {
			generated = "Redis, shared by every node"
		}
		d, err = session.NewDeriver(b)
		return d, generated, err
	}
	d, created, err := session.Load(ctx, s.Dir, salt, false, now)
	if created {
		generated = filepath.Join(s.Dir, session.SaltFile)
	}
	return d, generated, err
}
