// Package schedule runs tally's cron jobs (robfig/cron/v3) in UTC: a job still running when its
// next turn comes is skipped, a failure or a panic is logged and never crashes the server, and
// every run gets a context that Stop cancels, so a job stuck on a store cannot hold up shutdown.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is one scheduled job.
type Job struct {
	Name string // for the log
	Spec string // standard cron spec, UTC, or a descriptor such as "@every 1m"
	Run  func(ctx context.Context) error
}

// Scheduler runs jobs until Stop.
type Scheduler struct {
	cron    *cron.Cron
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup // work started beside the cron, such as the start-up catch-up
}

// Validate reports whether spec is a schedule Start accepts.
func Validate(spec string) error {
	_, err := cron.ParseStandard(spec)
	return err
}

// Start schedules jobs and starts running them. Each run's context ends with ctx or Stop.
func Start(ctx context.Context, log *slog.Logger, jobs ...Job) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(ctx)
	logger := cronLogger{log}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, j := range jobs {
		if _, err := c.AddFunc(j.Spec, func() {
			if err := j.Run(ctx); err != nil && ctx.Err() == nil {
				log.Error("scheduled "+j.Name+" failed", "err", err)
			}
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("schedule %s %q: %w", j.Name, j.Spec, err)
		}
	}
	c.Start()
	return &Scheduler{cron: c, ctx: ctx, cancel: cancel}, nil
}

// Stop starts no new run, cancels the running ones, and waits for them to return until ctx
// ends.
func (s *Scheduler) Stop(ctx context.Context) error {
	cronDone := s.cron.Stop().Done()
	s.cancel()
	done := make(chan struct{})
	go func() {
		<-cronDone
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("a scheduled job was still running at shutdown")
	}
}

// cronLogger sends cron's messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}
