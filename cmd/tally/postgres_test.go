package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/store/storetest"
)

type topList struct {
	Items []struct {
		Slug  string `json:"slug"`
		Total int64  `json:"total"`
	} `json:"items"`
}

func (a *testApp) top(t *testing.T) string {
	t.Helper()
	var top topList
	a.getJSON(t, "/api/top?site=example.com", &top)
	var out []string
	for _, it := range top.Items {
		out = append(out, fmt.Sprintf("%s:%d", it.Slug, it.Total))
	}
	return strings.Join(out, " ")
}

func (a *testApp) get(t *testing.T, path string, basic bool) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.URL()+path, nil)
	if basic {
		req.SetBasicAuth("admin", testPassword)
	}
	return fetch(t, req)
}

// TestReadModelOnPostgres: tally serve with --read-store postgres://… keeps no read.db, and
// flush, /api/top and the dashboard work as on SQLite.
func TestReadModelOnPostgres(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir, "--read-store", storetest.PostgresURL(t))
	for i := range 3 {
		app.beacon(t, "https://example.com/blogs/pg", fmt.Sprintf("198.51.100.%d", i), chromeUA)
	}
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}
	if got := app.top(t); got != "pg:3" {
		t.Errorf("/api/top = %q, want pg:3", got)
	}
	if code, body := app.get(t, "/ops/api/summary?days=7", true); code != 200 || !strings.Contains(body, `"total":3`) {
		t.Errorf("summary: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, datadir.ReadFile)); err == nil {
		t.Error("a read.db was created although the read model is on PostgreSQL")
	}
}

// TestPostgresGoesAway stops the read model's server under a running tally: the flush fails
// with a log line and a metric and keeps its dirty marks, the dashboard answers 503 at once
// instead of hanging, /healthz names the read model; when the server is back, the first flush
// writes everything.
func TestPostgresGoesAway(t *testing.T) {
	pg := storetest.PrivatePostgres(t)
	app := newTestApp(t, t.TempDir(), "--read-store", pg.URL())
	app.beacon(t, "https://example.com/blogs/a", "198.51.100.1", chromeUA)
	if code, _ := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("first flush: %d", code)
	}

	pg.Stop()
	app.beacon(t, "https://example.com/blogs/a", "198.51.100.2", chromeUA) // the write model is unaffected
	app.beacon(t, "https://example.com/blogs/b", "198.51.100.2", chromeUA)
	start := time.Now()
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 503 || !strings.Contains(body, "flush failed") {
		t.Errorf("flush with the server down: %d %s, want 503", code, body)
	}
	if code, _ := app.get(t, "/ops/api/summary?days=7", true); code != 503 {
		t.Errorf("dashboard API with the server down: %d, want 503", code)
	}
	if code, body := app.get(t, "/healthz", false); code != 503 || !strings.Contains(body, `"read_model":"down"`) {
		t.Errorf("/healthz with the server down: %d %s", code, body)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("answering with the server down took %v", took)
	}
	if got := metric(t, app, `tally_job_failures_total{job="flush"}`); got != 1 {
		t.Errorf("flush failures = %v, want 1", got)
	}
	if got := metric(t, app, "tally_dirty_items"); got != 2 {
		t.Errorf("dirty items = %v, want 2 kept for the next flush", got)
	}
	if !strings.Contains(app.logs.String(), "flush") || strings.Contains(app.logs.String(), "password=") {
		t.Errorf("log:\n%s", app.logs.String())
	}

	pg.Start()
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("first flush after the server came back: %d %s", code, body)
	}
	if got := app.top(t); got != "a:2 b:1" {
		t.Errorf("/api/top after recovery = %q, want a:2 b:1", got)
	}
	if code, _ := app.get(t, "/healthz", false); code != 200 {
		t.Errorf("/healthz after recovery: %d", code)
	}
}
