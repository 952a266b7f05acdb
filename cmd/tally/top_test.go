package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/sqlite"
)

// TestTopSaysWhatMatchedNothing: an empty list says whether nothing was flushed yet or which
// filter matched nothing; the home page's row shows "/".
func TestTopSaysWhatMatchedNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, datadir.ReadFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	top := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, env{stdout: &out, stderr: io.Discard, getenv: noEnv}, append([]string{"top", "--data", dir}, args...)); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got := top(); !strings.Contains(got, "no views flushed yet") {
		t.Errorf("empty read model: %q", got)
	}
	db.UpsertCounts(ctx, []item.Counted{{Item: item.Item{Site: "example.com", Type: "home", Slug: ""}, Counts: item.Counts{Unique: 1, Total: 2}}})
	db.Close()
	for args, want := range map[string]string{
		"--type nope":                    `no items of type "nope"`,
		"--site nosuch.example":          `no site "nosuch.example" in the read model; sites: example.com`,
		"--site www.example.com":         " /",
		"--site example.com --type home": "home      /",
	} {
		if got := top(strings.Fields(args)...); !strings.Contains(got, want) {
			t.Errorf("top %s:\n%s\nwant it to contain %q", args, got, want)
		}
	}
}
