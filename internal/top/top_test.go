package top

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/sites"
	"github.com/tallyhq/tally/internal/sqlite"
)

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "read.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	row := func(slug string, total int64) item.Counted {
		return item.Counted{Item: item.Item{Site: "example.com", Type: "blog", Slug: slug}, Counts: item.Counts{Unique: total, Total: total}}
	}
	var rows []item.Counted
	for i, slug := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"} {
		rows = append(rows, row(slug, int64(i)))
	}
	if err := db.UpsertCounts(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	allowed, _ := sites.Parse("example.com")
	mux := http.NewServeMux()
	New(db, allowed, slog.New(slog.NewTextHandler(io.Discard, nil))).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestTop(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		query  string
		status int
		first  string
		n      int
	}{
		{"", 200, "l", 10},
		{"?site=WWW.Example.com&type=blog&limit=3", 200, "l", 3},
		{"?type=page", 200, "", 0},
		{"?limit=0", 400, "", 0},
		{"?limit=101", 400, "", 0},
		{"?limit=ten", 400, "", 0},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", srv.URL+"/api/top"+tt.query, nil)
		req.Header.Set("Origin", "https://example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Items []sqlite.TopItem }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		if tt.status != 200 {
			continue
		}
		if len(body.Items) != tt.n || (tt.n > 0 && body.Items[0].Slug != tt.first) {
			t.Errorf("%s: %d items starting %+v, want %d starting %q", tt.query, len(body.Items), body.Items, tt.n, tt.first)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://example.com" {
			t.Errorf("%s: Allow-Origin %q", tt.query, got)
		}
	}
}
