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

func TestOnlyJobsKnowBothModels(t *testing.T) {
	graph := importGraph(t)
	for pkg, imports := range graph {
		if strings.HasPrefix(pkg, module+"/cmd") {
			continue
		}
		for _, d := range imports {
			if strings.HasPrefix(d, module+"/cmd") {
				t.Errorf("%s imports %s: nothing may import cmd/", pkg, d)
			}
		}
		all := deps(graph, pkg)
		if all[module+"/internal/bolt"] && all[module+"/internal/sqlite"] &&
			!strings.HasSuffix(pkg, "/flush") && !strings.HasSuffix(pkg, "/snapshot") {
			t.Errorf("%s depends on both the write and the read model; only flush and snapshot may", pkg)
		}
	}
}
