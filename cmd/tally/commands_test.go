package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/admin"
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

// TestPasswdOnATerminal runs tally passwd on a pseudo-terminal (util-linux script): it asks
// twice, and two different answers change nothing.
func TestPasswdOnATerminal(t *testing.T) {
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script (util-linux) is not installed; apt-get install bsdutils")
	}
	bin := buildTally(t)
	dir := t.TempDir()
	passwd := func(input string) string {
		cmd := exec.Command(scriptBin, "-qec", bin+" passwd --data "+dir, "/dev/null")
		cmd.Stdin = strings.NewReader(input)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := passwd("first-password-1\nother-password-2\n"); !strings.Contains(out, "The same again") || !strings.Contains(out, "differ") {
		t.Errorf("two different answers:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, admin.PasswordFile)); err == nil {
		t.Error("a password was set although the two answers differed")
	}
	if out := passwd("first-password-1\nfirst-password-1\n"); !strings.Contains(out, "admin password changed") {
		t.Errorf("two equal answers:\n%s", out)
	}
	if ok, _ := admin.CheckPassword(context.Background(), admin.File(dir), "first-password-1"); !ok {
		t.Error("the password typed twice was not set")
	}
}
