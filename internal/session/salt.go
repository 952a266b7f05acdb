package session

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateSalt(dir)
	}
	if err != nil {
		return nil, false, fmt.Errorf("session: create salt: %w", err)
	}
	if _, err := f.Write(append(salt, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("session: write salt: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("session: sync salt: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("session: close salt: %w", err)
	}
	return salt, true, nil
}
