package ops

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// hex64 matches CSRF tokens, which are new for every session.
var hex64 = regexp.MustCompile(`\b[0-9a-f]{64}\b`)

// TestPagesGolden renders the dashboard's pages for the seeded site and compares them, byte for
// byte, with testdata/*.golden.html: a change to the templates, the charts or the numbers shows
// up as a diff to review (go test ./internal/ops -run Golden -update rewrites them).
func TestPagesGolden(t *testing.T) {
	forEachReadModel(t, func(t *testing.T, to *testOps) {
		seed(t, to)
		c := client()
		to.login(t, c, "198.51.100.1", password)
		for name, path := range map[string]string{
			"views.golden.html":         "/ops/views?days=14",
			"views-sorted.golden.html":  "/ops/views?days=7&sort=recent&q=blog",
			"item.golden.html":          "/ops/views/item?site=example.com&type=blog&slug=b&days=14",
			"item-fragment.golden.html": "/ops/views/item?site=example.com&type=blog&slug=a&fragment=1",
		} {
			resp, body := get(t, c, to.url+path, false)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", path, resp.StatusCode)
			}
			body = strings.ReplaceAll(body, strings.TrimPrefix(to.url, "http://"), "HOST")
			body = hex64.ReplaceAllString(body, "CSRF")
			golden := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/ops -run Golden -update to create it)", err)
			}
			if body != string(want) {
				t.Errorf("%s differs from %s; review the change and rerun with -update:\n%s", path, golden, firstDiff(string(want), body))
			}
		}
	})
}

// firstDiff shows the first line where got departs from want.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return "line " + itoa(int64(i+1)) + ":\n- " + w[i] + "\n+ " + g[i]
		}
	}
	return "lengths differ: " + itoa(int64(len(w))) + " vs " + itoa(int64(len(g))) + " lines"
}
