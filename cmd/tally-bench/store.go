package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store"
	"github.com/tallyhq/tally/internal/store/bolt"
)

// stores is a fresh pair of real stores: bbolt in a temp directory, and SQLite there too or an
// empty schema of the PostgreSQL database named by -read-store.
type stores struct {
	dir    string
	write  store.WriteModel
	read   store.ReadModel
	flush  *flush.Flusher
	snap   *snapshot.Snapshotter
	remove func() // drops the PostgreSQL schema
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStores(ctx context.Context, readStore string) (*stores, error) {
	dir, err := os.MkdirTemp("", "tally-bench-store-")
	if err != nil {
		return nil, err
	}
	s := &stores{dir: dir, remove: func() {}}
	if store.IsPostgres(readStore) {
		if readStore, s.remove, err = freshSchema(ctx, readStore); err != nil {
			return nil, err
		}
	}
	// One site of a million items: past the default bound on items per site, on purpose.
	st, err := store.Open(ctx, dir, store.Options{ReadStore: readStore, Write: bolt.Options{MaxItemsPerSite: 10_000_000}})
	if err != nil {
		s.remove()
		return nil, err
	}
	s.write, s.read = st.Write, st.Read
	s.flush, s.snap = flush.New(st.Write, st.Read, quiet), snapshot.New(st.Write, st.Read, time.Now, quiet)
	return s, nil
}

// freshSchema makes an empty schema in the database at rawURL and returns the URL that uses it.
func freshSchema(ctx context.Context, rawURL string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return "", nil, err
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("tally_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		if c, err := pgx.Connect(context.Background(), rawURL); err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	}, nil
}

func (s *stores) close() {
	s.write.Close()
	s.read.Close()
	s.remove()
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

// fillViews records one page view of each of n items, from a visitor each, with the
// dimensions of a real view (a referrer among 50 hosts, a campaign on one view in ten, browser,
// OS, device, country): what a day of a busy site leaves for the flush. Views go through Record
// from many goroutines, so they group-commit as beacons do.
func (s *stores) fillViews(ctx context.Context, n int) error {
	browsers := []string{"Chrome", "Firefox", "Safari", "Edge"}
	systems := []string{"Windows", "macOS", "Linux", "iOS", "Android"}
	devices := []string{"desktop", "phone", "tablet"}
	countries := []string{"US", "DE", "GB", "FR", "IN", "BR", "JP", "CA"}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for i := range n {
		g.Go(func() error {
			var d item.Dims
			d[item.DimReferrer] = fmt.Sprintf("ref-%d.example.org", i%50)
			if i%10 == 0 {
				d[item.DimUTMSource], d[item.DimUTMCampaign] = "newsletter", fmt.Sprintf("week-%d", i%20)
			}
			d[item.DimBrowser] = browsers[i%len(browsers)]
			d[item.DimBrowserVersion] = fmt.Sprintf("%s %d", d[item.DimBrowser], 120+i%12)
			d[item.DimOS], d[item.DimDevice] = systems[i%len(systems)], devices[i%len(devices)]
			d[item.DimCountry] = countries[i%len(countries)]
			var sid session.ID
			binary.BigEndian.PutUint64(sid[:], uint64(i))
			return s.write.Record(ctx, item.View{Item: benchItem(i), Session: sid, Page: true, Dims: d})
		})
	}
	return g.Wait()
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
func fewAmongMany(ctx context.Context, readStore string, few, total int) (time.Duration, error) {
	s, err := openStores(ctx, readStore)
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

// flushWithDims times the flush of o.flushN items that each had a page view with dimensions:
// the items, and their dimension rows and the site's.
func flushWithDims(ctx context.Context, o options) (time.Duration, error) {
	s, err := openStores(ctx, o.readStore)
	if err != nil {
		return 0, err
	}
	defer s.close()
	if err := s.fillViews(ctx, o.flushN); err != nil {
		return 0, err
	}
	return s.timeFlush(ctx, o.flushN)
}

func storeBench(ctx context.Context, o options) error {
	readModel := "SQLite"
	if store.IsPostgres(o.readStore) {
		readModel = "PostgreSQL"
	}
	fmt.Printf("stores (real bbolt in a temp directory, the read model on %s)\n", readModel)
	s, err := openStores(ctx, o.readStore)
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
	fmt.Printf("  flush of %d dirty items into %-10s       %8s\n", o.flushN, readModel, d.Round(time.Millisecond))
	if d, err = flushWithDims(ctx, o); err != nil {
		return err
	}
	fmt.Printf("  flush of %d dirty items with dimensions        %8s\n", o.flushN, d.Round(time.Millisecond))
	start := time.Now()
	n, err := s.snap.Run(ctx, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("  snapshot of %d items                           %8s\n", n, time.Since(start).Round(time.Millisecond))

	small, err := fewAmongMany(ctx, o.readStore, 1000, 1000)
	if err != nil {
		return err
	}
	large, err := fewAmongMany(ctx, o.readStore, 1000, o.manyN)
	if err != nil {
		return err
	}
	fmt.Printf("  flush of 1000 dirty among 1000 items             %8s\n", small.Round(time.Microsecond))
	fmt.Printf("  flush of 1000 dirty among %d items          %8s  (%.2f× the above)\n", o.manyN, large.Round(time.Microsecond),
		float64(large)/float64(small))
	fmt.Println("\nGo benchmarks: go test -run '^$' -bench . -benchmem ./internal/session ./internal/classify ./internal/store/bolt ./internal/ingest")
	return nil
}
