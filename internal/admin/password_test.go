package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	if has, _ := HasPassword(dir); has {
		t.Fatal("empty dir has a password")
	}
	if _, err := CheckPassword(dir, "anything"); err != ErrNoPassword {
		t.Errorf("CheckPassword without a file: %v, want ErrNoPassword", err)
	}
	if err := SetPassword(dir, "first-password"); err != nil {
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
		if got, err := CheckPassword(dir, pw); got != want || err != nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", pw, got, err, want)
		}
	}
	if err := SetPassword(dir, "short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	if err := SetPassword(dir, strings.Repeat("x", 73)); err == nil {
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
