package ops

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/sqlite"
	"github.com/tallyhq/tally/internal/store/storetest"
	"github.com/tallyhq/tally/migrations"
)

// TestMigrationKeepsEveryAnswer: a read model written by tally before history went sparse
// (migrations up to 0007, a row for every item on every day) migrates on open, and every answer
// the dashboard and scripts get from it — tiles, series, item trends, the items table with its
// 7-day baselines, breakdowns and the CSV exports — is byte for byte what the release before the
// migration answered from the same data (testdata/migration.golden, written by that release
// with -update). Both read models, one golden file.
func TestMigrationKeepsEveryAnswer(t *testing.T) {
	golden := filepath.Join("testdata", "migration.golden")
	check := func(t *testing.T, db storetest.ReadModel, clk *clock.Fake) {
		to := newTestOpsOn(t, db, clk)
		var b strings.Builder
		for _, path := range migrationCalls {
			resp, body := get(t, client(), to.url+path, true)
			fmt.Fprintf(&b, "GET %s → %d\n%s\n\n", path, resp.StatusCode, strings.TrimSpace(body))
		}
		if *update {
			if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("after the migration, answers differ from %s at line %d:\n got %s\nwant %s", golden, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("after the migration, %d lines of answers, want %d", len(gl), len(wl))
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		clk := clock.NewFake(now)
		path := filepath.Join(t.TempDir(), "read.db")
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		denseFixture(t, migrations.SQLite, func(q string, args ...any) error {
			_, err := raw.Exec(q, args...)
			return err
		})
		raw.Close()
		db, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		check(t, db, clk)
	})
	t.Run("postgres", func(t *testing.T) {
		if *update {
			t.Skip("the golden file comes from SQLite; PostgreSQL must match it")
		}
		clk := clock.NewFake(now)
		u := storetest.PostgresURL(t)
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		denseFixture(t, migrations.Postgres, func(q string, args ...any) error {
			_, err := conn.Exec(ctx, toDollars(q), args...)
			return err
		})
		conn.Close(ctx)
		db, err := postgres.Open(ctx, u, postgres.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		check(t, db, clk)
	})
}

// migrationCalls are the answers the migration must keep.
var migrationCalls = []string{
	"/ops/api/summary?site=blog.example&days=7",
	"/ops/api/summary?site=blog.example&days=30",
	"/ops/api/summary?site=blog.example&from=2026-11-01&to=2026-11-15",
	"/ops/api/summary?site=other.example&days=14",
	"/ops/api/series?site=blog.example&days=30",
	"/ops/api/series?site=blog.example&days=90",
	"/ops/api/items?site=blog.example&sort=total",
	"/ops/api/items?site=blog.example&sort=unique",
	"/ops/api/items?site=blog.example&sort=recent",
	"/ops/api/items?site=blog.example&q=post",
	"/ops/api/items/trend?site=blog.example&type=blog&slug=post-1&days=30",
	"/ops/api/items/trend?site=blog.example&type=blog&slug=post-5&days=30",
	"/ops/api/breakdown?site=blog.example&days=30&dim=referrer",
	"/ops/api/breakdown?site=blog.example&days=30&dim=referrer&type=blog&slug=post-2",
	"/ops/api/export/items.csv?site=blog.example",
	"/ops/api/export/daily.csv?site=blog.example&days=30",
	"/ops/api/export/daily.csv?site=blog.example&days=30&type=blog&slug=post-3",
	"/ops/api/export/breakdown.csv?site=blog.example&days=30&dim=referrer",
}

// denseFixture brings an empty database to migration 0007 and fills it as tally did before
// sparse history: a daily row for every item seen, every snapshotted day, changed or not (one
// day, Nov 12, never snapshotted: the server was down), site totals per day, current counts a
// little ahead of the last snapshot, and sources per day. exec runs one statement with ?
// placeholders.
func denseFixture(t *testing.T, dialect fs.FS, exec func(q string, args ...any) error) {
	t.Helper()
	ms, err := migrations.Load(dialect)
	if err != nil {
		t.Fatal(err)
	}
	must := func(q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	stamp := "TEXT"
	if dialect == migrations.Postgres {
		stamp = "TIMESTAMPTZ"
	}
	must(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + stamp + ` NOT NULL)`)
	for _, m := range ms {
		if m.Version > 7 {
			break
		}
		must(m.SQL)
		must(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.Version, m.Name, "2026-10-01T00:00:00Z")
	}
	type it struct {
		site, typ, slug string
		first           int // first day (index) with views
		every           int // views on every every-th day
	}
	items := []it{
		{"blog.example", "home", "/", 0, 1},
		{"blog.example", "page", "/about", 3, 4},
		{"blog.example", "blog", "post-1", 0, 2},
		{"blog.example", "blog", "post-2", 5, 1},
		{"blog.example", "blog", "post-3", 10, 3},
		{"blog.example", "blog", "post-4", 20, 7},
		{"blog.example", "blog", "post-5", 30, 1},
		{"blog.example", "blog", "post-6", 2, 50}, // one day of views, then none
		{"other.example", "blog", "a", 1, 1},
		{"other.example", "page", "/b", 4, 2},
	}
	first := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	const days = 35 // Oct 20 … Nov 23; "now" is Nov 24 noon
	down := time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)
	type tot struct{ u, n, items int64 }
	cum := make([]tot, len(items))
	for d := range days {
		date := first.AddDate(0, 0, d)
		totals := map[[2]string]tot{}
		for i, x := range items {
			if d < x.first {
				continue
			}
			if (d-x.first)%x.every == 0 {
				views := int64(1 + (d*7+i*3)%5)
				cum[i].n += views
				cum[i].u += (views + 1) / 2
				if d%3 == 0 {
					must(`INSERT INTO dimension_daily (site, type, slug, date, dim, value, views, visitors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
						x.site, x.typ, x.slug, date.Format(time.DateOnly), "referrer", []string{"news.ycombinator.com", "github.com", "(direct)"}[i%3], views, (views+1)/2)
				}
			}
			if date.Equal(down) {
				continue
			}
			must(`INSERT INTO view_counts_daily (site, type, slug, date, unique_views_snapshot, total_views_snapshot) VALUES (?, ?, ?, ?, ?, ?)`,
				x.site, x.typ, x.slug, date.Format(time.DateOnly), cum[i].u, cum[i].n)
			k := [2]string{x.site, x.typ}
			totals[k] = tot{totals[k].u + cum[i].u, totals[k].n + cum[i].n, totals[k].items + 1}
		}
		for k, v := range totals {
			must(`INSERT INTO view_totals_daily (site, type, date, unique_views_snapshot, total_views_snapshot, items) VALUES (?, ?, ?, ?, ?, ?)`,
				k[0], k[1], date.Format(time.DateOnly), v.u, v.n, v.items)
		}
	}
	for i, x := range items {
		// Today so far: a few views past the last snapshot, and some likes.
		must(`INSERT INTO view_counts (site, type, slug, unique_views, total_views, likes, last_synced_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			x.site, x.typ, x.slug, cum[i].u+int64(i%2), cum[i].n+int64(i%3), int64(i%4), fmt.Sprintf("2026-11-24T1%d:00:00Z", i%2))
	}
	must(`INSERT INTO job_runs (job, finished_at, items, node) VALUES (?, ?, ?, ?)`, "flush", "2026-11-24T11:45:00Z", 10, "n1")
}

// toDollars numbers a statement's ? placeholders as PostgreSQL's $1, $2, ….
func toDollars(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
