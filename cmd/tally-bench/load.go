package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

const benchUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// round is one server's figures for one round.
type round struct {
	server   string
	requests int64
	ok       int64
	errors   int64
	elapsed  time.Duration
	lat      []time.Duration
}

func (r round) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r round) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// loadBench runs the A B A B rounds, then the correctness check.
func loadBench(ctx context.Context, o options) error {
	tmp, bin, err := workDir("tally-bench-", o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tally, redis, err := startCluster(bin, tmp, o)
	if err != nil {
		return err
	}
	defer tally.stop()
	if redis != nil {
		defer redis.stop()
	}
	yard, err := startYardstick()
	if err != nil {
		return err
	}
	defer yard.stop()

	bodies := make([][]byte, o.items)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf(`{"url":"https://bench.example.com/blogs/post-%d","referrer":"https://news.example.org/"}`, i))
	}
	acked := make([]atomic.Int64, o.items) // tally's 2xx per item
	var visitor atomic.Int64
	var rounds []round
	var tallyCPU, redisCPU float64
	var tallyOK int64
	for i := range o.rounds {
		for _, s := range []*server{tally, yard} {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var perItem []atomic.Int64
			if s == tally {
				perItem = acked
			}
			cpu0, rcpu0 := tally.cpu(), 0.0
			if redis != nil {
				rcpu0 = cpuSeconds(redis)
			}
			r := drive(ctx, s, o, bodies, &visitor, perItem)
			if s == tally {
				tallyCPU += tally.cpu() - cpu0
				tallyOK += r.ok
				if redis != nil {
					redisCPU += cpuSeconds(redis) - rcpu0
				}
			}
			rounds = append(rounds, r)
			fmt.Printf("  round %d %-8s %9.0f req/s  p50 %-9s p99 %-9s p99.9 %-9s errors %d\n", i+1, r.server, r.rps(),
				r.pct(.50).Round(time.Microsecond), r.pct(.99).Round(time.Microsecond), r.pct(.999).Round(time.Microsecond), r.errors)
		}
	}
	report(rounds, tally.peakRSS())
	if tallyOK > 0 {
		fmt.Printf("  CPU per acknowledged view: tally %.1f µs", tallyCPU/float64(tallyOK)*1e6)
		if redis != nil {
			fmt.Printf(", redis %.1f µs", redisCPU/float64(tallyOK)*1e6)
		}
		fmt.Println()
	}
	return checkCounts(tally.base, acked)
}

// drive sends beacons from o.conns keep-alive connections for o.duration. Every request is a
// new visitor (a distinct X-Forwarded-For), so each is a countable, unique view well under every
// limit and cap. A request in flight at the deadline is finished, so counts stay exact.
func drive(ctx context.Context, s *server, o options, bodies [][]byte, visitor *atomic.Int64, perItem []atomic.Int64) round {
	var (
		mu  sync.Mutex
		res = round{server: s.name}
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(o.duration)
	var conn atomic.Int64
	for range o.conns {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1<<15)
			var n, ok, errs int64
			defer func() {
				mu.Lock()
				res.requests += n
				res.ok += ok
				res.errors += errs
				res.lat = append(res.lat, lat...)
				mu.Unlock()
			}()
			rc, err := dialRaw(s.endpoint(int(conn.Add(1))))
			if err != nil {
				errs++
				return
			}
			defer rc.close()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				v := visitor.Add(1)
				item := int(v % int64(len(bodies)))
				t0 := time.Now()
				status, err := rc.postView(bodies[item], v)
				n++
				if err != nil {
					errs++
					return // the connection is unusable
				}
				lat = append(lat, time.Since(t0))
				if status/100 == 2 {
					ok++
					if perItem != nil {
						perItem[item].Add(1)
					}
				} else {
					errs++
				}
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(res.lat, func(i, j int) bool { return res.lat[i] < res.lat[j] })
	return res
}

func report(rounds []round, rss float64) {
	var tallyRPS, yardRPS []float64
	var tallyLat []time.Duration
	for _, r := range rounds {
		if r.server == "tally" {
			tallyRPS = append(tallyRPS, r.rps())
			tallyLat = append(tallyLat, r.pct(.99))
		} else {
			yardRPS = append(yardRPS, r.rps())
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Println()
	fmt.Fprintf(tw, "beacons, median of rounds\ttally\t%.0f req/s\n", median(tallyRPS))
	fmt.Fprintf(tw, "\tbare 204 yardstick\t%.0f req/s\n", median(yardRPS))
	fmt.Fprintf(tw, "\tratio tally/yardstick\t%.2f\n", median(tallyRPS)/median(yardRPS))
	worst := time.Duration(0)
	for _, l := range tallyLat {
		worst = max(worst, l)
	}
	fmt.Fprintf(tw, "\ttally p99, worst round\t%s\n", worst.Round(time.Microsecond))
	fmt.Fprintf(tw, "\ttally peak RSS\t%.0f MiB\n", rss)
	tw.Flush()
}

// checkCounts compares tally's live totals with the 2xx it returned, item by item.
func checkCounts(base string, acked []atomic.Int64) error {
	var sent, counted, wrong int64
	for i := range acked {
		resp, err := http.Get(fmt.Sprintf("%s/api/counts?url=https://bench.example.com/blogs/post-%d", base, i))
		if err != nil {
			return err
		}
		var c struct{ Total int64 }
		err = json.NewDecoder(resp.Body).Decode(&c)
		resp.Body.Close()
		if err != nil {
			return err
		}
		sent += acked[i].Load()
		counted += c.Total
		if c.Total != acked[i].Load() {
			wrong++
		}
	}
	verdict := "OK: no view lost or counted twice"
	if wrong > 0 {
		verdict = fmt.Sprintf("WRONG on %d items", wrong)
	}
	fmt.Printf("\tcorrectness\t2xx returned %d, views counted %d: %s\n\n", sent, counted, verdict)
	if wrong > 0 {
		return fmt.Errorf("tally's totals differ from the views it acknowledged")
	}
	return nil
}

// startCluster starts what is measured: one tally on its embedded stores, or o.nodes tallies
// sharing a private Redis.
func startCluster(bin, tmp string, o options) (tally, redis *server, err error) {
	if o.redis == "" {
		tally, err = startTally(bin, tmp+"/data")
		return tally, nil, err
	}
	redis, url, err := startRedis(tmp, o.redis)
	if err != nil {
		return nil, nil, err
	}
	fmt.Printf("  write model on a private Redis (appendfsync %s), %d tally node(s)\n", o.redis, o.nodes)
	tally = &server{name: "tally"}
	for i := range o.nodes {
		n, err := startTally(bin, fmt.Sprintf("%s/data%d", tmp, i), "--write-store", url, "--node", fmt.Sprint("n", i))
		if err != nil {
			tally.stop()
			redis.stop()
			return nil, nil, err
		}
		tally.procs = append(tally.procs, n)
		tally.bases = append(tally.bases, n.base)
	}
	tally.base = tally.bases[0]
	return tally, redis, nil
}
