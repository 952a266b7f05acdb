package storetest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/redis"
	"github.com/tallyhq/tally/internal/session"
)

// DefaultRedis is the server the tests use unless TALLY_TEST_REDIS names another.
const DefaultRedis = "redis://127.0.0.1:6379/0"

// RedisURL returns the test server's URL and a key prefix of the test's own, whose keys are
// deleted when the test ends. Without a server the test is skipped with how to get one, except
// with CI=true, where a missing server fails it.
func RedisURL(t testing.TB) (url, prefix string) {
	t.Helper()
	ShortSkip(t, "Redis")
	url = os.Getenv("TALLY_TEST_REDIS")
	if url == "" {
		url = DefaultRedis
	}
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("TALLY_TEST_REDIS: %v", err)
	}
	rdb := goredis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		missing(t, "Redis", "TALLY_TEST_REDIS", redis.Redact(url), err,
			"apt-get install redis-server (then it listens on 127.0.0.1:6379), or point TALLY_TEST_REDIS at a server")
	}
	prefix = "tally-test-" + strings.ToLower(rand.Text()[:12]) + ":"
	t.Cleanup(func() {
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return url, prefix
}

// Redis opens the write model on Redis under a prefix of the test's own.
func Redis(t testing.TB, opts redis.Options) *redis.Store {
	t.Helper()
	url, prefix := RedisURL(t)
	opts.Prefix = prefix
	s, err := redis.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// WriteModel is what every write model offers: what the beacon path, the jobs, imports,
// restores and the owner's sessions use. The conformance tests hold each one to the same
// behaviour.
type WriteModel interface {
	Record(ctx context.Context, v item.View) error
	Counts(ctx context.Context, it item.Item) (item.Counts, error)
	Like(ctx context.Context, l item.Like) (item.LikeCounts, error)
	Likes(ctx context.Context, it item.Item, sid session.ID) (item.LikeCounts, error)
	Seed(ctx context.Context, seeds []item.Seed) ([]item.Seed, error)
	Dirty(ctx context.Context, after item.Item, limit int) ([]item.Change, error)
	Clean(ctx context.Context, flushed []item.Change) error
	DirtyLen(ctx context.Context) (int, error)
	MarkAllDirty(ctx context.Context) (int, error)
	CountsAsOf(ctx context.Context, date time.Time, after item.Item, limit int) ([]item.Counted, error)
	FirstDay(ctx context.Context) (time.Time, bool, error)
	CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error
	SessionValid(ctx context.Context, tokenHash, pw string) (bool, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	SetLink(ctx context.Context, site, link string) error
	Links(ctx context.Context) (map[string]string, error)
	AddExcluded(ctx context.Context, rows []item.Excluded) error
	KeptSites(ctx context.Context, sites []string) (map[string]bool, error)
	Excluded(ctx context.Context, cursor string, limit int) ([]item.Excluded, string, error)
	PruneExcluded(ctx context.Context, day string) error
	DimsDirty(ctx context.Context, after item.DimChange, limit int) ([]item.DimChange, error)
	CleanDims(ctx context.Context, flushed []item.DimChange) error
	PruneDims(ctx context.Context) error
	Realtime(ctx context.Context, site string) (item.Live, error)
	Close() error
}

// WriteModels runs test against every write model, empty, with clock now: bbolt, and Redis
// where a server is available (see RedisURL).
func WriteModels(t *testing.T, now func() time.Time, test func(t *testing.T, w WriteModel)) {
	t.Run("bbolt", func(t *testing.T) { test(t, Write(t, bolt.Options{Now: now})) })
	t.Run("redis", func(t *testing.T) { test(t, Redis(t, redis.Options{Now: now})) })
}
