// Command tally-bench measures tally on this machine against a yardstick and prints figures:
//
//	go run ./cmd/tally-bench            # the full run (a few minutes)
//	go run ./cmd/tally-bench -smoke     # a short run that proves it works
//
// It builds and starts a real `tally serve` (temp data directory, the same code path as in
// production) and, as the yardstick, a bare net/http server that answers 204 to everything: the
// ceiling for any Go beacon endpoint here. It drives both alternately with the same load, then
// checks that tally counted exactly the views it acknowledged, then times the jobs on the real
// stores: flushes, a flush of few changes among many items, and a snapshot.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

type options struct {
	conns      int
	duration   time.Duration
	rounds     int
	items      int
	tally      string
	storeOnly  bool
	readStore  string
	redis      string // "": the embedded write model; always or everysec: Redis with that appendfsync
	nodes      int
	loadOnly   bool
	smoke      bool
	flushN     int
	manyN      int
	readScale  bool
	scaleItems int
	scaleDays  int
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-yardstick" {
		serveYardstick(os.Args[2])
		return
	}
	var o options
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive clients")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each round")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds for each server (A B A B …)")
	flag.IntVar(&o.items, "items", 1000, "distinct items the load views")
	flag.StringVar(&o.tally, "tally", "", "tally binary to measure (default: build ./cmd/tally)")
	flag.BoolVar(&o.loadOnly, "load-only", false, "only the HTTP load, not the store figures")
	flag.BoolVar(&o.storeOnly, "store-only", false, "only the store figures, not the HTTP load")
	flag.IntVar(&o.flushN, "flush-items", 100_000, "dirty items in the big flush and the snapshot")
	flag.IntVar(&o.manyN, "many-items", 1_000_000, "items in the store for the few-among-many flush")
	flag.BoolVar(&o.readScale, "read-scale", false, "only the read model at scale: 10,000 and -scale-items items × -scale-days days, 1% viewed a day, then each dashboard call's median")
	flag.IntVar(&o.scaleItems, "scale-items", 1_000_000, "items of the larger -read-scale build")
	flag.IntVar(&o.scaleDays, "scale-days", 365, "days of history of the -read-scale builds")
	flag.BoolVar(&o.smoke, "smoke", false, "a short run: 1 s rounds, 2 rounds, small stores")
	flag.StringVar(&o.redis, "redis", "", "load against the write model on a private Redis with this appendfsync: always or everysec (empty: bbolt)")
	flag.IntVar(&o.nodes, "nodes", 1, "tally processes sharing the private Redis (with -redis)")
	flag.StringVar(&o.readStore, "read-store", "", "the store figures' read model: empty for SQLite, or a postgres:// URL (each run uses a fresh schema)")
	flag.Parse()
	if o.redis != "" && o.redis != "always" && o.redis != "everysec" {
		fmt.Fprintln(os.Stderr, "tally-bench: -redis must be always or everysec")
		os.Exit(2)
	}
	if o.nodes < 1 || (o.nodes > 1 && o.redis == "") {
		fmt.Fprintln(os.Stderr, "tally-bench: -nodes above 1 needs -redis (bbolt is one process's file)")
		os.Exit(2)
	}
	if o.smoke {
		o.duration, o.rounds, o.flushN, o.manyN = time.Second, 2, 5_000, 20_000
		o.scaleItems, o.scaleDays = 20_000, 20
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "tally-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if o.readScale {
		return readScale(ctx, o)
	}
	fmt.Printf("tally-bench: %d clients, %d items, %d rounds of %s each\n\n", o.conns, o.items, o.rounds, o.duration)
	if !o.storeOnly {
		if err := loadBench(ctx, o); err != nil {
			return err
		}
	}
	if !o.loadOnly {
		return storeBench(ctx, o)
	}
	return nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
