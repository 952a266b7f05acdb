package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/dimension/geotest"
	"github.com/tallyhq/tally/internal/envflag"
	"github.com/tallyhq/tally/internal/node"
)

const (
	testPassword = "correct-horse-battery"
	chromeUA     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// syncBuffer is a log destination safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testApp struct {
	*node.Main
	dir    string
	logs   *syncBuffer
	stdout *syncBuffer
	clk    *clock.Fake
	closed bool
}

// newTestApp starts the whole server on 127.0.0.1:0 with data in dir, trusting 127.0.0.1 as a
// proxy so tests can play many visitors through X-Forwarded-For.
func newTestApp(t testing.TB, dir string, extra ...string) *testApp {
	t.Helper()
	args := append([]string{"--addr", "127.0.0.1:0", "--data", dir, "--trusted-proxies", "127.0.0.1/32",
		"--admin-password", testPassword}, extra...)
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
	logs, stdout := &syncBuffer{}, &syncBuffer{}
	clk := clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	m := &node.Main{Config: cfg, Log: slog.New(slog.NewTextHandler(logs, nil)), Stdout: stdout, Now: clk.Now}
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := &testApp{Main: m, dir: dir, logs: logs, stdout: stdout, clk: clk}
	t.Cleanup(func() { app.close(t) })
	return app
}

func (a *testApp) close(t testing.TB) {
	t.Helper()
	if a.closed {
		return
	}
	a.closed = true
	if err := a.Main.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func noEnv(string) (string, bool) { return "", false }

func (a *testApp) beacon(t *testing.T, pageURL, ip, ua string) int {
	t.Helper()
	return postBeacon(t, a.URL(), pageURL, ip, ua)
}

// postBeacon sends a view the way navigator.sendBeacon does, through a trusted proxy that
// forwards ip.
func postBeacon(t *testing.T, base, pageURL, ip, ua string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/view", strings.NewReader(`{"url":"`+pageURL+`"}`))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("User-Agent", ua)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (a *testApp) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(a.URL() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func (a *testApp) admin(t *testing.T, path, password string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", a.URL()+path, nil)
	if password != "" {
		req.SetBasicAuth("admin", password)
	}
	return fetch(t, req)
}

type counts struct {
	Type   string `json:"type"`
	Slug   string `json:"slug"`
	Unique int64  `json:"unique"`
	Total  int64  `json:"total"`
	Likes  int64  `json:"likes"`
}

// readModel returns view_counts or view_counts_daily rows as "site type slug unique total".
func readModel(t *testing.T, dir, query string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, datadir.ReadFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			parts = append(parts, strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " ")))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func toString(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case nil:
		return "NULL"
	default:
		b, _ := json.Marshal(v)
		return strings.Trim(string(b), `"`)
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	hello := "https://blog.example.com/blogs/hello"

	for _, ip := range []string{"203.0.113.1", "203.0.113.1", "203.0.113.2"} {
		if code := app.beacon(t, hello, ip, chromeUA); code != 200 {
			t.Fatalf("beacon: %d", code)
		}
	}
	app.beacon(t, "https://blog.example.com/", "203.0.113.1", chromeUA)

	var c counts
	app.getJSON(t, "/api/counts?url="+hello, &c)
	if c != (counts{Type: "blog", Slug: "hello", Unique: 2, Total: 3}) {
		t.Errorf("live counts = %+v", c)
	}

	if got := readModel(t, app.dir, `SELECT * FROM view_counts`); len(got) != 0 {
		t.Errorf("read model has rows before any flush: %v", got)
	}
	if code, _ := app.admin(t, "/ops/api/flush", ""); code != 401 {
		t.Errorf("flush without a password: %d, want 401", code)
	}
	if code, _ := app.admin(t, "/ops/api/flush", "wrong-password"); code != 401 {
		t.Errorf("flush with a wrong password: %d, want 401", code)
	}
	code, body := app.admin(t, "/ops/api/flush", testPassword)
	if code != 200 || !strings.Contains(body, `"items":2`) {
		t.Fatalf("flush: %d %s", code, body)
	}
	want := []string{"blog.example.com blog hello 2 3", "blog.example.com home  1 1"}
	got := readModel(t, app.dir, `SELECT site, type, slug, unique_views, total_views FROM view_counts ORDER BY slug DESC`)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("view_counts = %q, want %q", got, want)
	}

	var top struct{ Items []struct{ Slug string } }
	app.getJSON(t, "/api/top?site=blog.example.com&type=blog&limit=10", &top)
	if len(top.Items) != 1 || top.Items[0].Slug != "hello" {
		t.Errorf("/api/top = %+v", top)
	}

	code, body = app.admin(t, "/ops/api/snapshot?date=2026-11-24", testPassword)
	if code != 200 || !strings.Contains(body, `"items":2`) {
		t.Fatalf("snapshot: %d %s", code, body)
	}
	daily := readModel(t, app.dir, `SELECT slug, date, unique_views_snapshot, total_views_snapshot FROM view_counts_daily WHERE type = 'blog'`)
	if len(daily) != 1 || daily[0] != "hello 2026-11-24 2 3" {
		t.Errorf("view_counts_daily = %q", daily)
	}
	if code, _ := app.admin(t, "/ops/api/snapshot?date=2026-11-25", testPassword); code != 400 {
		t.Errorf("snapshot of tomorrow: %d, want 400", code)
	}
	if code, _ := app.admin(t, "/ops/api/snapshot?date=yesterday", testPassword); code != 400 {
		t.Errorf("snapshot with a bad date: %d, want 400", code)
	}

	resp, err := http.Get(app.URL() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}
}

func TestShutdownFlushesAndRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hello := "https://example.com/blogs/hello"
	app := newTestApp(t, dir)
	app.beacon(t, hello, "198.51.100.1", chromeUA)
	app.close(t)

	// The final flush on shutdown put the view in the read model.
	if got := readModel(t, dir, `SELECT slug, total_views FROM view_counts`); len(got) != 1 || got[0] != "hello 1" {
		t.Errorf("after shutdown, view_counts = %q", got)
	}

	app = newTestApp(t, dir)
	app.clk.Add(10 * time.Minute)
	app.beacon(t, hello, "198.51.100.1", chromeUA) // same visitor inside the window: not unique
	var c counts
	app.getJSON(t, "/api/counts?url="+hello, &c)
	if c.Unique != 1 || c.Total != 2 {
		t.Errorf("after restart: %+v, want unique 1 total 2", c)
	}
}

func TestCronFlushes(t *testing.T) {
	app := newTestApp(t, t.TempDir(), "--flush-schedule", "@every 1s")
	app.beacon(t, "https://example.com/blogs/cron", "198.51.100.1", chromeUA)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := readModel(t, app.dir, `SELECT slug FROM view_counts`); len(got) == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Error("the scheduled flush did not write the view within 10 s")
}

func TestGeneratedPasswordIsPrintedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func() string {
		var f serveFlags
		fs := envflag.NewFlagSet("serve", "", io.Discard)
		f.register(fs)
		envflag.Parse(fs, []string{"--addr", "127.0.0.1:0", "--data", dir}, noEnv)
		cfg, err := f.config()
		if err != nil {
			t.Fatal(err)
		}
		out := &syncBuffer{}
		m := &node.Main{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: out}
		if err := m.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := run()
	if !strings.Contains(first, "Admin password") {
		t.Fatalf("first start printed %q, want the generated password", first)
	}
	pw := strings.TrimSpace(strings.Split(first, "\n")[3])
	if second := run(); strings.Contains(second, pw) || !strings.Contains(second, "Nobody has logged in yet") {
		t.Errorf("second start printed %q; the password is shown only once, then how to get in", second)
	}
}

func TestFlushCommandRefusesWhileServing(t *testing.T) {
	app := newTestApp(t, t.TempDir())
	for _, cmd := range []string{"flush", "snapshot"} {
		start := time.Now()
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: noEnv}, []string{cmd, "--data", app.dir})
		if err == nil || !strings.Contains(err.Error(), "in use by a running tally server") {
			t.Errorf("tally %s while serving: %v", cmd, err)
		}
		if err != nil && !strings.Contains(err.Error(), app.URL()+"/ops/api/flush") {
			t.Errorf("tally %s while serving: %v, want the server's own address in the advice", cmd, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("tally %s took %v to give up", cmd, d)
		}
	}
	err := run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, []string{"flush", "--data", filepath.Join(app.dir, "nonexistent")})
	if err == nil || !strings.Contains(err.Error(), "no data directory at") || !strings.Contains(err.Error(), "give --data") {
		t.Errorf("tally flush --data of no directory: %v, want what to give", err)
	}
}

func TestCommandsOnStoppedServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir, "--flush-schedule", "0 0 1 1 *")
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		app.beacon(t, "https://example.com/blogs/a", ip, chromeUA)
	}
	app.beacon(t, "https://example.com/projects/b", "198.51.100.1", chromeUA)
	app.close(t)

	e := func(stdin string) (env, *bytes.Buffer) {
		out := &bytes.Buffer{}
		return env{stdin: strings.NewReader(stdin), stdout: out, stderr: io.Discard, getenv: noEnv}, out
	}
	ev, out := e("")
	if err := run(context.Background(), ev, []string{"flush", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "flushed 0 changed items") {
		t.Errorf("flush after the shutdown flush: %q", out.String())
	}

	ev, out = e("")
	if err := run(context.Background(), ev, []string{"top", "--data", dir, "--limit", "1"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "example.com") || !strings.HasSuffix(strings.TrimSpace(lines[1]), "a") {
		t.Errorf("tally top --limit 1:\n%s", out.String())
	}
	ev, out = e("")
	if err := run(context.Background(), ev, []string{"top", "--data", dir, "--type", "project"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), " b") || strings.Contains(out.String(), " a\n") {
		t.Errorf("tally top --type project:\n%s", out.String())
	}

	ev, out = e("")
	if err := run(context.Background(), ev, []string{"snapshot", "--data", dir, "--date", time.Now().UTC().Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ": 2 items") {
		t.Errorf("tally snapshot: %q", out.String())
	}
	if err := run(context.Background(), ev, []string{"snapshot", "--data", dir, "--date", "24.11.2026"}); err == nil {
		t.Error("tally snapshot accepted a malformed date")
	}
}

func TestPasswd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir)
	out := &bytes.Buffer{}
	ev := env{stdin: strings.NewReader("a-new-password-123\n"), stdout: out, stderr: io.Discard, getenv: noEnv}
	if err := run(context.Background(), ev, []string{"passwd", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	// The running server takes the new password at once.
	if code, _ := app.admin(t, "/ops/api/flush", testPassword); code != 401 {
		t.Errorf("old password after passwd: %d, want 401", code)
	}
	if code, _ := app.admin(t, "/ops/api/flush", "a-new-password-123"); code != 200 {
		t.Errorf("new password after passwd: %d, want 200", code)
	}

	out.Reset()
	ev.stdin = strings.NewReader("\n")
	if err := run(context.Background(), ev, []string{"passwd", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	generated := strings.TrimSpace(strings.TrimPrefix(out.String(), "new admin password:"))
	if code, _ := app.admin(t, "/ops/api/flush", generated); code != 200 {
		t.Errorf("generated password %q: %d, want 200", generated, code)
	}

	ev.stdin = strings.NewReader("short\n")
	if err := run(context.Background(), ev, []string{"passwd", "--data", dir}); err == nil {
		t.Error("passwd accepted a 5-character password")
	}
}

func TestEnvironmentFlags(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"TALLY_ADDR": "127.0.0.1:9999", "TALLY_TRUSTED_PROXIES": "10.0.0.0/8", "TALLY_DATA": "/env/data"}
	getenv := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	var f serveFlags
	fs := envflag.NewFlagSet("serve", "", io.Discard)
	f.register(fs)
	if err := envflag.Parse(fs, []string{"--data", "/flag/data"}, getenv); err != nil {
		t.Fatal(err)
	}
	if f.c.Addr != "127.0.0.1:9999" || f.trusted != "10.0.0.0/8" {
		t.Errorf("environment not applied: addr=%q trusted=%q", f.c.Addr, f.trusted)
	}
	if f.c.DataDir != "/flag/data" {
		t.Errorf("data = %q; a flag on the command line must win over TALLY_DATA", f.c.DataDir)
	}

	vars = map[string]string{"TALLY_SHUTDOWN_TIMEOUT": "soon"}
	f = serveFlags{}
	fs = envflag.NewFlagSet("serve", "", io.Discard)
	f.register(fs)
	if err := envflag.Parse(fs, nil, getenv); err == nil || !strings.Contains(err.Error(), "TALLY_SHUTDOWN_TIMEOUT") {
		t.Errorf("a bad environment value gave %v, want an error naming the variable", err)
	}
}

func TestHelpListsEveryFlagWithItsVariable(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		var out bytes.Buffer
		err := run(context.Background(), env{stdout: &out, stderr: &out, getenv: noEnv}, []string{c.name, "--help"})
		if err == nil {
			t.Errorf("%s --help returned nil, want flag.ErrHelp", c.name)
		}
		flag, env := "--data", "[TALLY_DATA]"
		switch c.name {
		case "healthcheck": // it asks a server, and has no data directory
			flag, env = "--addr", "[TALLY_ADDR]"
		case "version": // no flags at all
			flag, env = "Usage: tally version", ""
		}
		if !strings.Contains(out.String(), flag) || !strings.Contains(out.String(), env) {
			t.Errorf("tally %s --help does not document %s and %s:\n%s", c.name, flag, env, out.String())
		}
	}
	var out bytes.Buffer
	run(context.Background(), env{stdout: &out, stderr: &out, getenv: noEnv}, []string{"serve", "--help"})
	for _, name := range []string{"addr", "trusted-proxies", "sites", "salt", "admin-password", "ignore-paths", "routes", "flush-schedule", "snapshot-schedule"} {
		if !strings.Contains(out.String(), "--"+name) || !strings.Contains(out.String(), envflag.Name(name)) {
			t.Errorf("serve --help misses --%s / %s", name, envflag.Name(name))
		}
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--trusted-proxies", "not-a-cidr"},
		{"--sites", "https://example.com/path"},
		{"--routes", "/blogs=blog"},
		{"--ignore-paths", "drafts"},
		{"--flush-schedule", "every now and then"},
		{"--count-user-agents", "Reader(/"},
		{"--ignore-user-agents", "[a-"},
	} {
		err := run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, append([]string{"serve"}, args...))
		if err == nil {
			t.Errorf("serve %v started", args)
		}
	}
}

// TestNoPIIAtRest uses every endpoint from a known IP and User-Agent — views, events, the sid,
// the pixel, likes, counts, login attempts right and wrong, Basic auth, malformed and refused
// requests, the dashboard — runs every job, stops the server, and then looks for that IP and
// User-Agent in every byte of the data directory, of everything tally printed, and of /metrics.
func TestNoPIIAtRest(t *testing.T) {
	t.Parallel()
	const (
		ip    = "203.0.113.77"
		probe = "PIIProbe/7.3.1"
		ua    = chromeUA + " " + probe
	)
	dir := t.TempDir()
	// With a GeoIP database that places the probe's address: its country may be kept, the
	// address never.
	app := newTestApp(t, dir, "--salt-rotation", "daily", "--geoip-db", geotest.CountryDB(t, map[string]string{"203.0.113.0/24": "NL"}))
	do := func(method, path, contentType, body string, header map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, app.URL()+path, strings.NewReader(body))
		req.Header.Set("User-Agent", ua)
		req.Header.Set("X-Forwarded-For", ip)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return fetch(t, req)
	}
	page := "https://example.com/blogs/a"
	for _, u := range []string{page, "https://example.com/", "https://example.com/about"} {
		if code, _ := do("POST", "/api/view", "text/plain", `{"url":"`+u+`","referrer":"https://ref.example.org/`+probe+`?q=`+probe+`#`+probe+`"}`, nil); code != 200 {
			t.Fatalf("view %s: %d", u, code)
		}
	}
	_, sidBody := do("GET", "/api/sid", "", "", nil)
	var sid struct{ SID string }
	json.Unmarshal([]byte(sidBody), &sid)
	do("POST", "/api/event", "application/json", `{"url":"`+page+`","name":"resume_download","target":"cv.pdf","sid":"`+sid.SID+`"}`, nil)
	do("POST", "/api/event", "application/json", `{"url":"`+page+`","name":"resume_download","target":"cv.pdf","sid":"`+strings.Repeat("ab", 16)+`"}`, nil)
	do("GET", "/api/view.gif?url=https://example.com/blogs/pixel", "", "", nil)
	do("POST", "/api/like", "application/json", `{"url":"`+page+`","count":3}`, nil)
	do("DELETE", "/api/like", "application/json", `{"url":"`+page+`"}`, nil)
	do("GET", "/api/like?url="+page, "", "", nil)
	do("GET", "/api/counts?url="+page, "", "", nil)
	do("GET", "/api/top", "", "", nil)
	do("POST", "/api/view", "text/plain", "not json "+probe, nil)
	do("POST", "/api/view", "text/plain", `{"url":"`+page+`"}`, map[string]string{"Origin": "https://evil.example.net"})
	do("POST", "/api/view", "text/plain", `{"url":"`+page+`"}`, map[string]string{"User-Agent": "Googlebot/2.1 " + probe})
	// Bots are kept by product token, never by User-Agent; a webdriver view only as a number.
	do("POST", "/api/view", "text/plain", `{"url":"`+page+`"}`, map[string]string{"User-Agent": "Mozilla/5.0 (compatible; ProbeBot/1.0; +https://" + ip + "/bot) " + probe})
	do("POST", "/api/view", "text/plain", `{"url":"`+page+`","webdriver":true}`, nil)
	do("POST", "/ops/login", "application/x-www-form-urlencoded", "password=wrong&csrf=x", nil)
	for range 7 { // into the login throttle
		do("GET", "/ops/api/summary", "", "", map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:wrong-"+probe))})
	}
	app.admin(t, "/ops/api/flush", testPassword)
	app.admin(t, "/ops/api/snapshot?date=2026-11-24", testPassword)
	do("GET", "/ops/views", "", "", nil)
	var c counts
	app.getJSON(t, "/api/counts?url="+page, &c)
	if c.Total != 1 || c.Likes != 2 {
		t.Fatalf("the probe's view and likes were not counted (%+v): the scan would prove nothing", c)
	}
	for dim, want := range map[string]string{"referrer": "ref.example.org 3/1", "country": "NL 4/1"} {
		var b breakdown
		apiGet(t, app, "/ops/api/breakdown?site=example.com&dim="+dim, &b)
		if !strings.Contains(b.String(), want) {
			t.Fatalf("%s: %s, want %s: the scan would not cover sources and countries", dim, b, want)
		}
	}
	// From another client: the probe is in the login throttle by now.
	_, metricsText := do("GET", "/metrics", "", "", map[string]string{"Authorization": basicAuth(testPassword), "X-Forwarded-For": "198.51.100.250"})
	app.close(t)

	needles := []string{ip, probe, "203.0.113", "PIIProbe"}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s contains %q", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"log": app.logs.String(), "stdout": app.stdout.String(), "metrics": metricsText}
	if outputs["log"] == "" || !strings.Contains(metricsText, "tally_beacons_received_total") {
		t.Fatal("captured no log or no metrics: the scan would prove nothing")
	}
	for name, out := range outputs {
		for _, n := range needles {
			if strings.Contains(out, n) {
				t.Errorf("the %s contains %q", name, n)
			}
		}
	}
}

func TestDailySaltRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hello := "https://example.com/blogs/hello"
	app := newTestApp(t, dir, "--salt-rotation", "daily")
	app.beacon(t, hello, "198.51.100.1", chromeUA)
	app.close(t)

	// Restarted the same day: the visitor is still known.
	app = newTestApp(t, dir, "--salt-rotation", "daily")
	app.clk.Add(5 * time.Minute)
	app.beacon(t, hello, "198.51.100.1", chromeUA)
	var c counts
	app.getJSON(t, "/api/counts?url="+hello, &c)
	if c.Unique != 1 || c.Total != 2 {
		t.Errorf("after a restart the same day: %+v, want unique 1 of 2", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "salt")); !os.IsNotExist(err) {
		t.Errorf("daily rotation wrote a permanent salt file: %v", err)
	}

	// The next day, past 00:30: after the minute's rotation, yesterday's salt is gone from
	// the disk; today's and tomorrow's (made a day ahead) are there.
	app.clk.Set(time.Date(2026, 11, 25, 0, 31, 0, 0, time.UTC))
	app.beacon(t, hello, "198.51.100.1", chromeUA)
	if err := app.RotateSalts(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	salts, _ := os.ReadDir(filepath.Join(dir, "salts"))
	for _, e := range salts {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"2026-11-25", "2026-11-26"}) {
		t.Errorf("salts on disk the next day: %v, want 2026-11-25 and 2026-11-26", names)
	}
	app.getJSON(t, "/api/counts?url="+hello, &c)
	if c.Unique != 2 {
		t.Errorf("the next day the visitor is new: unique %d, want 2", c.Unique)
	}
}

// fetch sends req and returns the status and body of its response.
func fetch(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
