// Package arch holds no code: its tests check the import rules of DESIGN.md that keep the CQRS
// split visible, so a stray import fails CI instead of eroding the design. The rules name
// packages by path: every store lives under internal/store/, so a fifth store is covered the
// day it appears. TestRulesCatchViolations proves each rule fails on an import that breaks it.
package arch

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/tallyhq/tally"

const root = "../.."

// importGraph parses every non-test Go file under dir (reading the files themselves, so the
// test cache notices any change) and returns each package's direct imports.
func importGraph(t *testing.T, dir string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") && path != dir {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(path))
		pkg := module + "/" + filepath.ToSlash(rel)
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !slices.Contains(graph[pkg], p) {
				graph[pkg] = append(graph[pkg], p)
			}
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

const (
	storeRoot = module + "/internal/store"
	node      = module + "/internal/node"
	cmd       = module + "/cmd/"
)

// underStore reports a package below internal/store/: a store, its method sets or its tests.
func underStore(pkg string) bool { return strings.HasPrefix(pkg, storeRoot+"/") }

// drivers are what a store is built on; importing one is being a store.
var drivers = []string{"database/sql", "go.etcd.io/bbolt", "modernc.org/sqlite", "github.com/jackc/pgx", "github.com/redis/go-redis"}

// readDrivers are the read models' drivers: SQL.
var readDrivers = []string{"database/sql", "modernc.org/sqlite", "github.com/jackc/pgx"}

func isAny(pkg string, of []string) bool {
	return slices.ContainsFunc(of, func(d string) bool { return pkg == d || strings.HasPrefix(pkg, d+"/") })
}

// isStore reports a store package, or a driver: anything under internal/store, the opener
// itself, or a database driver.
func isStore(pkg string) bool { return pkg == storeRoot || underStore(pkg) || isAny(pkg, drivers) }

// isReadModel reports a read model: a package under internal/store/ that imports a SQL driver,
// or such a driver.
func isReadModel(graph map[string][]string, pkg string) bool {
	if isAny(pkg, readDrivers) {
		return true
	}
	return underStore(pkg) && slices.ContainsFunc(graph[pkg], func(d string) bool { return isAny(d, readDrivers) })
}

// rule is one import rule: check returns the violations it finds in graph.
type rule struct {
	name  string
	check func(graph map[string][]string) []string
}

// noDeps forbids pkg every dependency, direct or not, that bad reports.
func noDeps(graph map[string][]string, pkg, why string, bad func(string) bool) []string {
	if _, ok := graph[module+"/"+pkg]; !ok {
		return []string{fmt.Sprintf("package %s not found: the rule would check nothing", pkg)}
	}
	var out []string
	for d := range deps(graph, module+"/"+pkg) {
		if bad(d) {
			out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, d, why))
		}
	}
	return out
}

var rules = []rule{
	{"stores are wired only by internal/store, internal/node and cmd/", func(graph map[string][]string) []string {
		var out []string
		for pkg, imports := range graph {
			for _, d := range imports {
				switch {
				case underStore(d) && !(pkg == storeRoot || underStore(pkg) || pkg == node || strings.HasPrefix(pkg, cmd)):
					out = append(out, fmt.Sprintf("%s imports %s: only internal/store/…, internal/node and cmd/ import the stores", pkg, d))
				case d == storeRoot && !(pkg == node || strings.HasPrefix(pkg, cmd)):
					out = append(out, fmt.Sprintf("%s imports internal/store: only internal/node and cmd/ open the stores", pkg))
				}
			}
		}
		return out
	}},
	{"the beacon path imports no read model", func(graph map[string][]string) []string {
		return noDeps(graph, "internal/ingest", "the beacon path never loads the read model",
			func(d string) bool { return isReadModel(graph, d) || d == storeRoot })
	}},
	{"flush and snapshot import no store", func(graph map[string][]string) []string {
		var out []string
		for _, pkg := range []string{"internal/flush", "internal/snapshot"} {
			out = append(out, noDeps(graph, pkg, "the jobs know both models through their Source and Sink only", isStore)...)
		}
		return out
	}},
	{"the read side imports no store, even transitively", func(graph map[string][]string) []string {
		var out []string
		for _, pkg := range []string{"internal/ops", "internal/top", "internal/admin", "internal/report"} {
			out = append(out, noDeps(graph, pkg, "it sees the models through its own interfaces", isStore)...)
		}
		return append(out, noDeps(graph, "internal/ops", "the dashboard never reaches the write model through the jobs",
			func(d string) bool { return d == module+"/internal/flush" || d == module+"/internal/snapshot" })...)
	}},
	{"session imports nothing of ours", func(graph map[string][]string) []string {
		return noDeps(graph, "internal/session", "the session id is a leaf anyone can test alone",
			func(d string) bool { return strings.HasPrefix(d, module+"/") })
	}},
	{"nothing imports cmd/", func(graph map[string][]string) []string {
		var out []string
		for pkg, imports := range graph {
			for _, d := range imports {
				if strings.HasPrefix(d, cmd) && !strings.HasPrefix(pkg, cmd) {
					out = append(out, fmt.Sprintf("%s imports %s: nothing may import cmd/", pkg, d))
				}
			}
		}
		return out
	}},
}

