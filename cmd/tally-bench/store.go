package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/sqlite"
)

// stores is a fresh pair of real stores in a temp directory.
type stores struct {
	dir   string
	write *bolt.Store
	read  *sqlite.DB
	flush *flush.Flusher
	snap  *snapshot.Snapshotter
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStores(ctx context.Context) (*stores, error) {
	dir, err := os.MkdirTemp("", "tally-bench-store-")
	if err != nil {
		return nil, err
	}
	w, err := bolt.Open(filepath.Join(dir, "write.db"), bolt.Options{})
	if err != nil {
		return nil, err
	}
	r, err := sqlite.Open(ctx, filepath.Join(dir, "read.db"), sqlite.Options{})
	if err != nil {
		w.Close()
		return nil, err
	}
	return &stores{dir: dir, write: w, read: r, flush: flush.New(w, r, quiet), snap: snapshot.New(w, r, time.Now, quiet)}, nil
}

func (s *stores) close() {
	s.write.Close()
	s.read.Close()
	os.RemoveAll(s.dir)
}

// fill creates n items with a view count each, in chunks, as imports do: the fastest way to
// a large write model.
func (s *stores) fill(ctx context.Context, n, views int) error {
	const chunk = 10_000
	for start := 0; start < n; start += chunk {
		seeds := make([]item.Seed, 0, chunk)
		for i := start; i < min(n, start+chunk); i++ {
			seeds = append(seeds, item.Seed{Item: benchItem(i), Views: int64(views)})
		}
		if _, err := s.write.Seed(ctx, seeds); err != nil {
			return err
		}
	}
	return nil
}

func benchItem(i int) item.Item {
	return item.Item{Site: "bench.example.com", Type: "blog", Slug: fmt.Sprintf("post-%07d", i)}
}

// timeFlush times one flush and checks how many items it wrote.
func (s *stores) timeFlush(ctx context.Context, want int) (time.Duration, error) {
	start := time.Now()
	res, err := s.flush.Run(ctx)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if res.Items != want {
		return 0, fmt.Errorf("flush wrote %d items, want %d", res.Items, want)
	}
	return d, nil
}

// fewAmongMany fills total items, flushes them all, changes the first `few`, and times the flush
// that follows.
func fewAmongMany(ctx context.Context, few, total int) (time.Duration, error) {
	s, err := openStores(ctx)
	if err != nil {
		return 0, err
	}
	defer s.close()
	if err := s.fill(ctx, total, 1); err != nil {
		return 0, err
	}
	if _, err := s.flush.Run(ctx); err != nil {
		return 0, err
	}
	if err := s.fill(ctx, few, 2); err != nil {
		return 0, err
	}
	return s.timeFlush(ctx, few)
}

func storeBench(ctx context.Context, o options) error {
	fmt.Println("stores (real bbolt and SQLite in a temp directory)")
	s, err := openStores(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.fill(ctx, o.flushN, 3); err != nil {
		return err
	}
	d, err := s.timeFlush(ctx, o.flushN)
	if err != nil {
		return err
	}
	fmt.Printf("  flush of %d dirty items into SQLite           %8s\n", o.flushN, d.Round(time.Millisecond))
	start := time.Now()
	n, err := s.snap.Run(ctx, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("  snapshot of %d items                           %8s\n", n, time.Since(start).Round(time.Millisecond))

	small, err := fewAmongMany(ctx, 1000, 1000)
	if err != nil {
		return err
	}
	large, err := fewAmongMany(ctx, 1000, o.manyN)
	if err != nil {
		return err
	}
	fmt.Printf("  flush of 1000 dirty among 1000 items             %8s\n", small.Round(time.Microsecond))
	fmt.Printf("  flush of 1000 dirty among %d items          %8s  (%.2f× the above)\n", o.manyN, large.Round(time.Microsecond),
		float64(large)/float64(small))
	fmt.Println("\nGo benchmarks: go test -run '^$' -bench . -benchmem ./internal/session ./internal/classify ./internal/bolt ./internal/ingest")
	return nil
}
