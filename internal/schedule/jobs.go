package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/metrics"
	"github.com/tallyhq/tally/internal/snapshot"
)

// Jobs runs tally's two jobs with their metrics, for the cron, the admin API, the dashboard and
// shutdown alike.
type Jobs struct {
	Flusher     *flush.Flusher
	Snapshotter *snapshot.Snapshotter
	Metrics     *metrics.Metrics
	Log         *slog.Logger
	// Lock, if set, takes the lock of one scheduled run (a job and the minute it was scheduled
	// for) across nodes; a node that does not get it skips that run. Nil: every run is ours.
	Lock func(ctx context.Context, job string, tick time.Time) (bool, error)
	// Now names a run's tick for the lock; nil is time.Now.
	Now func() time.Time
}

func (j Jobs) now() time.Time {
	if j.Now != nil {
		return j.Now()
	}
	return time.Now()
}

// scheduled runs one scheduled run of job, unless another node took its tick.
func (j Jobs) scheduled(ctx context.Context, job string, run func(context.Context) (int, error)) error {
	if j.Lock != nil {
		// Cron fires on the minute: the minute names the tick on every node, early or late.
		tick := j.now().UTC().Truncate(time.Minute)
		ok, err := j.Lock(ctx, job, tick)
		if err != nil {
			return err
		}
		if !ok {
			j.Log.Debug("another node runs this tick", "job", job, "tick", tick)
			return nil
		}
	}
	_, err := run(ctx)
	return err
}

// Flush runs one flush and returns how many items it wrote.
func (j Jobs) Flush(ctx context.Context) (int, error) {
	start := time.Now()
	res, err := j.Flusher.Run(ctx)
	j.Metrics.Job("flush", res.Items, time.Since(start), err)
	return res.Items, err
}

// Snapshot snapshots one UTC day and returns how many items it wrote.
func (j Jobs) Snapshot(ctx context.Context, date time.Time) (int, error) {
	start := time.Now()
	n, err := j.Snapshotter.Run(ctx, date)
	j.Metrics.Job("snapshot", n, time.Since(start), err)
	return n, err
}

// CatchUp snapshots yesterday and any missed days before it, and returns how many days.
func (j Jobs) CatchUp(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := j.Snapshotter.CatchUp(ctx)
	j.Metrics.Job("snapshot", n, time.Since(start), err)
	return n, err
}

// Start schedules the flush and the snapshot catch-up, and runs one catch-up now, so days
// missed while tally was down get their snapshots at once rather than at the next 00:05.
func (j Jobs) Start(ctx context.Context, flushSpec, snapshotSpec string) (*Scheduler, error) {
	s, err := Start(ctx, j.Log,
		Job{Name: "flush", Spec: flushSpec, Run: func(ctx context.Context) error {
			return j.scheduled(ctx, "flush", j.Flush)
		}},
		Job{Name: "snapshot", Spec: snapshotSpec, Run: func(ctx context.Context) error {
			return j.scheduled(ctx, "snapshot", j.CatchUp)
		}})
	if err != nil {
		return nil, err
	}
	s.running.Go(func() {
		if n, err := j.CatchUp(s.ctx); err != nil && s.ctx.Err() == nil {
			j.Log.Error("snapshot catch-up at start-up failed; the next scheduled run retries", "err", err)
		} else if n > 1 {
			j.Log.Info("caught up on missed snapshots", "days", n)
		}
	})
	return s, nil
}
