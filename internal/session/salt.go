package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SaltFile is the name of the generated salt inside the data directory.
const SaltFile = "salt"

// LoadOrCreateSalt returns the salt kept in dir/salt, creating it with 32 random bytes and mode
// 0600 when the file does not exist yet. It reports whether it created the file.
//
// An existing file that is empty or unreadable is an error, never silently replaced: a new salt
// would make today's visitors look new again and hide a broken data directory.
func LoadOrCreateSalt(dir string) (salt []byte, created bool, err error) {
	path := filepath.Join(dir, SaltFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		salt = bytes.TrimSpace(b)
		if len(salt) == 0 {
			return nil, false, fmt.Errorf("session: salt file %s is empty", path)
		}
		return salt, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("session: read salt: %w", err)
	}

	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("session: generate salt: %w", err)
	}
	salt = []byte(hex.EncodeToString(raw))
	// O_EXCL: if another process created the file meanwhile, its salt wins and we read it.
	err = createFile(path, append(salt, '\n'))
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateSalt(dir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: create salt: %w", err)
	}
	return salt, true, nil
}

// createFile writes a new file of mode 0600 and syncs it to disk; it fails if the file exists,
// and leaves nothing behind if it cannot finish. Both salt modes write their salts with it.
// (internal/atomicfile does the same for everyone else; this package imports nothing of ours.)
func createFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// Load returns the Deriver of the configured salt mode: with daily set, a salt per UTC day in
// dir/salts; else the given salt; else the salt kept in dir/salt, generated on first use, in
// which case created reports whether this call generated it.
func Load(ctx context.Context, dir, salt string, daily bool, now func() time.Time) (d *Deriver, created bool, err error) {
	switch {
	case daily:
		d, err = NewRotating(ctx, dir, now)
		return d, false, err
	case salt == "":
		var b []byte
		if b, created, err = LoadOrCreateSalt(dir); err != nil {
			return nil, false, err
		}
		salt = string(b)
	}
	d, err = NewDeriver([]byte(salt))
	return d, created, err
}
