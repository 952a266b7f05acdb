package arch

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoBuildOutputTracked keeps build output out of git: a tracked executable (a 29 MB
// tally-bench once was) goes into every clone and every Docker build context.
func TestNoBuildOutputTracked(t *testing.T) {
	root := filepath.Join("..", "..")
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout with git installed (%v): nothing tracked to check", err)
	}
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree but not yet in the index
		}
		head := make([]byte, 8192)
		n, _ := f.Read(head)
		f.Close()
		if isExecutable(head[:n]) {
			t.Errorf("%s is an executable binary: build output does not belong in git (git rm --cached %s; .gitignore lists it)", name, name)
		}
	}
}

// isExecutable tells compiled programs by their magic numbers: ELF, Mach-O (32/64-bit, either
// byte order, and universal) and PE/COFF.
func isExecutable(b []byte) bool {
	for _, magic := range [][]byte{
		[]byte("\x7fELF"),
		{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf}, {0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
		{0xca, 0xfe, 0xba, 0xbe},
	} {
		if bytes.HasPrefix(b, magic) {
			return true
		}
	}
	return bytes.HasPrefix(b, []byte("MZ")) && bytes.Contains(b, []byte("PE\x00\x00"))
}

func TestIsExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"this test binary", b[:8192], true},
		{"Go source", []byte("package arch\n"), false},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n"), false},
		{"text that starts with MZ", []byte("MZ is a postcode"), false},
	} {
		if got := isExecutable(tc.b); got != tc.want {
			t.Errorf("%s: isExecutable = %v, want %v", tc.name, got, tc.want)
		}
	}
}
