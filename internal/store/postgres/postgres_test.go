package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// TestMigrationsOnceAcrossNodes: nodes that start together against an empty database migrate
// it once, under the advisory lock; opening again applies nothing twice.
func TestMigrationsOnceAcrossNodes(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			db, err := postgres.Open(ctx, url, postgres.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			db.Close()
		})
	}
	wg.Wait()
	db, err := postgres.Open(ctx, url, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n, versions int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &versions); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n != versions {
		t.Errorf("schema_migrations holds %d rows for %d versions", n, versions)
	}
	var tables int
	conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()
		AND table_name IN ('view_counts', 'view_counts_daily', 'item_daily', 'site_daily', 'site_totals', 'snapshot_days', 'job_runs')`).Scan(&tables)
	if tables != 7 {
		t.Errorf("%d of the 7 tables and views exist", tables)
	}
}

// TestUnreachableServerFailsFast: a wrong address fails start-up within seconds, naming the
// host and never the password.
func TestUnreachableServerFailsFast(t *testing.T) {
	for _, url := range []string{
		"postgres://tally:s3cret-pw@127.0.0.1:1/tally?sslmode=disable", // nothing listens on port 1
		"postgres://tally:s3cret-pw@127.0.0.1:5432/no_such_db?sslmode=disable&connect_timeout=2",
	} {
		start := time.Now()
		db, err := postgres.Open(context.Background(), url, postgres.Options{ConnectTimeout: 2 * time.Second})
		if err == nil {
			db.Close()
			t.Errorf("%s: opened", postgres.Redact(url))
			continue
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: failed after %v", postgres.Redact(url), took)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cret-pw") || !strings.Contains(msg, "127.0.0.1") {
			t.Errorf("error %q: want the host named and the password masked", msg)
		}
	}
	if got := postgres.Redact("postgres://tally:s3cret-pw@db:5432/tally"); strings.Contains(got, "s3cret") || !strings.Contains(got, "db:5432") {
		t.Errorf("Redact = %q", got)
	}
}
