package arch

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestDependenciesDocumented: every direct dependency in go.mod has a row in the dependency
// table of docs/development.md saying why it is there, and sits on a tagged release rather than
// an untagged commit.
func TestDependenciesDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "development.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "\n## Dependencies\n")
	if !ok {
		t.Fatal("docs/development.md has no \"## Dependencies\" section")
	}
	direct := directRequires(string(gomod))
	if len(direct) < 5 {
		t.Fatalf("read only %d direct dependencies from go.mod: %v", len(direct), direct)
	}
	for mod, version := range direct {
		if !strings.Contains(table, "`"+mod+"`") {
			t.Errorf("%s is a direct dependency in go.mod but has no row in docs/development.md's dependency table", mod)
		}
		if pseudoVersion.MatchString(version) {
			t.Errorf("%s is on an untagged commit (%s): use a tagged release", mod, version)
		}
	}
}

// pseudoVersion matches Go's pseudo-versions: vX.Y.Z-[pre.]yyyymmddhhmmss-abcdefabcdef.
var pseudoVersion = regexp.MustCompile(`-(\d+\.)?\d{14}-[0-9a-f]{12}$`)

// directRequires returns the modules go.mod requires directly (not marked "// indirect").
func directRequires(gomod string) map[string]string {
	mods := map[string]string{}
	inBlock := false
	for _, line := range strings.Split(gomod, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inBlock:
			continue
		}
		if strings.Contains(line, "// indirect") {
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 {
			mods[f[0]] = f[1]
		}
	}
	return mods
}