func TestImportRules(t *testing.T) {
	graph := importGraph(t, root)
	for _, pkg := range []string{"bolt", "redis", "sqlite", "postgres"} {
		if _, ok := graph[storeRoot+"/"+pkg]; !ok {
			t.Errorf("no store internal/store/%s: the rules would check less than they say", pkg)
		}
	}
	for _, r := range rules {
		for _, v := range r.check(graph) {
			t.Errorf("%s: %s", r.name, v)
		}
	}
}

// TestRulesCatchViolations writes, for each rule, a package with an import that breaks it into
// a temporary tree, adds it to the real import graph and expects the rule to fail: a rule that
// checks nothing (as "the beacon path imports no read model" once did for PostgreSQL) fails
// here instead of passing quietly.
func TestRulesCatchViolations(t *testing.T) {
	real := importGraph(t, root)
	for _, tc := range []struct {
		rule  string
		files map[string]string // path → imports of a generated package file
	}{
		{rules[0].name, map[string]string{"internal/excluded": module + "/internal/store/redis"}},
		{rules[0].name, map[string]string{"internal/limit": storeRoot}},
		{rules[1].name, map[string]string{"internal/ingest": module + "/internal/store/postgres"}},
		{rules[1].name, map[string]string{"internal/ingest": "modernc.org/sqlite"}},
		// A fifth store appears under internal/store/ and the beacon path reaches it.
		{rules[1].name, map[string]string{"internal/store/mongo": "database/sql", "internal/clientip": module + "/internal/store/mongo"}},
		{rules[2].name, map[string]string{"internal/flush": "go.etcd.io/bbolt"}},
		{rules[2].name, map[string]string{"internal/snapshot": module + "/internal/store/model"}},
		{rules[3].name, map[string]string{"internal/top": "github.com/redis/go-redis/v9"}},
		{rules[3].name, map[string]string{"internal/report": "github.com/jackc/pgx/v5"}},
		{rules[3].name, map[string]string{"internal/ops": module + "/internal/flush"}},
		{rules[4].name, map[string]string{"internal/session": module + "/internal/item"}},
		{rules[5].name, map[string]string{"internal/item": module + "/cmd/tally"}},
	} {
		dir := t.TempDir()
		for path, imp := range tc.files {
			if err := os.MkdirAll(filepath.Join(dir, path), 0o755); err != nil {
				t.Fatal(err)
			}
			src := fmt.Sprintf("package %s\n\nimport _ %q\n", filepath.Base(path), imp)
			if err := os.WriteFile(filepath.Join(dir, path, "violation.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		graph := map[string][]string{}
		for pkg, imps := range real {
			graph[pkg] = slices.Clone(imps)
		}
		for pkg, imps := range importGraph(t, dir) {
			graph[pkg] = append(graph[pkg], imps...)
		}
		for _, r := range rules {
			if r.name == tc.rule && len(r.check(graph)) == 0 {
				t.Errorf("rule %q passed with %v", tc.rule, tc.files)
			}
		}
	}
}

// concreteAssertion is a type assertion or switch case on a store's concrete type.
var concreteAssertion = regexp.MustCompile(`\.\(\*(\w+)\.(Store|DB)\)|case \*(\w+)\.(Store|DB)\b`)

// TestNoConcreteStoreAssertions: outside internal/store/…, code asks which back end it has
// through internal/store's named capabilities (Stores.Shared), never by asserting a concrete
// store type.
func TestNoConcreteStoreAssertions(t *testing.T) {
	stores := map[string]bool{}
	entries, err := os.ReadDir(filepath.Join(root, "internal", "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			stores[e.Name()] = true
		}
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || filepath.ToSlash(rel) == "internal/store") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range concreteAssertion.FindAllStringSubmatch(string(src), -1) {
			if pkg := m[1] + m[3]; stores[pkg] {
				t.Errorf("%s asserts the concrete store type %s: ask internal/store for the capability instead", rel, m[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !concreteAssertion.MatchString("x.(*redis.Store)") || !concreteAssertion.MatchString("case *bolt.Store:") {
		t.Error("the pattern misses the assertions it is for")
	}
}
