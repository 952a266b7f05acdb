// Package datadir knows the data directory: what files it holds, how it is created, and where
// the server holding it listens. Opening the stores in it is internal/store's.
//
//	write.db     the write model (bbolt); one process at a time
//	read.db      the read model (SQLite), with -wal and -shm beside it
//	salt         the generated secret salt (internal/session), mode 0600
//	salts/       the daily salts of --salt-rotation daily
//	admin.hash   the bcrypt hash of the admin password (internal/admin), mode 0600
//	server.url   where the running server listens, for tally backup; removed on shutdown
//	stores       the shared stores the server last ran with (URLs, passwords masked), so
//	             commands given only --data say which --write-store or --read-store they need
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyhq/tally/internal/atomicfile"
)

// Files of the data directory.
const (
	WriteFile  = "write.db"
	ReadFile   = "read.db"
	ServerFile = "server.url"
)

// ErrInUse means a running tally server holds the data directory.
var ErrInUse = errors.New("in use by a running tally server")

// Create makes the data directory (mode 0700) if it does not exist.
func Create(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return nil
}

// NoteServer records where the running server listens, for tally backup.
func NoteServer(dir, url string) error {
	return atomicfile.Write(filepath.Join(dir, ServerFile), []byte(url+"\n"))
}

// ForgetServer removes the note of NoteServer, at shutdown.
func ForgetServer(dir string) { os.Remove(filepath.Join(dir, ServerFile)) }

// Server returns where the server holding dir listens.
func Server(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ServerFile))
	if err != nil {
		return "", fmt.Errorf("a server holds %s but its address is unknown: give --server http://HOST:PORT", dir)
	}
	return strings.TrimSpace(string(b)), nil
}

// StoresFile records which shared stores the server of the data directory last ran with (their
// URLs with any password masked), so that commands given only --data can say which flag they
// need instead of using the data directory's own files by mistake.
const StoresFile = "stores"

// Stores are the shared stores a server ran with: masked URLs, "" for the embedded ones.
type Stores struct {
	Write string // e.g. "redis://:xxxxx@redis:6379/0"
	Read  string // e.g. "postgres://tally:xxxxx@db:5432/tally"
}

// NoteStores records the stores the server of dir runs with (see StoresFile).
func NoteStores(dir string, s Stores) error {
	return atomicfile.Write(filepath.Join(dir, StoresFile), []byte("write-store "+s.Write+"\nread-store "+s.Read+"\n"))
}

// NotedStores returns what NoteStores recorded; zero when nothing was.
func NotedStores(dir string) Stores {
	b, err := os.ReadFile(filepath.Join(dir, StoresFile))
	if err != nil {
		return Stores{}
	}
	var s Stores
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, " ")
		switch k {
		case "write-store":
			s.Write = v
		case "read-store":
			s.Read = v
		}
	}
	return s
}
