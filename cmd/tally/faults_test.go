package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/datadir"
)

// metric reads one sample from /metrics; name includes its labels, as Prometheus prints them.
func metric(t *testing.T, app *testApp, name string) float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", app.URL()+"/metrics", nil)
	req.SetBasicAuth("admin", testPassword)
	_, body := fetch(t, req)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsMove(t *testing.T) {
	// No cron flush: one at a quarter hour of the real clock would take the item before the
	// flush this test runs and counts.
	app := newTestApp(t, t.TempDir(), "--flush-schedule", "0 0 1 1 *")
	for i := range 3 {
		app.beacon(t, "https://example.com/blogs/m", fmt.Sprintf("198.51.100.%d", i), chromeUA)
	}
	app.beacon(t, "https://example.com/blogs/m", "198.51.100.9", "Googlebot/2.1")
	app.beacon(t, "https://example.com/assets/app.css", "198.51.100.9", chromeUA)
	resp, _ := http.Post(app.URL()+"/api/view", "text/plain", strings.NewReader("nope"))
	resp.Body.Close()

	want := map[string]float64{
		`tally_beacons_received_total{endpoint="view"}`:                        6,
		`tally_beacons_counted_total{endpoint="view"}`:                         3,
		`tally_beacons_excluded_total{endpoint="view",reason="bot"}`:           1,
		`tally_beacons_excluded_total{endpoint="view",reason="excluded_path"}`: 1,
		`tally_beacons_rejected_total{code="400",endpoint="view"}`:             1,
		`tally_record_duration_seconds_count`:                                  3,
		`tally_dirty_items`:                                                    1,
	}
	for name, v := range want {
		if got := metric(t, app, name); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if n := metric(t, app, "tally_write_batch_size_count"); n < 1 || n > 3 {
		t.Errorf("tally_write_batch_size_count = %v, want 1 to 3 commits", n)
	}
	app.admin(t, "/ops/api/flush", testPassword)
	if got := metric(t, app, `tally_job_last_items{job="flush"}`); got != 1 {
		t.Errorf("last flush items = %v, want 1", got)
	}
	if got := metric(t, app, `tally_job_last_success_timestamp_seconds{job="flush"}`); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last flush success at %v", got)
	}
	if got := metric(t, app, "tally_dirty_items"); got != 0 {
		t.Errorf("dirty items after the flush = %v", got)
	}
}

// TestReadModelLockedDuringFlush: another process holds SQLite's write lock while a flush runs.
// The flush fails with a log line and a metric, the items stay dirty, and the flush after the
// lock is gone writes everything once.
func TestReadModelLockedDuringFlush(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, dir)
	for i := range 4 {
		app.beacon(t, fmt.Sprintf("https://example.com/blogs/p%d", i%2), fmt.Sprintf("198.51.100.%d", i), chromeUA)
	}
	unlock := lockReadModel(t, dir)
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != http.StatusServiceUnavailable {
		t.Errorf("flush with the read model locked: %d %s, want 503", code, body)
	}
	if !strings.Contains(app.logs.String(), "flush") || !strings.Contains(app.logs.String(), "level=ERROR") {
		t.Errorf("no error logged for the failed flush:\n%s", app.logs.String())
	}
	if got := metric(t, app, `tally_job_failures_total{job="flush"}`); got != 1 {
		t.Errorf("flush failures = %v, want 1", got)
	}
	if got := metric(t, app, "tally_dirty_items"); got != 2 {
		t.Errorf("dirty items after the failed flush = %v, want 2", got)
	}
	unlock()

	if code, _ := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush after recovery: %d", code)
	}
	got := readModel(t, dir, `SELECT slug, total_views FROM view_counts ORDER BY slug`)
	if strings.Join(got, "|") != "p0 2|p1 2" {
		t.Errorf("after recovery: %q, want p0 2|p1 2", got)
	}
}

// TestConcurrentJobsAgree fires two flushes and two snapshots at once, as the cron and the
// button might: the rows are those of one run.
func TestConcurrentJobsAgree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir)
	for i := range 20 {
		app.beacon(t, fmt.Sprintf("https://example.com/blogs/c%d", i%5), fmt.Sprintf("198.51.100.%d", i), chromeUA)
	}
	var wg sync.WaitGroup
	for _, path := range []string{"/ops/api/flush", "/ops/api/flush", "/ops/api/snapshot?date=2026-11-24", "/ops/api/snapshot?date=2026-11-24"} {
		wg.Go(func() {
			if code, body := app.admin(t, path, testPassword); code != 200 {
				t.Errorf("%s: %d %s", path, code, body)
			}
		})
	}
	wg.Wait()
	counts := readModel(t, dir, `SELECT COUNT(*), SUM(total_views) FROM view_counts`)
	daily := readModel(t, dir, `SELECT COUNT(*), SUM(total_views_snapshot) FROM view_counts_daily WHERE date = '2026-11-24'`)
	if counts[0] != "5 20" || daily[0] != "5 20" {
		t.Errorf("view_counts %q, daily %q; want 5 items with 20 views each time", counts, daily)
	}
}

