package schedule

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// TestOneNodeRunsEachTick: nodes whose crons fire for the same tick race for its lock in the
// shared Redis; exactly one runs it, and one whose cron fires late does not run it again.
func TestOneNodeRunsEachTick(t *testing.T) {
	shared := storetest.Redis(t, redis.Options{})
	var runs atomic.Int32
	run := func(context.Context) (int, error) { runs.Add(1); return 0, nil }
	// Every node's clock stands inside one minute (at different seconds, as crons fire early or
	// late), so all of them name the same tick; a test that read the wall clock could straddle a
	// minute and see two.
	base := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	node := func(name string, second int) Jobs {
		return Jobs{Log: storetest.Log(), Now: func() time.Time { return base.Add(time.Duration(second) * time.Second) },
			Lock: func(ctx context.Context, job string, tick time.Time) (bool, error) {
				return shared.Lock(ctx, job, tick, name, time.Minute)
			}}
	}
	var wg sync.WaitGroup
	for i, name := range []string{"n1", "n2", "n3"} {
		j := node(name, 20*i)
		wg.Go(func() {
			for range 5 { // the same tick, fired again (late) on the same node
				if err := j.scheduled(context.Background(), "flush", run); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Errorf("the tick ran %d times across three nodes, want once", n)
	}
	// Without a lock (one node, embedded stores) every run is ours.
	local := Jobs{Log: storetest.Log()}
	local.scheduled(context.Background(), "flush", run)
	if n := runs.Load(); n != 2 {
		t.Errorf("without a lock: %d runs, want 2", n)
	}
}
