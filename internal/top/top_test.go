package top

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/sites"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// newTestServer serves /api/top over a real read model whose rows rank differently by total,
// by unique and by likes, so each order gives its own answer.
func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, _ := storetest.Read(t, sqlite.Options{})
	row := func(site, typ, slug string, unique, total, likes int64) item.Counted {
		return item.Counted{Item: item.Item{Site: site, Type: typ, Slug: slug}, Counts: item.Counts{Unique: unique, Total: total, Likes: likes}}
	}
	rows := []item.Counted{
		row("example.com", "blog", "most-total", 10, 90, 1),
		row("example.com", "blog", "most-unique", 50, 60, 0),
		row("example.com", "blog", "most-liked", 5, 20, 40),
		row("example.com", "page", "/about", 30, 70, 2),
		row("other.org", "blog", "elsewhere", 99, 99, 99),
		row("example.com", "resume_download", "cv.pdf", 500, 900, 0), // an event, not a view
	}
	for i := range 12 {
		rows = append(rows, row("example.com", "project", "p"+string(rune('a'+i)), 1, int64(i+1), 0))
	}
	if err := db.UpsertCounts(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	allowed, _ := sites.Parse("example.com,other.org")
	mux := http.NewServeMux()
	New(db, allowed, []string{"home", "page", "blog", "project"}, storetest.Log()).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestTop(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		query  string
		status int
		slugs  string // the answer's slugs in order, or its error
	}{
		{"?site=example.com&limit=4", 200, "most-total /about most-unique most-liked"},
		{"?site=WWW.Example.com.&type=blog", 200, "most-total most-unique most-liked"},
		{"?site=example.com&by=likes&limit=3", 200, "most-liked /about most-total"},
		{"?site=example.com&by=views&limit=1", 200, "most-total"},
		{"?limit=1", 200, "elsewhere"},
		{"?site=example.com&type=project&limit=2", 200, "pl pk"},
		{"?site=example.com", 200, "most-total /about most-unique most-liked pl pk pj pi ph pg"},
		{"?type=nope", 200, ""},
		// Client events are not views: only a top list that names one shows it.
		{"?site=example.com&type=resume_download", 200, "cv.pdf"},
		{"?limit=0", 400, "limit must be a number from 1 to 100"},
		{"?limit=101", 400, "limit must be a number from 1 to 100"},
		{"?limit=ten", 400, "limit must be a number from 1 to 100"},
		{"?by=unique", 400, "by must be views or likes"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", srv.URL+"/api/top"+tt.query, nil)
		req.Header.Set("Origin", "https://example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Items []struct {
				Site, Type, Slug     string
				Unique, Total, Likes int64
			}
			Error string
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.query, resp.StatusCode, tt.status)
			continue
		}
		got := body.Error
		if tt.status == 200 {
			var slugs []string
			for _, it := range body.Items {
				slugs = append(slugs, it.Slug)
			}
			got = strings.Join(slugs, " ")
		}
		if got != tt.slugs {
			t.Errorf("%s: %q, want %q", tt.query, got, tt.slugs)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://example.com" {
			t.Errorf("%s: Allow-Origin %q", tt.query, got)
		}
	}
}

func TestTopItemFields(t *testing.T) {
	srv := newTestServer(t)
	resp, err := http.Get(srv.URL + "/api/top?site=example.com&limit=1&by=likes")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string][]map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	want := map[string]any{"site": "example.com", "type": "blog", "slug": "most-liked", "unique": 5.0, "total": 20.0, "likes": 40.0}
	if len(body["items"]) != 1 || len(body["items"][0]) != len(want) {
		t.Fatalf("items = %v, want one item with exactly %v", body["items"], want)
	}
	for k, v := range want {
		if body["items"][0][k] != v {
			t.Errorf("%s = %v, want %v", k, body["items"][0][k], v)
		}
	}
}
