package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store"
	"github.com/tallyhq/tally/internal/store/bolt"

	_ "modernc.org/sqlite" // item_daily's size, read through dbstat
)

// The read model at scale: a site of N items with D days of history, 1% of the items viewed
// each day, built through the real write model, flush and snapshot on an injected clock (never
// SQL inserts), then served by a real `tally serve` and timed call by call.

// scaleCalls are the dashboard's calls, each timed by its median.
var scaleCalls = []string{
	"/ops/api/summary?site=bench.example.com&days=14",
	"/ops/api/series?site=bench.example.com&days=90",
	"/ops/api/items?site=bench.example.com&sort=total",
	"/ops/api/items?site=bench.example.com&sort=recent&page=100",
	"/ops/api/items?site=bench.example.com&sort=unique&q=post-00004",
	"/ops/api/items/trend?site=bench.example.com&type=blog&slug=post-0000300&days=30",
	"/ops/api/breakdown?site=bench.example.com&days=30&dim=referrer",
	"/ops/views?site=bench.example.com&days=30",
}

// scaleResult is what one build and its calls measured.
type scaleResult struct {
	items, days   int
	build         time.Duration
	size          int64 // bytes of the read model
	dailyRows     int64 // rows of item_daily
	dailyBytes    int64 // bytes of item_daily, its key included
	dimRows       int64 // rows of dimension_daily
	dimBytes      int64 // bytes of dimension_daily and its index
	snapshots     []time.Duration
	calls         map[string]time.Duration
	basic, cookie time.Duration // summary with Basic auth and with the session cookie
}

func readScale(ctx context.Context, o options) error {
	tmp, bin, err := workDir("tally-bench-scale-", o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	readModel := "SQLite"
	if store.IsPostgres(o.readStore) {
		readModel = "PostgreSQL"
	}
	fmt.Printf("read model at scale (%s): one site, %d days, 1%% of the items viewed a day, through the real flush and snapshot\n",
		readModel, o.scaleDays)
	var results []scaleResult
	for _, n := range []int{10_000, o.scaleItems} {
		r, err := buildAndTime(ctx, bin, tmp, o, n)
		if err != nil {
			return err
		}
		results = append(results, r)
		fmt.Printf("  %d items built in %s\n", n, r.build.Round(time.Second))
	}
	printScale(results)
	return nil
}

func buildAndTime(ctx context.Context, bin, tmp string, o options, items int) (scaleResult, error) {
	res := scaleResult{items: items, days: o.scaleDays, calls: map[string]time.Duration{}}
	dir := filepath.Join(tmp, fmt.Sprintf("data-%d", items))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return res, err
	}
	readStore, remove := o.readStore, func() {}
	if store.IsPostgres(readStore) {
		var err error
		if readStore, remove, err = freshSchema(ctx, readStore); err != nil {
			return res, err
		}
	}
	defer remove()
	start := time.Now()
	// History ends yesterday, so the server, on the real clock, sees it as recent.
	first := session.Day(time.Now()).AddDate(0, 0, -o.scaleDays)
	var mu sync.Mutex
	now := first.Add(9 * time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	st, err := store.Open(ctx, dir, store.Options{ReadStore: readStore, Now: clock,
		Write: bolt.Options{Now: clock, MaxItemsPerSite: 10 * items, Logger: quiet}})
	if err != nil {
		return res, err
	}
	fl := flush.New(st.Write, st.Read, quiet)
	sn := snapshot.New(st.Write, st.Read, clock, quiet)
	for d := range o.scaleDays {
		day := first.AddDate(0, 0, d)
		set(day.Add(9 * time.Hour))
		// Day 0 brings every item its first view; after it, one item in a hundred a day.
		if err := scaleViews(ctx, st.Write, items, d, day); err != nil {
			st.Close()
			return res, err
		}
		if _, err := fl.Run(ctx); err != nil {
			st.Close()
			return res, err
		}
		set(day.AddDate(0, 0, 1).Add(5 * time.Minute))
		t0 := time.Now()
		if _, err := sn.Run(ctx, day); err != nil {
			st.Close()
			return res, err
		}
		if d > 0 {
			res.snapshots = append(res.snapshots, time.Since(t0))
		}
	}
	res.build = time.Since(start)
	if err := st.Close(); err != nil {
		return res, err
	}
	if err := readModelSize(ctx, dir, readStore, &res); err != nil {
		return res, err
	}
	extra := []string{}
	if store.IsPostgres(readStore) {
		extra = append(extra, "--read-store", readStore)
	}
	srv, err := startTally(bin, dir, extra...)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	return res, timeCalls(srv.base, &res)
}

// scaleViews records day d's views: every item on day 0, then the 1% with i ≡ d (mod 100),
// one to three readers each, a referrer on every other view.
func scaleViews(ctx context.Context, w store.WriteModel, items, d int, day time.Time) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for i := range items {
		if d > 0 && (i+d)%100 != 0 {
			continue
		}
		readers := 1
		if d > 0 {
			readers = 1 + (i/100+d)%3
		}
		for r := range readers {
			g.Go(func() error {
				var dims item.Dims
				if r%2 == 0 {
					dims[item.DimReferrer] = fmt.Sprintf("ref-%d.example.org", (i+r)%50)
				}
				var sid session.ID
				binary.BigEndian.PutUint64(sid[:], uint64(i))
				binary.BigEndian.PutUint32(sid[8:], uint32(d))
				binary.BigEndian.PutUint32(sid[12:], uint32(r))
				return w.Record(ctx, item.View{Item: benchItem(i), Session: sid, Page: true, Dims: dims})
			})
		}
	}
	return g.Wait()
}

