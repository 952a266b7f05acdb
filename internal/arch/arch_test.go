// Package arch holds no code: its test checks the import rules of DESIGN.md that keep the CQRS
// split visible, so a stray import fails CI instead of eroding the design.
package arch

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tallyhq/tally"

// importGraph parses every non-test Go file of the repository (reading the files themselves,
// so the test cache notices any change) and returns each package's direct imports.
func importGraph(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	graph := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := module + "/" + filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(graph[pkg], p) {
				graph[pkg] = append(graph[pkg], p)
			}
		}
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// deps returns everything pkg imports, directly or not.
func deps(graph map[string][]string, pkg string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range graph[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	return seen
}

func TestImportRules(t *testing.T) {
	graph := importGraph(t)
	rules := []struct {
		pkg       string
		forbidden []string
		why       string
	}{
		{"internal/ingest", []string{"internal/sqlite", "modernc.org/sqlite"}, "the beacon path never loads the read model"},
		{"internal/ops", []string{"internal/bolt", "internal/flush", "internal/snapshot", "go.etcd.io/bbolt"}, "the dashboard never imports the write model, not even through the jobs"},
		{"internal/top", []string{"internal/bolt", "go.etcd.io/bbolt"}, "/api/top is read-side code"},
		{"internal/session", []string{module + "/"}, "the session id is a leaf"},
	}
	for _, r := range rules {
		pkg := module + "/" + r.pkg
		if _, ok := graph[pkg]; !ok {
			t.Fatalf("package %s not found: the rule checks nothing", r.pkg)
		}
		for d := range deps(graph, pkg) {
			for _, f := range r.forbidden {
				if d == f || strings.HasSuffix(d, "/"+f) || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
					t.Errorf("%s imports %s: %s", r.pkg, d, r.why)
				}
			}
		}
	}
}

// storeDrivers are what makes a package a store package: a database driver, bbolt, or
// database/sql.
var storeDrivers = []string{"database/sql", "go.etcd.io/bbolt", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/redis/go-redis"}

// storePackages returns our packages under internal/ that import a store driver directly.
func storePackages(graph map[string][]string) map[string]bool {
	out := map[string]bool{}
	for pkg, imports := range graph {
		if !strings.HasPrefix(pkg, module+"/internal/") {
			continue
		}
		for _, d := range imports {
			for _, drv := range storeDrivers {
				if d == drv || strings.HasPrefix(d, drv+"/") {
					out[pkg] = true
				}
			}
		}
	}
	return out
}

func TestStorePackagesFound(t *testing.T) {
	stores := storePackages(importGraph(t))
	for _, want := range []string{"internal/bolt", "internal/sqlite"} {
		if !stores[module+"/"+want] {
			t.Errorf("%s is not recognised as a store package: the rules below would check nothing", want)
		}
	}
}

// TestReadSideImportsNoStore: the dashboard and /api/top see the read model only through the
// interfaces they declare, so the same code runs on any read model.
func TestReadSideImportsNoStore(t *testing.T) {
	graph := importGraph(t)
	stores := storePackages(graph)
	for _, pkg := range []string{"internal/ops", "internal/top", "internal/admin", "internal/report"} {
		if _, ok := graph[module+"/"+pkg]; !ok {
			t.Fatalf("package %s not found: the rule checks nothing", pkg)
		}
		for d := range deps(graph, module+"/"+pkg) {
			if stores[d] || slices.ContainsFunc(storeDrivers, func(drv string) bool { return d == drv || strings.HasPrefix(d, drv+"/") }) {
				t.Errorf("%s imports %s, a store: it must see the read model through its own interfaces", pkg, d)
			}
		}
	}
}

// Wiring packages know every model: datadir opens the stores for node and cmd/tally, node
// runs them for cmd/tally, storetest serves tests. Nothing else may import them, or the import
// graph would stop showing the CQRS split.
var wiring = map[string]string{
	module + "/internal/datadir":   "cmd/",
	module + "/internal/node":      "cmd/",
	module + "/internal/storetest": "tests",
}

// mayWire reports whether pkg may import the wiring package of who.
func mayWire(pkg, who string) bool {
	return who == "cmd/" && (strings.HasPrefix(pkg, module+"/cmd") || pkg == module+"/internal/node")
}

func TestOnlyJobsKnowBothModels(t *testing.T) {
	graph := importGraph(t)
	for pkg, imports := range graph {
		for _, d := range imports {
			if strings.HasPrefix(d, module+"/cmd") && !strings.HasPrefix(pkg, module+"/cmd") {
				t.Errorf("%s imports %s: nothing may import cmd/", pkg, d)
			}
			if who, ok := wiring[d]; ok && !mayWire(pkg, who) {
				t.Errorf("%s imports %s, which only %s may import", pkg, d, who)
			}
		}
		if strings.HasPrefix(pkg, module+"/cmd") || wiring[pkg] != "" {
			continue
		}
		all := deps(graph, pkg)
		if all[module+"/internal/bolt"] && all[module+"/internal/sqlite"] &&
			!strings.HasSuffix(pkg, "/flush") && !strings.HasSuffix(pkg, "/snapshot") {
			t.Errorf("%s depends on both the write and the read model; only flush and snapshot may", pkg)
		}
	}
}

// TestJobsImportNoStore: flush and snapshot know both models through interfaces only.
func TestJobsImportNoStore(t *testing.T) {
	graph := importGraph(t)
	stores := storePackages(graph)
	for _, pkg := range []string{"internal/flush", "internal/snapshot"} {
		for d := range deps(graph, module+"/"+pkg) {
			if stores[d] {
				t.Errorf("%s imports the store %s; it must use its Source and Sink interfaces", pkg, d)
			}
		}
	}
}
