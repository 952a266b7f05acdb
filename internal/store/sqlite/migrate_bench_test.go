package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tallyhq/tally/migrations"
)

// BenchmarkMigrateDense times the upgrade of a dense read model (migrations up to 0007: a row
// for every item on every day) of 10,000 items × 365 days, 1% of them changing a day, to sparse
// history (0008): how long the first start after the upgrade takes. Run:
// go test -run '^$' -bench MigrateDense -benchtime 1x ./internal/store/sqlite
func BenchmarkMigrateDense(b *testing.B) {
	const items, days = 10_000, 365
	ms, err := migrations.Load(migrations.SQLite)
	if err != nil {
		b.Fatal(err)
	}
	dense := filepath.Join(b.TempDir(), "dense.db")
	raw, err := sql.Open("sqlite", "file:"+dense+"?_pragma=journal_mode(WAL)")
	if err != nil {
		b.Fatal(err)
	}
	must := func(tx interface {
		Exec(string, ...any) (sql.Result, error)
	}, q string, args ...any) {
		if _, err := tx.Exec(q, args...); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	must(raw, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
	for _, m := range ms {
		if m.Version > 7 {
			break
		}
		must(raw, m.SQL)
		must(raw, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, m.Version, m.Name, "2026-01-01T00:00:00Z")
	}
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	first := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	cum := make([]int64, items)
	row, _ := tx.Prepare(`INSERT INTO view_counts_daily VALUES (?, ?, ?, ?, ?, ?)`)
	for d := range days {
		date := first.AddDate(0, 0, d).Format(time.DateOnly)
		var sum int64
		for i := range items {
			if d == 0 || (i+d)%100 == 0 {
				cum[i] += 2
			}
			sum += cum[i]
			if _, err := row.Exec("example.com", "blog", fmt.Sprintf("post-%05d", i), date, cum[i]/2, cum[i]); err != nil {
				b.Fatal(err)
			}
		}
		must(tx, `INSERT INTO view_totals_daily VALUES (?, ?, ?, ?, ?, ?)`, "example.com", "blog", date, sum/2, sum, items)
	}
	for i := range items {
		must(tx, `INSERT INTO view_counts (site, type, slug, unique_views, total_views, last_synced_at) VALUES (?, ?, ?, ?, ?, ?)`,
			"example.com", "blog", fmt.Sprintf("post-%05d", i), cum[i]/2, cum[i], "2026-12-01T00:00:00Z")
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	raw.Close()
	src, err := os.ReadFile(dense)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "read.db")
		if err := os.WriteFile(path, src, 0o600); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		db, err := Open(context.Background(), path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
	b.ReportMetric(float64(items*days), "dense-rows")
}