// readModelSize measures the read model on disk: all of it, and item_daily's and
// dimension_daily's rows and bytes (indexes included).
func readModelSize(ctx context.Context, dir, readStore string, res *scaleResult) error {
	if store.IsPostgres(readStore) {
		conn, err := pgx.Connect(ctx, readStore)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, `SELECT
			(SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
			 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'),
			(SELECT COUNT(*) FROM item_daily), pg_total_relation_size('item_daily'),
			(SELECT COUNT(*) FROM dimension_daily), pg_total_relation_size('dimension_daily')`).
			Scan(&res.size, &res.dailyRows, &res.dailyBytes, &res.dimRows, &res.dimBytes)
	}
	db, err := store.OpenRead(ctx, dir, store.Options{})
	if err != nil {
		return err
	}
	db.Close() // a clean close checkpoints the WAL into the file
	fi, err := os.Stat(filepath.Join(dir, "read.db"))
	if err != nil {
		return err
	}
	res.size = fi.Size()
	path := filepath.Join(dir, "read.db")
	if res.dailyRows, res.dailyBytes, err = sqliteTable(path, "item_daily"); err != nil {
		return err
	}
	res.dimRows, res.dimBytes, err = sqliteTable(path, "dimension_daily", "dimension_daily_value")
	return err
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// timeCalls logs in as the dashboard does and takes the median of each call.
func timeCalls(base string, res *scaleResult) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/ops/login")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("login form without a CSRF field")
	}
	resp, err = c.PostForm(base+"/ops/login", url.Values{"password": {benchPassword}, "csrf": {string(m[1])}, "next": {"/ops/views"}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		return fmt.Errorf("login: %s", resp.Status)
	}
	call := func(path string, basic bool) (time.Duration, error) {
		var ds []float64
		for i := range 12 {
			req, _ := http.NewRequest("GET", base+path, nil)
			if basic {
				req.SetBasicAuth("admin", benchPassword)
			}
			t0 := time.Now()
			client := c
			if basic {
				client = &http.Client{Timeout: time.Minute}
			}
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return 0, fmt.Errorf("%s: %s", path, resp.Status)
			}
			if i >= 2 { // the first two warm the caches
				ds = append(ds, float64(time.Since(t0)))
			}
		}
		return time.Duration(median(ds)), nil
	}
	for _, p := range scaleCalls {
		d, err := call(p, false)
		if err != nil {
			return err
		}
		res.calls[p] = d
	}
	if res.cookie, err = call(scaleCalls[0], false); err != nil {
		return err
	}
	res.basic, err = call(scaleCalls[0], true)
	return err
}

func printScale(rs []scaleResult) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Printf("\n  %-72s", "")
	for _, r := range rs {
		fmt.Printf(" %18s", fmt.Sprintf("%d items", r.items))
	}
	fmt.Println()
	row := func(name string, f func(r scaleResult) string) {
		fmt.Printf("  %-72s", name)
		for _, r := range rs {
			fmt.Printf(" %18s", f(r))
		}
		fmt.Println()
	}
	row("read model size", func(r scaleResult) string { return fmt.Sprintf("%.1f MB", float64(r.size)/1e6) })
	row("item_daily rows", func(r scaleResult) string { return fmt.Sprint(r.dailyRows) })
	perRow := func(rows, bytes int64) string {
		if rows == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", float64(bytes)/float64(rows))
	}
	row("bytes per item_daily row, key included", func(r scaleResult) string { return perRow(r.dailyRows, r.dailyBytes) })
	row("dimension_daily rows", func(r scaleResult) string { return fmt.Sprint(r.dimRows) })
	row("bytes per dimension_daily row, indexes included", func(r scaleResult) string { return perRow(r.dimRows, r.dimBytes) })
	row("one day's snapshot (median / max)", func(r scaleResult) string {
		var xs []float64
		var top time.Duration
		for _, d := range r.snapshots {
			xs = append(xs, float64(d))
			top = max(top, d)
		}
		return fmt.Sprintf("%s / %s", ms(time.Duration(median(xs))), ms(top))
	})
	for _, p := range scaleCalls {
		row(strings.TrimPrefix(p, "/ops"), func(r scaleResult) string { return ms(r.calls[p]) })
	}
	row("summary?days=14, session cookie", func(r scaleResult) string { return ms(r.cookie) })
	row("summary?days=14, Basic auth", func(r scaleResult) string { return ms(r.basic) })
	fmt.Println("  (medians of 10 calls after 2 to warm up)")
}

// sqliteTable counts a table's rows and, through SQLite's dbstat table, the bytes of its pages
// and of the named indexes' (a WITHOUT ROWID table is its own primary-key index).
func sqliteTable(path, table string, indexes ...string) (rows, bytes int64, err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&rows); err != nil {
		return 0, 0, err
	}
	names, _ := json.Marshal(append([]string{table}, indexes...))
	if err := db.QueryRow(`SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT value FROM json_each(?))`, string(names)).Scan(&bytes); err != nil {
		return rows, 0, fmt.Errorf("measure %s: %w", table, err)
	}
	return rows, bytes, nil
}