// TestDiskFull puts the data directory on a tiny tmpfs and fills it: beacons fail fast with
// 503, the server stays up, and it recovers when space returns.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m"); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (%v): this test needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	app := newTestApp(t, dir)
	app.beacon(t, "https://example.com/blogs/full", "198.51.100.1", chromeUA)

	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{1}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()

	failed := 0
	for i := range 30 {
		start := time.Now()
		code := postBeacon(t, app.URL(), fmt.Sprintf("https://example.com/blogs/full-%d", i), fmt.Sprintf("198.51.100.%d", i+10), chromeUA)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("a beacon on a full disk took %v", d)
		}
		switch code {
		case http.StatusServiceUnavailable:
			failed++
		case http.StatusOK: // bbolt may still have free pages in the file
		default:
			t.Fatalf("beacon on a full disk: %d", code)
		}
	}
	if failed == 0 {
		t.Fatal("no beacon failed although the disk is full")
	}
	if resp, err := http.Get(app.URL() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the server is not up on a full disk: %v", err)
	}

	os.Remove(filler)
	if code := postBeacon(t, app.URL(), "https://example.com/blogs/after", "198.51.100.99", chromeUA); code != 200 {
		t.Fatalf("beacon after space returned: %d", code)
	}
	var c counts
	app.getJSON(t, "/api/counts?url=https://example.com/blogs/after", &c)
	if c.Total != 1 {
		t.Errorf("after recovery: %+v", c)
	}
	app.getJSON(t, "/api/counts?url=https://example.com/blogs/full", &c)
	if c.Total != 1 {
		t.Errorf("the view from before the disk filled: %+v", c)
	}
}

// TestShutdownNotHeldByStuckFlush: a scheduled flush is stuck on a read model that another
// process has locked. SIGTERM (Close) must still return within --shutdown-timeout, not when the
// lock or SQLite's 5-second busy timeout gives up; the dirty marks stay for the next start.
func TestShutdownNotHeldByStuckFlush(t *testing.T) {
	dir := t.TempDir()
	app := newTestApp(t, dir, "--flush-schedule", "@every 1s", "--shutdown-timeout", "1s")
	app.beacon(t, "https://example.com/blogs/stuck", "198.51.100.1", chromeUA)
	defer lockReadModel(t, dir)()
	time.Sleep(1500 * time.Millisecond) // the cron's flush has started and waits for the lock

	start := time.Now()
	err := app.Main.Close()
	took := time.Since(start)
	app.closed = true
	if took > 2500*time.Millisecond {
		t.Errorf("Close took %v with a flush stuck on a locked read model; --shutdown-timeout is 1s", took)
	}
	if err == nil || !strings.Contains(err.Error(), "final flush") {
		t.Errorf("Close: %v, want the final flush's failure reported", err)
	}
}

// lockReadModel takes SQLite's write lock on dir's read model from another connection, as
// another process would, and returns the function that releases it.
func lockReadModel(t *testing.T, dir string) (unlock func()) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, datadir.ReadFile))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	}
}

func basicAuth(password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+password))
}

// TestMetricsNeedAdmin: /metrics counts exclusions by reason, which would tell a script which
// trick worked; on the main port it needs the admin's credentials, and --metrics-addr moves it
// to a listener of its own that serves nothing else.
func TestMetricsNeedAdmin(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, t.TempDir())
	get := func(base, auth string) int {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(app.URL(), ""); code != 401 {
		t.Errorf("/metrics without credentials: %d, want 401", code)
	}
	if code := get(app.URL(), basicAuth("wrong-password")); code != 401 {
		t.Errorf("/metrics with a wrong password: %d, want 401", code)
	}
	if code := get(app.URL(), basicAuth(testPassword)); code != 200 {
		t.Errorf("/metrics with the admin's credentials: %d, want 200", code)
	}

	own := newTestApp(t, t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	if code := get(own.URL(), basicAuth(testPassword)); code != 404 {
		t.Errorf("/metrics on the main port with --metrics-addr: %d, want 404", code)
	}
	if code := get(own.Main.MetricsURL(), ""); code != 200 {
		t.Errorf("/metrics on the metrics listener: %d, want 200", code)
	}
	resp, err := http.Get(own.Main.MetricsURL() + "/ops/views")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the metrics listener serves /ops/views: %d, want 404", resp.StatusCode)
	}
}
