package main

import (
	"bytes"
	"context"
	"go/ast"
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

// TestConfigurationDocsListEveryFlag holds docs/configuration.md to --help: every flag of every
// command (read from the flag sets, through each command's own --help) has a row in that
// command's table, and the tables name no flag that does not exist.
func TestConfigurationDocsListEveryFlag(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := flagTables(string(doc))
	for _, c := range commands {
		var out bytes.Buffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) (string, bool) { return "", false }}
		run(context.Background(), e, []string{c.name, "--help"})
		flags := helpFlags(out.String())
		docFlags, ok := documented[c.name]
		if !ok && len(flags) == 0 {
			continue // a command without flags needs no table
		}
		if !ok {
			t.Errorf("docs/configuration.md has no \"### tally %s\" table", c.name)
			continue
		}
		for _, f := range flags {
			if !slices.Contains(docFlags, f) {
				t.Errorf("tally %s --%s is missing from docs/configuration.md", c.name, f)
			}
		}
		for _, f := range docFlags {
			if !slices.Contains(flags, f) {
				t.Errorf("docs/configuration.md lists --%s for tally %s, which has no such flag", f, c.name)
			}
		}
		delete(documented, c.name)
	}
	for name := range documented {
		t.Errorf("docs/configuration.md has a table for tally %s, which is no command", name)
	}
}

// helpFlags reads the flag names out of envflag's usage text ("  --name type\t[TALLY_NAME]").
func helpFlags(help string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  --([a-z0-9-]+)`).FindAllStringSubmatch(help, -1) {
		names = append(names, m[1])
	}
	return names
}

// flagTables returns, per "### tally NAME" section, the flags named in the first cell of its
// table rows.
func flagTables(doc string) map[string][]string {
	tables := map[string][]string{}
	cmd := ""
	for _, line := range strings.Split(doc, "\n") {
		if name, ok := strings.CutPrefix(line, "### tally "); ok {
			cmd = strings.TrimSpace(name)
			tables[cmd] = nil
			continue
		}
		if strings.HasPrefix(line, "## ") {
			cmd = ""
		}
		if cmd == "" || !strings.HasPrefix(line, "| `--") {
			continue
		}
		first := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`--([a-z0-9-]+)`").FindAllStringSubmatch(first, -1) {
			tables[cmd] = append(tables[cmd], m[1])
		}
	}
	return tables
}

func TestFlagTables(t *testing.T) {
	t.Parallel()
	doc := "## Flags\n### tally serve\n| flag | x |\n| `--addr` | a |\n| `--rate-limit`, `--rate-burst` | b |\n" +
		"text `--not-a-row`\n## Other\n| `--outside` | c |\n### tally top\n| `--limit` | d |\n"
	got := flagTables(doc)
	want := map[string][]string{"serve": {"addr", "rate-limit", "rate-burst"}, "top": {"limit"}}
	if len(got) != len(want) || !slices.Equal(got["serve"], want["serve"]) || !slices.Equal(got["top"], want["top"]) {
		t.Errorf("flagTables = %v, want %v", got, want)
	}
}

// TestHTTPDocsListEveryRoute holds the HTTP API tables of docs/tracking.md to the routes the
// server registers: every "METHOD /path" pattern handed to a mux in tally's code is in a table
// row, and every path a row names is served.
func TestHTTPDocsListEveryRoute(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "tracking.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := documentedPaths(string(doc))
	routes := registeredRoutes(t, filepath.Join("..", ".."))
	if len(routes) < 10 {
		t.Fatalf("found only %d routes in the code: %v", len(routes), routes)
	}
	for _, r := range routes {
		_, path, _ := strings.Cut(r, " ")
		if !documented[path] {
			t.Errorf("the server registers %q, which docs/tracking.md's HTTP API tables do not list", r)
		}
	}
	served := map[string]bool{}
	for _, r := range routes {
		_, path, _ := strings.Cut(r, " ")
		served[path] = true
	}
	for path := range documented {
		if !served[path] {
			t.Errorf("docs/tracking.md lists %s, which the server does not register", path)
		}
	}
}

// routePattern is a net/http pattern with a method, as every tally route is registered.
var routePattern = regexp.MustCompile(`^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/[^ ]*)$`)

// registeredRoutes finds every call in the non-test code under internal/ and cmd/ whose first
// argument is a route pattern string: mux.Handle, mux.HandleFunc and the dashboard's wrappers.
func registeredRoutes(t *testing.T, root string) []string {
	t.Helper()
	var routes []string
	for _, dir := range []string{"internal", "cmd/tally"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 2 {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				if s, err := strconv.Unquote(lit.Value); err == nil && routePattern.MatchString(s) && !slices.Contains(routes, s) {
					routes = append(routes, s)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return routes
}

// documentedPaths returns the paths named in the first cell of the table rows of the
// "## HTTP API", "## Admin API" and "## Dashboard pages" sections: `GET /api/top?site=` gives
// /api/top, `GET/POST/DELETE /api/like` gives /api/like.
func documentedPaths(doc string) map[string]bool {
	paths := map[string]bool{}
	in := false
	for _, line := range strings.Split(doc, "\n") {
		if title, ok := strings.CutPrefix(line, "## "); ok {
			in = title == "HTTP API" || title == "Admin API" || title == "Dashboard pages"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.Split(strings.ReplaceAll(line, `\|`, ""), "|")[1]
		for _, m := range regexp.MustCompile("`[A-Z/]+ (/[^`?\\s]*)").FindAllStringSubmatch(first, -1) {
			paths[m[1]] = true
		}
	}
	return paths
}

func TestDocumentedPaths(t *testing.T) {
	t.Parallel()
	doc := "## HTTP API\n| endpoint | answers |\n| `GET/POST/DELETE /api/like` | x |\n| `GET /api/top?site=&by=` | y \\| z |\n" +
		"| `POST /ops/api/flush`, `POST /ops/api/snapshot?date=` | j |\n## Elsewhere\n| `GET /not/here` | n |\n"
	got := documentedPaths(doc)
	for _, p := range []string{"/api/like", "/api/top", "/ops/api/flush", "/ops/api/snapshot"} {
		if !got[p] {
			t.Errorf("documentedPaths misses %s: %v", p, got)
		}
	}
	if got["/not/here"] || len(got) != 4 {
		t.Errorf("documentedPaths = %v", got)
	}
}
