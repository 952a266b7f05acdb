package ops

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// BenchmarkDashboardAPI seeds 10,000 items with 365 days of snapshots and times each
// dashboard API call through the real handler, authenticated by a session cookie as the page
// is. Run: go test -run '^$' -bench DashboardAPI ./internal/ops (seeding takes a while), with
// TALLY_BENCH_READ_STORE=postgres for the read model on PostgreSQL (TALLY_TEST_POSTGRES).
// The goal is under 50 ms per call on a 2-core machine.
func BenchmarkDashboardAPI(b *testing.B) {
	const items, days = 10_000, 365
	to := newTestOps(b)
	if os.Getenv("TALLY_BENCH_READ_STORE") == "postgres" {
		clk := clock.NewFake(now)
		to = newTestOpsOn(b, storetest.Postgres(b, postgres.Options{Now: clk.Now}), clk)
	}
	ctx := context.Background()
	start := time.Now()
	rows := make([]item.Counted, items)
	for d := range days {
		date := now.Truncate(24*time.Hour).AddDate(0, 0, d-days)
		for i := range rows {
			n := int64((d + 1) * (i%50 + 1))
			rows[i] = item.Counted{Item: item.Item{Site: "example.com", Type: []string{"blog", "project", "page"}[i%3], Slug: fmt.Sprintf("post-%05d", i)},
				Counts: item.Counts{Unique: n / 2, Total: n}}
		}
		if err := to.db.UpsertDaily(ctx, date, rows); err != nil {
			b.Fatal(err)
		}
		if err := to.db.MarkSnapshot(ctx, date); err != nil {
			b.Fatal(err)
		}
	}
	for i := range rows {
		rows[i].Counts.Total += 3
	}
	if err := to.db.UpsertCounts(ctx, rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d items × %d days in %s", items, days, time.Since(start).Round(time.Second))

	c := client()
	to.login(&testing.T{}, c, "198.51.100.1", password)
	srvURL := to.url
	for _, path := range []string{
		"/ops/api/summary?days=14",
		"/ops/api/summary?days=90",
		"/ops/api/series?days=90",
		"/ops/api/items?sort=total",
		"/ops/api/items?sort=recent&page=100",
		"/ops/api/items?sort=unique&q=post-04",
		"/ops/api/items/trend?type=blog&slug=post-00003&days=30",
		"/ops/views?days=30",
	} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.Get(srvURL + path)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", path, resp.StatusCode)
				}
			}
		})
	}
}
