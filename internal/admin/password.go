package admin

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

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

// Passwords is where the bcrypt hash of the admin password lives: a file in the data
// directory (File), or the write model when many nodes share one, so that a password set on one
// node is the password of all and a session opened on one is valid on all.
type Passwords interface {
	// PasswordHash returns the stored hash, or ErrNoPassword.
	PasswordHash(ctx context.Context) ([]byte, error)
	SetPasswordHash(ctx context.Context, hash []byte) error
	// LoggedIn reports whether the owner ever got in (a login or an admin API call), so that
	// until then every start can say how to.
	LoggedIn(ctx context.Context) (bool, error)
	NoteLogin(ctx context.Context) error
}

// usedFile marks, in the data directory, that the owner has logged in once.
const usedFile = "admin.used"

// LoggedIn reports whether the marker file exists.
func (f File) LoggedIn(context.Context) (bool, error) {
	_, err := os.Stat(filepath.Join(string(f), usedFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// NoteLogin writes the marker file.
func (f File) NoteLogin(ctx context.Context) error {
	return atomicfile.Write(filepath.Join(string(f), usedFile), nil)
}

// File keeps the hash in dir/admin.hash, mode 0600.
type File string

// PasswordHash reads the file; it is read on every use, so `tally passwd` takes effect on a
// running server at once.
func (f File) PasswordHash(context.Context) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(string(f), PasswordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoPassword
	}
	if err != nil {
		return nil, fmt.Errorf("read admin password: %w", err)
	}
	return bytes.TrimSpace(b), nil
}

// SetPasswordHash replaces the file atomically.
func (f File) SetPasswordHash(_ context.Context, hash []byte) error {
	return atomicfile.Write(filepath.Join(string(f), PasswordFile), append(hash, '\n'))
}

// hashCost is bcrypt's cost for a new hash. Test binaries use the minimum, since their suites
// set a password in nearly every test; the command tests run the real binary and check that
// it hashes at bcrypt.DefaultCost.
var hashCost = func() int {
	if testing.Testing() {
		return bcrypt.MinCost
	}
	return bcrypt.DefaultCost
}()

// SetPassword stores the bcrypt hash of password, replacing any earlier one. Every session
// opened under the old password ends.
func SetPassword(ctx context.Context, ps Passwords, password string) error {
	if err := ValidPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), hashCost)
	if err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	if err := ps.SetPasswordHash(ctx, hash); err != nil {
		return fmt.Errorf("set admin password: %w", err)
	}
	return nil
}

// HasPassword reports whether an admin password is set.
func HasPassword(ctx context.Context, ps Passwords) (bool, error) {
	_, err := ps.PasswordHash(ctx)
	if errors.Is(err, ErrNoPassword) {
		return false, nil
	}
	return err == nil, err
}

// CheckPassword reports whether password is the admin password. It costs one bcrypt
// comparison: callers facing the network go through Auth, which throttles it.
func CheckPassword(ctx context.Context, ps Passwords, password string) (bool, error) {
	hash, err := ps.PasswordHash(ctx)
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
func fingerprint(ctx context.Context, ps Passwords) (string, error) {
	hash, err := ps.PasswordHash(ctx)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(hash)
	return hex.EncodeToString(sum[:16]), nil
}

// EnsurePassword stores the configured password unless it is the stored one already (so that
// restarts, and nodes started with the same password, do not end sessions); with none
// configured and none set yet, it generates one, stores it, and returns it to be shown once.
func EnsurePassword(ctx context.Context, ps Passwords, configured string) (generated string, err error) {
	if configured != "" {
		if same, err := CheckPassword(ctx, ps, configured); err == nil && same {
			return "", nil
		}
		return "", SetPassword(ctx, ps, configured)
	}
	has, err := HasPassword(ctx, ps)
	if err != nil || has {
		return "", err
	}
	pw := GeneratePassword()
	return pw, SetPassword(ctx, ps, pw)
}
