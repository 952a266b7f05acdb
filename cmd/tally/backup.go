package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/ops"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/sqlite"
)

// backupParts lists what a backup holds, read model first (see Main.backupTo).
func backupParts(dataDir string, read *sqlite.DB, write *bolt.Store) []backup.Part {
	return []backup.Part{
		{Name: readModelFile, Write: read.BackupTo},
		{Name: writeModelFile, Write: write.BackupTo},
		{Name: session.SaltFile, Write: backup.CopyFile(filepath.Join(dataDir, session.SaltFile)), Optional: true},
		{Name: ops.PasswordFile, Write: backup.CopyFile(filepath.Join(dataDir, ops.PasswordFile)), Optional: true},
	}
}

func runBackup(ctx context.Context, e env, c command, args []string) error {
	fs := newFlagSet("backup", c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory to back up")
	server := fs.String("server", "", "URL of the running server holding the data directory (default: read from DATA/server.url)")
	dest, err := parseWithArg(fs, args, e.getenv)
	if err != nil {
		return err
	}
	w, r, err := openBoth(ctx, *data)
	switch {
	case errors.Is(err, errServerRunning):
		return backupThroughServer(ctx, e, *data, *server, dest)
	case err != nil:
		return err
	}
	defer w.Close()
	defer r.Close()
	m, err := backup.Make(ctx, dest, backupParts(*data, r, w), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backed up %s to %s (%s)\n", *data, dest, strings.Join(m.Files, ", "))
	return nil
}

// backupThroughServer asks the server holding the data directory for a consistent copy.
func backupThroughServer(ctx context.Context, e env, dataDir, server, dest string) error {
	if server == "" {
		b, err := os.ReadFile(filepath.Join(dataDir, serverURLFile))
		if err != nil {
			return fmt.Errorf("a server holds %s but its address is unknown: give --server http://HOST:PORT", dataDir)
		}
		server = strings.TrimSpace(string(b))
	}
	pw, ok := e.getenv("TALLY_ADMIN_PASSWORD")
	if !ok {
		fmt.Fprint(e.stderr, "Admin password: ")
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		pw = strings.TrimRight(line, "\r\n")
	}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(server, "/")+"/ops/api/backup", nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(ops.AdminUser, pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("ask the server for a backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("the server refused the backup: %s %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if err := backup.Untar(resp.Body, dest); err != nil {
		return err
	}
	m, _ := backup.ReadManifest(dest)
	fmt.Fprintf(e.stdout, "backed up %s through the running server %s to %s (%s)\n", dataDir, server, dest, strings.Join(m.Files, ", "))
	return nil
}

func runRestore(ctx context.Context, e env, c command, args []string) error {
	fs := newFlagSet("restore", c.synopsis, e.stderr)
	data := fs.String("data", "./data", "data directory to restore into")
	src, err := parseWithArg(fs, args, e.getenv)
	if err != nil {
		return err
	}
	m, err := backup.ReadManifest(src)
	if err != nil {
		return err
	}
	if err := bolt.Check(filepath.Join(src, writeModelFile)); err != nil {
		return fmt.Errorf("the backup is damaged: %w", err)
	}
	if err := checkReadModel(ctx, filepath.Join(src, readModelFile)); err != nil {
		return fmt.Errorf("the backup is damaged: %w", err)
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	// Refuse while a server holds the data directory.
	w, err := bolt.Open(filepath.Join(*data, writeModelFile), bolt.Options{LockTimeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("the data directory %s is in use by a running tally server; stop it first", *data)
	}
	if err != nil {
		return err
	}
	w.Close()
	aside, err := backup.Replace(src, *data, []string{writeModelFile, readModelFile, session.SaltFile, ops.PasswordFile}, time.Now())
	if err != nil {
		return fmt.Errorf("%w (the previous files are in %s)", err, aside)
	}
	n, err := reflushAll(ctx, *data)
	if err != nil {
		return fmt.Errorf("restored, but the first flush failed (run tally flush): %w", err)
	}
	fmt.Fprintf(e.stdout, "restored the backup of %s into %s; the previous files are in %s\n",
		m.CreatedAt.Format(time.RFC3339), *data, aside)
	fmt.Fprintf(e.stdout, "flushed all %d items, so the read model matches the write model\n", n)
	return nil
}

// reflushAll marks every item dirty and flushes: the two stores of a backup were copied a moment
// apart, and this makes the read model match the write model exactly.
func reflushAll(ctx context.Context, dataDir string) (int, error) {
	w, r, err := openBoth(ctx, dataDir)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	defer r.Close()
	if _, err := w.MarkAllDirty(ctx); err != nil {
		return 0, err
	}
	res, err := flush.New(w, r, newLogger(io.Discard)).Run(ctx)
	return res.Items, err
}

func checkReadModel(ctx context.Context, path string) error {
	db, err := sqlite.Open(ctx, path, sqlite.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Check(ctx)
}
