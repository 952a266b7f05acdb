package admin

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

	"golang.org/x/crypto/bcrypt"

	"github.com/tallyhq/tally/internal/atomicfile"
)

// PasswordFile holds the bcrypt hash of the admin password, inside the data directory.
const PasswordFile = "admin.hash"

// MinPasswordLength keeps the owner from choosing a password a script can guess quickly.
const MinPasswordLength = 8

// MaxPasswordLength is bcrypt's limit, in bytes.
const MaxPasswordLength = 72

// ErrNoPassword means no admin password has been set yet.
var ErrNoPassword = errors.New("no admin password set")

// ValidPassword says what is wrong with a password the owner chose, or nil.
func ValidPassword(password string) error {
	switch {
	case len(password) < MinPasswordLength:
		return fmt.Errorf("the admin password must be at least %d characters", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Errorf("the admin password must be at most %d bytes (bcrypt's limit)", MaxPasswordLength)
	}
	return nil
}

// SetPassword stores the bcrypt hash of password in dir, replacing any earlier one atomically.
// Every session opened under the old password ends.
func SetPassword(dir, password string) error {
	if err := ValidPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, PasswordFile), append(hash, '\n')); err != nil {
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

// readHash reads the stored hash; the file is read on every use, so `tally passwd` takes
// effect on a running server at once.
func readHash(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoPassword
	}
	if err != nil {
		return nil, fmt.Errorf("read admin password: %w", err)
	}
	return bytes.TrimSpace(b), nil
}

// CheckPassword reports whether password is the admin password stored in dir. It costs one
// bcrypt comparison: callers facing the network go through Auth, which throttles it.
func CheckPassword(dir, password string) (bool, error) {
	hash, err := readHash(dir)
	if err != nil {
		return false, err
	}
	err = bcrypt.CompareHashAndPassword(hash, []byte(password))
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

// fingerprint identifies the current password hash without revealing it, so sessions can be
// tied to the password they were opened under.
func fingerprint(dir string) (string, error) {
	hash, err := readHash(dir)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:16]), nil
}

// EnsurePassword stores the configured password, or, when none is configured and none is set
// yet, generates one, stores it, and returns it so that it can be shown once.
func EnsurePassword(dir, configured string) (generated string, err error) {
	if configured != "" {
		return "", SetPassword(dir, configured)
	}
	has, err := HasPassword(dir)
	if err != nil || has {
		return "", err
	}
	pw := GeneratePassword()
	return pw, SetPassword(dir, pw)
}
