package ops

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// PasswordFile holds the bcrypt hash of the admin password, inside the data directory.
const PasswordFile = "admin.hash"

// MinPasswordLength keeps the owner from choosing a password a script can guess quickly.
const MinPasswordLength = 8

// ErrNoPassword means no admin password has been set yet.
var ErrNoPassword = errors.New("no admin password set")

// SetPassword stores the bcrypt hash of password in dir, replacing any earlier one atomically.
func SetPassword(dir, password string) error {
	if len(password) < MinPasswordLength {
		return fmt.Errorf("set admin password: must be at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return errors.New("set admin password: must be at most 72 bytes (bcrypt's limit)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	tmp, err := os.CreateTemp(dir, PasswordFile+".*")
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(hash, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, PasswordFile)); err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	return nil
}

// HasPassword reports whether dir holds an admin password hash.
func HasPassword(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check admin password: %w", err)
	}
	return true, nil
}

// CheckPassword reports whether password is the admin password stored in dir. The file is read
// on every check, so `tally passwd` takes effect on a running server at once.
func CheckPassword(dir, password string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, ErrNoPassword
	}
	if err != nil {
		return false, fmt.Errorf("check admin password: %w", err)
	}
	err = bcrypt.CompareHashAndPassword([]byte(strings.TrimSpace(string(b))), []byte(password))
	if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check admin password: %w", err)
	}
	return true, nil
}

// GeneratePassword returns a random password: 26 base32 characters, 128 bits of entropy.
func GeneratePassword() string { return rand.Text() }

// PasswordFingerprint identifies the current password hash without revealing it, so sessions
// can be tied to the password they were opened under.
func PasswordFingerprint(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoPassword
	}
	if err != nil {
		return "", fmt.Errorf("read admin password: %w", err)
	}
	sum := sha256.Sum256(bytes.TrimSpace(b))
	return hex.EncodeToString(sum[:16]), nil
}
