package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/node"
	"github.com/tallyhq/tally/internal/store/sqlite"
)

// TestTopEscapesControlCharacters: a slug stored before the gate existed (or by a read model
// someone else wrote) cannot move the owner's cursor, recolour or retitle their terminal
// through tally top: control characters are printed as escapes.
func TestTopEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, datadir.ReadFile), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hostile := "/a\x1b]0;owned\x07\x1b[2J\u202eb"
	if err := db.UpsertCounts(ctx, []item.Counted{{Item: item.Item{Site: "example.com", Type: "page", Slug: hostile}, Counts: item.Counts{Unique: 1, Total: 1}}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out bytes.Buffer
	if err := run(ctx, env{stdout: &out, stderr: io.Discard, getenv: noEnv}, []string{"top", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u202e") {
		t.Errorf("tally top printed control characters raw: %q", out.String())
	}
	if !strings.Contains(out.String(), `/a\x1b]0;owned\a\x1b[2J\u202eb`) {
		t.Errorf("tally top does not show the slug escaped: %q", out.String())
	}
}

// TestTopSaysWhatMatchedNothing: an empty list says whether nothing was flushed yet or which
// filter matched nothing; the home page's row shows "/".
func TestTopSaysWhatMatchedNothing(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	// Test binaries hash at bcrypt's minimum cost to stay fast; the real binary must not.
	hash, err := os.ReadFile(filepath.Join(dir, admin.PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(bytes.TrimSpace(hash)); err != nil || cost != bcrypt.DefaultCost {
		t.Errorf("the tally binary hashed the password at cost %d (%v), want bcrypt.DefaultCost %d", cost, err, bcrypt.DefaultCost)
	}
}

// startMain opens a Main with the given flags (no --admin-password) and returns its stdout.
func startMain(t *testing.T, args ...string) (*node.Main, string, error) {
	t.Helper()
	var f serveFlags
	fs := envflag.NewFlagSet("serve", "", io.Discard)
	f.register(fs)
	if err := envflag.Parse(fs, args, noEnv); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	m := &node.Main{Config: cfg, Log: slog.New(slog.DiscardHandler), Stdout: &out}
	err = m.Open(context.Background())
	if err == nil {
		t.Cleanup(func() { m.Close() })
	}
	return m, out.String(), err
}

// TestFailedStartKeepsThePassword: a start that fails (a busy port) does not generate the
// password it would show only once; until the owner first logs in, every start says how to.
func TestFailedStartKeepsThePassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, out, err := startMain(t, "--addr", busy.Addr().String(), "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "--addr") || strings.Contains(out, "Admin password") {
		t.Fatalf("start on a busy port: %v, printed %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, admin.PasswordFile)); err == nil {
		t.Fatal("the failed start generated a password nobody saw")
	}
	m, out, err := startMain(t, "--addr", "127.0.0.1:0", "--data", dir)
	pw := regexp.MustCompile(`\n      (\S+)\n`).FindStringSubmatch(out)
	if err != nil || pw == nil {
		t.Fatalf("first good start: %v, printed %q", err, out)
	}
	m.Close()
	m, out, _ = startMain(t, "--addr", "127.0.0.1:0", "--data", dir)
	if !strings.Contains(out, "Nobody has logged in yet") || !strings.Contains(out, "tally passwd --data "+dir) {
		t.Errorf("second start before any login printed %q", out)
	}
	req, _ := http.NewRequest("GET", m.URL()+"/ops/api/summary", nil)
	req.SetBasicAuth("admin", pw[1])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin API with the printed password: %v %v", resp, err)
	}
	m.Close()
	if _, out, _ = startMain(t, "--addr", "127.0.0.1:0", "--data", dir); out != "" {
		t.Errorf("a start after the owner logged in printed %q", out)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	addr := strings.TrimPrefix(app.URL(), "http://")
	check := func(addr string) error {
		return run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, []string{"healthcheck", "--addr", addr})
	}
	if err := check(addr); err != nil {
		t.Errorf("healthcheck of a running server: %v", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if err := check("0.0.0.0:" + port); err != nil {
		t.Errorf("healthcheck with a listen-everywhere address: %v", err)
	}
	app.close(t)
	if err := check(addr); err == nil {
		t.Error("healthcheck of a stopped server succeeded")
	}
}

// TestVersionAndMisplacedFlags: tally version and tally --version say what binary this is, the
// command list lines up, and a flag before the command says where flags go.
func TestVersionAndMisplacedFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if err := run(context.Background(), env{stdout: &out, stderr: io.Discard, getenv: noEnv}, args); err != nil {
			t.Fatalf("tally %s: %v", args[0], err)
		}
		if !regexp.MustCompile(`^tally \S+.*, go1\.\d+`).MatchString(out.String()) {
			t.Errorf("tally %s printed %q, want the version and the Go version", args[0], out.String())
		}
	}
	var help bytes.Buffer
	run(context.Background(), env{stdout: &help, stderr: io.Discard, getenv: noEnv}, []string{"help"})
	col := -1
	for _, line := range strings.Split(help.String(), "\n") {
		m := regexp.MustCompile(`^  (\S+)( +)\S`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if c := len(m[1]) + len(m[2]); col == -1 {
			col = c
		} else if c != col {
			t.Errorf("the command list does not line up at %q", line)
		}
	}
	err := run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, []string{"--data", "x", "top"})
	if err == nil || !strings.Contains(err.Error(), "flags go after it") {
		t.Errorf("tally --data x top: %v, want a word on where flags go", err)
	}
}

// TestFailedStartLeavesNoDataDirectory: a start that fails after making the data directory
// (here: a GeoIP database that is not there) removes the directory it made, and the start-up
// log names both models and the absolute data directory.
func TestFailedStartLeavesNoDataDirectory(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "new-data")
	if _, _, err := startMain(t, "--addr", "127.0.0.1:0", "--data", dir, "--geoip-db", filepath.Join(dir, "none.mmdb")); err == nil {
		t.Fatal("a start with a missing GeoIP database succeeded")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the failed start left %s behind (%v)", dir, err)
	}
	app := newTestApp(t, dir)
	for _, want := range []string{"data=" + dir, `write_model="bbolt ` + filepath.Join(dir, "write.db"), `read_model="SQLite ` + filepath.Join(dir, "read.db")} {
		if !strings.Contains(app.logs.String(), want) {
			t.Errorf("the start-up log lacks %s:\n%s", want, app.logs.String())
		}
	}
}
