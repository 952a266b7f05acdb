package storetest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/model"
	"github.com/tallyhq/tally/internal/store/redis"
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

// WriteModel is what every write model offers (declared once, in internal/store/model).
type WriteModel = model.WriteModel

// WriteModels runs test against every write model, empty, with clock now: bbolt, and Redis
// where a server is available (see RedisURL).
func WriteModels(t *testing.T, now func() time.Time, test func(t *testing.T, w WriteModel)) {
	t.Run("bbolt", func(t *testing.T) { test(t, Write(t, bolt.Options{Now: now})) })
	t.Run("redis", func(t *testing.T) { test(t, Redis(t, redis.Options{Now: now})) })
}
