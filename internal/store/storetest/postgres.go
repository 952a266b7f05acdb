package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tallyhq/tally/internal/store/model"
	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/sqlite"
)

// DefaultPostgres is the server the tests use unless TALLY_TEST_POSTGRES names another.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns a URL of a fresh, empty schema of the test server, dropped when the test
// ends, so that packages and tests run side by side. Without a server the test is skipped with
// how to get one, except with CI=true, where a missing server fails it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ShortSkip(t, "PostgreSQL")
	base := os.Getenv("TALLY_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		missing(t, "PostgreSQL", "TALLY_TEST_POSTGRES", postgres.Redact(base), err,
			"apt-get install postgresql (then it listens on 127.0.0.1:5432), or point TALLY_TEST_POSTGRES at a server")
	}
	defer conn.Close(ctx)
	schema := "tally_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// missing skips a test whose server is not there, or fails it in CI.
// ShortSkip skips a test that needs a server, a browser or a built binary when the suite runs
// with -short, which keeps to the unit tests on the embedded stores (under a minute on 2 cores).
func ShortSkip(t testing.TB, needs string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short: needs %s (run go test ./... without -short for it)", needs)
	}
}

func missing(t testing.TB, what, env, where string, err error, install string) {
	t.Helper()
	msg := fmt.Sprintf("no %s at %s (%v); set %s or %s", what, where, err, env, install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Postgres opens the read model on PostgreSQL in a fresh schema.
func Postgres(t testing.TB, opts postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), PostgresURL(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ReadModel is what every read model offers (declared once, in internal/store/model).
type ReadModel = model.ReadModel

// ReadModels returns every read model, empty, with clock now: SQLite, and PostgreSQL where a
// server is available (see PostgresURL). Each runs as a subtest named after it.
func ReadModels(t *testing.T, now func() time.Time, test func(t *testing.T, db ReadModel)) {
	t.Run("sqlite", func(t *testing.T) {
		db, _ := Read(t, sqlite.Options{Now: now})
		test(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		test(t, Postgres(t, postgres.Options{Now: now}))
	})
}
