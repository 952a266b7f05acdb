package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEventsAreNotViews records views and client events through the real server, flushes, and
// reads every place views are shown: events stay out of the tiles, the items table, /api/top and
// tally top, and a top list that names an event shows it.
func TestEventsAreNotViews(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := newTestApp(t, dir)
	page := "https://example.com/blogs/a"
	for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
		if code := app.beacon(t, page, ip, chromeUA); code != 200 {
			t.Fatalf("view: %d", code)
		}
	}
	for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		req, _ := http.NewRequest("GET", app.URL()+"/api/sid", nil)
		req.Header.Set("User-Agent", chromeUA)
		req.Header.Set("X-Forwarded-For", ip)
		_, body := fetch(t, req)
		var sid struct{ SID string }
		json.Unmarshal([]byte(body), &sid)
		for range 2 {
			req, _ = http.NewRequest("POST", app.URL()+"/api/event", strings.NewReader(
				`{"url":"`+page+`","name":"resume_download","target":"cv.pdf","sid":"`+sid.SID+`"}`))
			req.Header.Set("User-Agent", chromeUA)
			req.Header.Set("X-Forwarded-For", ip)
			if code, _ := fetch(t, req); code != 204 {
				t.Fatalf("event: %d", code)
			}
		}
	}
	if code, body := app.admin(t, "/ops/api/flush", testPassword); code != 200 {
		t.Fatalf("flush: %d %s", code, body)
	}

	var s struct {
		Total, Unique int64
		Items         int
		ByType        []struct{ Type string } `json:"by_type"`
	}
	apiGet(t, app, "/ops/api/summary?site=example.com", &s)
	if s.Total != 2 || s.Unique != 2 || s.Items != 1 || len(s.ByType) != 1 || s.ByType[0].Type != "blog" {
		t.Errorf("summary %+v: want the two views of one blog post, no event", s)
	}
	var items struct{ Items []struct{ Type string } }
	apiGet(t, app, "/ops/api/items?site=example.com", &items)
	if len(items.Items) != 1 || items.Items[0].Type != "blog" {
		t.Errorf("items table %+v, want the post alone", items.Items)
	}
	var top struct{ Items []struct{ Type, Slug string } }
	app.getJSON(t, "/api/top?site=example.com", &top)
	if len(top.Items) != 1 || top.Items[0].Type != "blog" {
		t.Errorf("/api/top %+v, want the post alone", top.Items)
	}
	app.getJSON(t, "/api/top?site=example.com&type=resume_download", &top)
	if len(top.Items) != 1 || top.Items[0].Slug != "cv.pdf" {
		t.Errorf("/api/top?type=resume_download %+v, want the event", top.Items)
	}
	var out bytes.Buffer
	if err := run(context.Background(), env{stdout: &out, stderr: io.Discard, getenv: noEnv}, []string{"top", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "blog") || strings.Contains(out.String(), "cv.pdf") {
		t.Errorf("tally top:\n%s\nwant the post and not the event", out.String())
	}
}
