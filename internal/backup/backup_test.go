package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplaceRefusesLinks: a crafted backup whose salt is a link to another file (here, a
// secret the restoring user can read) must not get that file copied into the data directory.
func TestReplaceRefusesLinks(t *testing.T) {
	src, data := t.TempDir(), t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("not yours"), 0o600)
	os.WriteFile(filepath.Join(src, "write.db"), []byte("backup"), 0o600)
	if err := os.Symlink(secret, filepath.Join(src, "salt")); err != nil {
		t.Skip("cannot make a symlink here:", err)
	}
	os.WriteFile(filepath.Join(data, "write.db"), []byte("current"), 0o600)

	_, err := Replace(src, data, []string{"write.db", "salt"}, time.Now())
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Replace with a linked salt: %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "write.db")); string(b) != "current" {
		t.Errorf("the data directory was changed before the refusal: write.db = %q", b)
	}
	if _, err := os.Stat(filepath.Join(data, "salt")); err == nil {
		t.Error("the linked file was copied in as the salt")
	}
}

func TestReplaceCopiesRegularFiles(t *testing.T) {
	src, data := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "write.db"), []byte("backup"), 0o600)
	os.WriteFile(filepath.Join(data, "write.db"), []byte("current"), 0o600)
	aside, err := Replace(src, data, []string{"write.db", "salt"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(data, "write.db"))
	old, _ := os.ReadFile(filepath.Join(aside, "write.db"))
	if string(got) != "backup" || string(old) != "current" {
		t.Errorf("write.db = %q, aside %q", got, old)
	}
	if fi, _ := os.Stat(filepath.Join(data, "write.db")); fi.Mode().Perm() != 0o600 {
		t.Errorf("restored file mode %o, want 600", fi.Mode().Perm())
	}
}

// TestReplaceAsideFolders: a restore into a new directory moves nothing aside and makes no
// folder; two restores in the same second keep their old files in two folders.
func TestReplaceAsideFolders(t *testing.T) {
	src, data := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "write.db"), []byte("backup"), 0o600)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	aside, err := Replace(src, data, []string{"write.db", "salt"}, now)
	if err != nil || aside != "" {
		t.Fatalf("restore into a new directory: aside %q, %v", aside, err)
	}
	if found, _ := filepath.Glob(filepath.Join(data, "pre-restore-*")); len(found) != 0 {
		t.Errorf("an empty aside folder was made: %v", found)
	}
	first, _ := Replace(src, data, []string{"write.db"}, now)
	os.WriteFile(filepath.Join(data, "write.db"), []byte("changed"), 0o600)
	second, _ := Replace(src, data, []string{"write.db"}, now)
	if first == "" || second == "" || first == second {
		t.Fatalf("two restores in one second: asides %q and %q", first, second)
	}
	if b, _ := os.ReadFile(filepath.Join(second, "write.db")); string(b) != "changed" {
		t.Errorf("the second aside holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(first, "write.db")); string(b) != "backup" {
		t.Errorf("the first aside was overwritten: %q", b)
	}
}
