package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// startNode starts one tally serve process of a test with many nodes.
func startNode(t *testing.T, bin, dir, name, redisURL, pgURL string) *process {
	t.Helper()
	return startTally(t, bin, dir, "--write-store", redisURL, "--read-store", pgURL, "--node", name)
}

func (p *process) send(t *testing.T, method, path, body, ip string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	req.Header.Set("User-Agent", chromeUA)
	req.Header.Set("X-Forwarded-For", ip)
	return fetch(t, req)
}

func (p *process) counts(t *testing.T, page string) counts {
	t.Helper()
	_, body := p.send(t, "GET", "/api/counts?url="+page, "", "198.51.100.250")
	var c counts
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("counts: %v: %s", err, body)
	}
	return c
}

// TestTwoNodesShareRedis runs two real tally processes on one Redis (appendfsync always) and one
// PostgreSQL: a visitor alternating nodes is one visitor, the like cap holds across nodes, the
// salt lives in Redis, kill -9 of a node under load loses no acknowledged view, and a node
// shutting down never answers 5xx.
func TestTwoNodesShareRedis(t *testing.T) {
	rd := storetest.StartPrivateRedis(t)
	pg := storetest.PostgresURL(t)
	bin := buildTally(t)
	dir1, dir2 := t.TempDir(), t.TempDir()
	n1 := startNode(t, bin, dir1, "n1", rd.URL, pg)
	n2 := startNode(t, bin, dir2, "n2", rd.URL, pg)

	for _, dir := range []string{dir1, dir2} {
		if _, err := os.Stat(filepath.Join(dir, session.SaltFile)); err == nil {
			t.Errorf("%s holds a salt file: with Redis the salt is shared there", dir)
		}
	}
	page := "https://example.com/blogs/both"
	for i, n := range []*process{n1, n2, n1, n2} {
		if code, _ := n.send(t, "POST", "/api/view", `{"url":"`+page+`"}`, "203.0.113.5"); code != 200 {
			t.Fatalf("view %d: %d", i, code)
		}
	}
	if c := n2.counts(t, page); c.Unique != 1 || c.Total != 4 {
		t.Errorf("one visitor alternating nodes: %+v, want 1 unique of 4", c)
	}
	n1.send(t, "POST", "/api/like", `{"url":"`+page+`","count":10}`, "203.0.113.5")
	_, body := n2.send(t, "POST", "/api/like", `{"url":"`+page+`","count":10}`, "203.0.113.5")
	if !strings.Contains(body, `"user":16`) || !strings.Contains(body, `"total":16`) {
		t.Errorf("the like cap across nodes: %s, want 16 of 16", body)
	}

	// The owner logs in on node 1 and goes on on node 2; a password set with tally passwd on
	// one node is every node's.
	owner := logIn(t, n1.base)
	if resp, err := owner.Get(n2.base + "/ops/api/summary?days=7"); err != nil || resp.StatusCode != 200 {
		t.Errorf("node 2 with node 1's session: %v %v, want 200", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	var out bytes.Buffer
	e := env{stdin: strings.NewReader("a-new-shared-password\n"), stdout: &out, stderr: io.Discard, getenv: noEnv}
	if err := run(context.Background(), e, []string{"passwd", "--data", dir1, "--write-store", rd.URL}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", n2.base+"/ops/api/summary?days=7", nil)
	req.SetBasicAuth("admin", "a-new-shared-password")
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("node 2 with the password set through node 1's data directory: %v %v, want 200", resp, err)
	}

	// kill -9 of one node while both take load, then a rolling restart under load: node 1
	// comes back, is stopped with SIGTERM and started again, then node 2 is stopped the same way.
	kill := "https://example.com/blogs/kill"
	var loads []*load
	both := func() (*load, *load) {
		a, b := startLoad(n1.base, kill, 8, 2000), startLoad(n2.base, kill, 8, 2000)
		loads = append(loads, a, b)
		a.waitAcked(t, 100)
		b.waitAcked(t, 100)
		return a, b
	}
	terminate := func(p *process) {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for range p.lines {
		}
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("a node exited with %v after SIGTERM", err)
		}
	}
	l1, l2 := both()
	if err := n1.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	l1.finish()
	n1.cmd.Wait()
	n1 = startNode(t, bin, dir1, "n1", rd.URL, pg)
	l2.finish()
	l1, l2 = both()
	terminate(n1)
	l1.finish()
	n1 = startNode(t, bin, dir1, "n1", rd.URL, pg)
	l2.finish()
	l1, l2 = both()
	terminate(n2)
	l2.finish()
	l1.finish()
	var acked, sent, failed int64
	for i, l := range loads {
		acked += l.acked.Load()
		sent += l.sent.Load() + l.unsure.Load()
		if i > 1 { // the loads during the SIGTERMs; the kill -9 may cut answers short
			failed += l.failed.Load()
		}
	}
	c := n1.counts(t, kill)
	t.Logf("acknowledged %d, counted %d", acked, c.Total)
	if c.Total < acked {
		t.Errorf("lost %d acknowledged views", acked-c.Total)
	}
	if c.Total > sent {
		t.Errorf("%d views counted, only %d sent", c.Total, sent)
	}
	if failed > 0 {
		t.Errorf("%d beacons got a 5xx from a node shutting down", failed)
	}
	if code, body := n1.send(t, "POST", "/ops/api/flush", "", "198.51.100.250"); code != 401 {
		t.Errorf("flush without credentials: %d %s", code, body)
	}
}

// TestRedisGoesAway: with Redis unreachable, beacons get 503 within a second or two instead of
// hanging, /healthz names the write model; when Redis is back, tally counts again by itself and
// nothing acknowledged before is lost.
func TestRedisGoesAway(t *testing.T) {
	rd := storetest.StartPrivateRedis(t)
	app := newTestApp(t, t.TempDir(), "--write-store", rd.URL)
	page := "https://example.com/blogs/r"
	if code := app.beacon(t, page, "198.51.100.1", chromeUA); code != 200 {
		t.Fatalf("beacon: %d", code)
	}
	rd.Stop()
	start := time.Now()
	if code := app.beacon(t, page, "198.51.100.2", chromeUA); code != 503 {
		t.Errorf("beacon with Redis down: %d, want 503", code)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the beacon waited %v for an unreachable Redis", took)
	}
	if code, body := app.get(t, "/healthz", false); code != 503 || !strings.Contains(body, `"write_model":"down"`) {
		t.Errorf("/healthz with Redis down: %d %s", code, body)
	}
	rd.Start()
	if code := app.beacon(t, page, "198.51.100.3", chromeUA); code != 200 {
		t.Errorf("beacon after Redis came back: %d", code)
	}
	var c counts
	app.getJSON(t, "/api/counts?url="+page, &c)
	if c.Total != 2 {
		t.Errorf("total %d, want the 2 acknowledged views", c.Total)
	}
}

// TestJobsRunOncePerTickAcrossNodes: two nodes whose crons flush often; each tick's flush runs
// on one node only, and job_runs names it.
func TestJobsRunOncePerTickAcrossNodes(t *testing.T) {
	rd := storetest.StartPrivateRedis(t)
	pg := storetest.PostgresURL(t)
	bin := buildTally(t)
	for _, name := range []string{"n1", "n2"} {
		startTally(t, bin, t.TempDir(), "--write-store", rd.URL, "--read-store", pg, "--node", name,
			"--flush-schedule", "@every 2s")
	}
	// Both crons fire every 2 s, at different moments; the lock is per job and minute (the
	// tick of a standard schedule), so each minute's flush runs on one node.
	time.Sleep(5 * time.Second)
	conn, err := pgx.Connect(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), `SELECT date_trunc('minute', finished_at), string_agg(node, ',')
		FROM job_runs WHERE job = 'flush' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	ticks := 0
	for rows.Next() {
		var minute time.Time
		var nodes string
		if err := rows.Scan(&minute, &nodes); err != nil {
			t.Fatal(err)
		}
		ticks++
		if nodes != "n1" && nodes != "n2" {
			t.Errorf("the flush of %s ran on %q, want one node", minute.Format(time.TimeOnly), nodes)
		}
	}
	if ticks == 0 {
		t.Error("no scheduled flush ran")
	}
}

// TestSaltRotationSurvivesRedisOutage: two nodes with --salt-rotation daily share their salts
// in Redis, which goes away across the rotation after midnight. Each day's salt was made a day
// ahead, so both nodes go on deriving the same ids; what the rotation could not do (destroy
// yesterday's salt, make the next day's) is in the log, the metric and /healthz ("degraded",
// still 200); once Redis is back, the next rotation shares the next day's salt, so the nodes
// agree on it too, and /healthz is "ok" again.
func TestSaltRotationSurvivesRedisOutage(t *testing.T) {
	rd := storetest.StartPrivateRedis(t)
	flags := []string{"--write-store", rd.URL, "--salt-rotation", "daily"}
	a, b := newTestApp(t, t.TempDir(), flags...), newTestApp(t, t.TempDir(), flags...)
	sid := func(app *testApp) string {
		t.Helper()
		req, _ := http.NewRequest("GET", app.URL()+"/api/sid", nil)
		req.Header.Set("User-Agent", chromeUA)
		req.Header.Set("X-Forwarded-For", "198.51.100.77")
		code, body := fetch(t, req)
		if code != 200 {
			t.Fatalf("/api/sid: %d %s", code, body)
		}
		return body
	}
	health := func(app *testApp) (int, map[string]string) {
		t.Helper()
		code, body := app.get(t, "/healthz", false)
		var h map[string]string
		json.Unmarshal([]byte(body), &h)
		return code, h
	}
	setClocks := func(at time.Time) { a.clk.Set(at); b.clk.Set(at) }
	if sid(a) != sid(b) {
		t.Fatal("two nodes derive different ids from the shared daily salt")
	}

	rd.Stop()
	setClocks(time.Date(2026, 11, 25, 0, 31, 0, 0, time.UTC))
	for _, app := range []*testApp{a, b} {
		if err := app.RotateSalts(context.Background()); err == nil {
			t.Error("a rotation without Redis reported no failure")
		}
	}
	if sid(a) != sid(b) {
		t.Error("after midnight with Redis away, the nodes derive different ids")
	}
	if !strings.Contains(a.logs.String(), "daily salt rotation failed") {
		t.Errorf("the failure is not in the log:\n%s", a.logs.String())
	}
	if code, h := health(a); code != 503 || !strings.Contains(h["reason"], "salt") {
		t.Errorf("/healthz with Redis away: %d %v, want 503 naming the salt too", code, h)
	}

	rd.Start()
	// Redis answers again, but until the next rotation the day's salts are not as they must be.
	if code, h := health(a); code != 200 || h["status"] != "degraded" || !strings.Contains(h["reason"], "salt of 2026-11-26") {
		t.Errorf("/healthz before the next rotation: %d %v, want 200 degraded with the reason", code, h)
	}
	if _, body := a.get(t, "/metrics", true); !strings.Contains(body, "tally_salt_rotation_errors_total 1") {
		t.Errorf("the failure is not counted in /metrics")
	}
	for _, app := range []*testApp{a, b} {
		if err := app.RotateSalts(context.Background()); err != nil {
			t.Errorf("rotation with Redis back: %v", err)
		}
		if code, h := health(app); code != 200 || h["status"] != "ok" {
			t.Errorf("/healthz once the rotation works again: %d %v", code, h)
		}
	}
	setClocks(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)) // the day made during the outage
	if sid(a) != sid(b) {
		t.Error("the day whose salt each node made while Redis was away: the nodes derive different ids")
	}
}

// TestCommandsBesideSharedStores: the commands given only --data of a server that runs on Redis
// and PostgreSQL say which flag they need instead of using the data directory's own files (a
// `tally passwd` there once reported success while logins still needed the Redis password), and
// the start-up hint names --write-store.
func TestCommandsBesideSharedStores(t *testing.T) {
	rd := storetest.StartPrivateRedis(t)
	pg := storetest.PostgresURL(t)
	dir := t.TempDir()
	csv := filepath.Join(t.TempDir(), "counts.csv")
	os.WriteFile(csv, []byte("url,views\nhttps://blog.example.com/,1\n"), 0o644)
	_, out, err := startMain(t, "--addr", "127.0.0.1:0", "--data", dir, "--write-store", rd.URL, "--read-store", pg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "tally passwd --write-store redis://") {
		t.Errorf("the start-up hint does not name --write-store:\n%s", out)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"passwd", "--data", dir}, []string{"--write-store redis://127.0.0.1:"}},
		{[]string{"top", "--data", dir}, []string{"--read-store postgres://"}},
		{[]string{"flush", "--data", dir}, []string{"--write-store redis://", "--read-store postgres://"}},
		{[]string{"import", "csv", csv, "--data", dir}, []string{"--write-store redis://"}},
	} {
		var stdout, stderr bytes.Buffer
		err := run(ctx, env{stdin: strings.NewReader("a-new-password-1\n"), stdout: &stdout, stderr: &stderr, getenv: noEnv}, tc.args)
		if err == nil {
			t.Errorf("tally %s succeeded beside shared stores: %s", strings.Join(tc.args, " "), stdout.String())
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("tally %s: %v, want it to name %s", tc.args[0], err, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "admin.hash")); err == nil {
		t.Error("tally passwd wrote a password file nobody uses")
	}
}
