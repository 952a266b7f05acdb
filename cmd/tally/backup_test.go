package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/datadir"
)

func TestBackupUnderLoadAndRestore(t *testing.T) {
	dir, dest, fresh := t.TempDir(), filepath.Join(t.TempDir(), "backup"), t.TempDir()
	app := newTestApp(t, dir)
	for i := range 5 {
		app.beacon(t, "https://example.com/blogs/quiet", fmt.Sprintf("198.51.100.%d", i), chromeUA)
	}
	app.admin(t, "/ops/api/flush", testPassword)

	l := startLoad(app.URL(), "https://example.com/blogs/busy", 8, 100000)
	l.waitAcked(t, 100)
	before := l.acked.Load()
	withPassword := func(k string) (string, bool) {
		if k == "TALLY_ADMIN_PASSWORD" {
			return testPassword, true
		}
		return "", false
	}
	var out bytes.Buffer
	err := run(context.Background(), env{stdout: &out, stderr: io.Discard, getenv: withPassword}, []string{"backup", dest, "--data", dir})
	// Views answered before the backup began must be in it; views sent after it ended cannot be.
	after := l.sent.Load() + l.unsure.Load()
	l.finish()
	if err != nil {
		t.Fatalf("backup while serving: %v", err)
	}
	if !strings.Contains(out.String(), "through the running server") {
		t.Errorf("backup printed %q", out.String())
	}
	// Views after the backup are not in it.
	app.beacon(t, "https://example.com/blogs/quiet", "198.51.100.200", chromeUA)
	app.close(t)

	out.Reset()
	if err := run(context.Background(), env{stdout: &out, stderr: io.Discard, getenv: noEnv}, []string{"restore", dest, "--data", fresh}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !strings.Contains(out.String(), "flushed all 2 items") {
		t.Errorf("restore printed %q", out.String())
	}

	restored := newTestApp(t, fresh)
	var quiet, busy counts
	restored.getJSON(t, "/api/counts?url=https://example.com/blogs/quiet", &quiet)
	restored.getJSON(t, "/api/counts?url=https://example.com/blogs/busy", &busy)
	if quiet.Total != 5 || quiet.Unique != 5 {
		t.Errorf("quiet item after restore: %+v, want the 5 views of the moment of the backup", quiet)
	}
	t.Logf("busy item: %d acknowledged when the backup began, %d sent when it ended, %d restored", before, after, busy.Total)
	if busy.Total < before || busy.Total > after {
		t.Errorf("busy item restored with %d views, outside [%d, %d]", busy.Total, before, after)
	}
	rows := readModel(t, fresh, `SELECT slug, total_views FROM view_counts ORDER BY slug`)
	if want := fmt.Sprintf("busy %d|quiet 5", busy.Total); strings.Join(rows, "|") != want {
		t.Errorf("restored read model %q, want %q: the two stores must agree", rows, want)
	}
}

func TestBackupWithoutServerAndRestoreOverData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir)
	app.beacon(t, "https://example.com/blogs/a", "198.51.100.1", chromeUA)
	app.close(t)
	dest := filepath.Join(t.TempDir(), "b")
	e := env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}
	if err := run(context.Background(), e, []string{"backup", dest, "--data", dir}); err != nil {
		t.Fatalf("backup of a stopped server's data: %v", err)
	}
	if err := run(context.Background(), e, []string{"backup", dest, "--data", dir}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("backup into a used folder: %v", err)
	}

	app = newTestApp(t, dir)
	app.beacon(t, "https://example.com/blogs/a", "198.51.100.2", chromeUA)
	if err := run(context.Background(), e, []string{"restore", dest, "--data", dir}); err == nil || !strings.Contains(err.Error(), "running tally server") {
		t.Errorf("restore while serving: %v", err)
	}
	app.close(t)
	if err := run(context.Background(), e, []string{"restore", dest, "--data", dir}); err != nil {
		t.Fatal(err)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "pre-restore-*", datadir.WriteFile))
	if len(aside) != 1 {
		t.Errorf("the replaced write model was not kept aside: %v", aside)
	}
	app = newTestApp(t, dir)
	var c counts
	app.getJSON(t, "/api/counts?url=https://example.com/blogs/a", &c)
	if c.Total != 1 {
		t.Errorf("after restoring over the data: %+v, want the 1 view of the backup", c)
	}

	bad := t.TempDir()
	if err := run(context.Background(), e, []string{"restore", bad, "--data", dir}); err == nil || !strings.Contains(err.Error(), "not a tally backup") {
		t.Errorf("restore from an empty folder: %v", err)
	}
}
