// Package arch holds no code: its test checks the import rules of DESIGN.md that keep the CQRS
// split visible, so a stray import fails CI instead of eroding the design.
package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tallyhq/tally"

// deps returns the packages pkg imports, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module+"/"+pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

func TestImportRules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH; install Go to run this test")
	}
	rules := []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{"internal/ingest", []string{"internal/sqlite", "modernc.org/sqlite"}, "the beacon path never loads the read model"},
		{"internal/ops", []string{"internal/bolt", "internal/flush", "go.etcd.io/bbolt"}, "the dashboard never imports the write model"},
		{"internal/top", []string{"internal/bolt", "go.etcd.io/bbolt"}, "/api/top is read-side code"},
		{"internal/session", []string{"internal/"}, "the session id is a leaf"},
	}
	for _, r := range rules {
		for _, d := range deps(t, r.pkg) {
			if d == module+"/"+r.pkg {
				continue
			}
			for _, f := range r.forbidden {
				if strings.Contains(d, f) && (strings.HasPrefix(f, "internal/") == strings.HasPrefix(d, module)) {
					t.Errorf("%s imports %s: %s", r.pkg, d, r.why)
				}
			}
		}
	}
}

func TestOnlyJobsKnowBothModels(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH; install Go to run this test")
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/internal/...").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], strings.Join(fields[1:], " ")
		if strings.Contains(imports, module+"/cmd") {
			t.Errorf("%s imports cmd/: nothing may", pkg)
		}
		both := strings.Contains(imports, module+"/internal/bolt") && strings.Contains(imports, module+"/internal/sqlite")
		if both && !strings.HasSuffix(pkg, "/flush") && !strings.HasSuffix(pkg, "/snapshot") {
			t.Errorf("%s imports both the write and the read model; only flush and snapshot may", pkg)
		}
	}
}
