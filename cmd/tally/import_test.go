package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/datadir"
)

func TestImportFrontmatterTwiceThenServe(t *testing.T) {
	t.Parallel()
	posts, dir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(posts, "hello.md"), []byte("---\ntitle: Hello\nviews: 213\nlikes: 9\n---\nBody\n"), 0o644)
	os.WriteFile(filepath.Join(posts, "other.md"), []byte("---\nslug: renamed\nviews: 4\n---\n"), 0o644)
	args := []string{"import", "frontmatter", posts, "--url-pattern", "https://blog.example.com/blogs/{slug}", "--data", dir}
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), env{stdout: &out, stderr: io.Discard, getenv: noEnv}, args); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "https://blog.example.com/blogs/hello: views 213") || !strings.Contains(out.String(), "2 items imported") {
			t.Errorf("import printed:\n%s", out.String())
		}
	}

	app := newTestApp(t, dir)
	app.beacon(t, "https://blog.example.com/blogs/hello", "198.51.100.1", chromeUA)
	var c counts
	app.getJSON(t, "/api/counts?url=https://blog.example.com/blogs/hello", &c)
	if c.Total != 214 || c.Likes != 9 || c.Unique != 1 {
		t.Errorf("after importing twice and one view: %+v, want total 214, likes 9, unique 1", c)
	}
	app.admin(t, "/ops/api/flush", testPassword)
	got := readModel(t, dir, `SELECT slug, total_views, likes FROM view_counts ORDER BY slug`)
	if strings.Join(got, "|") != "hello 214 9|renamed 4 0" {
		t.Errorf("read model after the flush: %q", got)
	}
}

func TestImportRefusesBadRowsAndRunningServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csvPath := filepath.Join(t.TempDir(), "counts.csv")
	os.WriteFile(csvPath, []byte("url,views,likes\nhttps://example.com/blogs/a,1,1\nhttps://example.com/blogs/b,many,0\n"), 0o644)
	err := run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, []string{"import", "csv", csvPath, "--data", dir})
	if err == nil || !strings.Contains(err.Error(), "counts.csv:3") || !strings.Contains(err.Error(), "nothing imported") {
		t.Errorf("bad CSV: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, datadir.WriteFile)); err == nil {
		t.Error("a refused import still created the write model")
	}

	os.WriteFile(csvPath, []byte("url,views,likes\nhttps://example.com/blogs/a,1,1\n"), 0o644)
	newTestApp(t, dir)
	err = run(context.Background(), env{stdout: io.Discard, stderr: io.Discard, getenv: noEnv}, []string{"import", "csv", csvPath, "--data", dir})
	if err == nil || !strings.Contains(err.Error(), "in use by a running tally server") {
		t.Errorf("import while serving: %v", err)
	}
}
