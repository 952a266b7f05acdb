package admin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPasswordFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if has, _ := HasPassword(ctx, File(dir)); has {
		t.Fatal("empty dir has a password")
	}
	if _, err := CheckPassword(ctx, File(dir), "anything"); !errors.Is(err, ErrNoPassword) {
		t.Errorf("CheckPassword without a file: %v, want ErrNoPassword", err)
	}
	if err := SetPassword(ctx, File(dir), "first-password"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "first-password") || !strings.HasPrefix(string(b), "$2") {
		t.Errorf("password file %q is not a bcrypt hash", b)
	}
	fi, _ := os.Stat(filepath.Join(dir, PasswordFile))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %o, want 600", fi.Mode().Perm())
	}
	for pw, want := range map[string]bool{"first-password": true, "first-passwor": false, "": false} {
		if got, err := CheckPassword(ctx, File(dir), pw); got != want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	if err := SetPassword(ctx, File(dir), "short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	if err := SetPassword(ctx, File(dir), strings.Repeat("x", 73)); err == nil {
		t.Error("a password past bcrypt's 72 bytes was accepted")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestGeneratePassword(t *testing.T) {
	a, b := GeneratePassword(), GeneratePassword()
	if a == b || len(a) < 20 {
		t.Errorf("GeneratePassword gave %q and %q", a, b)
	}
}

// TestEnsurePasswordKeepsSessions: a node that starts with the password already stored (a
// restart, or a second node) keeps the stored hash, so sessions opened under it stay valid.
func TestEnsurePasswordKeepsSessions(t *testing.T) {
	ctx := context.Background()
	ps := File(t.TempDir())
	if gen, err := EnsurePassword(ctx, ps, "configured-pw"); gen != "" || err != nil {
		t.Fatalf("EnsurePassword: %q %v", gen, err)
	}
	before, _ := fingerprint(ctx, ps)
	EnsurePassword(ctx, ps, "configured-pw")
	if after, _ := fingerprint(ctx, ps); after != before {
		t.Error("starting again with the same password replaced the hash: every session would end")
	}
	EnsurePassword(ctx, ps, "another-password")
	if after, _ := fingerprint(ctx, ps); after == before {
		t.Error("a new configured password was not stored")
	}
	gen, err := EnsurePassword(ctx, File(t.TempDir()), "")
	if err != nil || len(gen) < 20 {
		t.Errorf("first start without a password: %q %v, want one generated", gen, err)
	}
}
