// Package node is one running tally: both stores, the HTTP server with every route, and the cron
// jobs, put together from a validated Config. cmd/tally parses flags into a Config and runs a
// Node; tests start the whole program through it on 127.0.0.1:0.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/datadir"
	"github.com/tallyhq/tally/internal/dimension"
	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/ingest"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/limit"
	"github.com/tallyhq/tally/internal/metrics"
	"github.com/tallyhq/tally/internal/ops"
	"github.com/tallyhq/tally/internal/schedule"
	"github.com/tallyhq/tally/internal/scripts"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/store"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/postgres"
	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/top"
)

// Memory bounds of the limits: about 2×100,000 client limiters (~20 MB at most) and 1,000,000
// session-item counters per minute (~40 MB at most); beyond them a flood is let through
// uncounted by the limits but still bounded by the other one.
const (
	maxTrackedClients  = 100_000
	maxTrackedSessions = 1_000_000
)

// Main is a running tally server: both stores, the HTTP server and the cron jobs.
type Main struct {
	Config Config
	Log    *slog.Logger
	Stdout io.Writer        // where the generated admin password is printed, once
	Now    func() time.Time // clock for every rule about days and windows
	// Metrics, if nil, are made by Open.
	Metrics *metrics.Metrics

	stores *store.Stores
	run    schedule.Jobs
	dims   *dimension.Extractor
	// excluded buffers what was not counted until the next drain into the write model.
	excluded  *excluded.Buffer
	stopDrain func() // stops the drains and waits for the running one
	// sessions derives session ids; with --salt-rotation daily, RotateSalts rotates its salts
	// every minute (stopRotate stops that).
	sessions   *session.Deriver
	stopRotate func()
	jobs       *schedule.Scheduler // the cron; Close cancels its runs
	server     *httpServer
	metrics    *httpServer // with --metrics-addr
}

// Open prepares the data directory, opens both stores, and starts serving and the cron jobs.
func (m *Main) Open(ctx context.Context) error {
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Stdout == nil {
		m.Stdout = os.Stdout
	}
	if m.Metrics == nil {
		m.Metrics = metrics.New()
	}
	// Everything that can fail comes before the admin password is generated, so that a failed
	// start never uses up the one time it is shown.
	main, metricsLn, err := m.listen()
	if err != nil {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		main.Close()
		if metricsLn != nil {
			metricsLn.Close()
		}
		return err
	}
	m.sessions = m.loadSalt(ctx)
	sessions := m.sessions
	m.Config.TrustedProxies.WarnUntrusted(m.Log)
	if m.Config.Sites.Any() {
		m.Log.Warn("no --sites given: beacons for any site are counted; set --sites to your host names")
	} else {
		m.Log.Info("counting these sites only", "sites", m.Config.Sites.String())
	}
	m.server = serve(main, m.routes(sessions), m.Log)
	if metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Metrics.Handler())
		m.metrics = serve(metricsLn, mux, m.Log)
		m.Log.Info("metrics are served on their own listener", "addr", m.metrics.URL()+"/metrics")
	}
	if m.jobs, err = m.run.Start(ctx, m.Config.FlushSchedule, m.Config.SnapshotSchedule); err != nil {
		m.Close()
		return err
	}
	m.stopDrain = m.every(drainInterval, func(ctx context.Context) {
		if err := m.drain(ctx); err != nil && ctx.Err() == nil {
			m.Log.Warn("exclusions stay buffered for the next try", "err", err)
		}
	})
	m.stopRotate = m.every(rotateInterval, func(ctx context.Context) { m.RotateSalts(ctx) })
	noted := datadir.Stores{}
	if m.Config.WriteStore != "" {
		noted.Write = redis.Redact(m.Config.WriteStore)
	}
	if m.Config.ReadStore != "" {
		noted.Read = postgres.Redact(m.Config.ReadStore)
	}
	if err := datadir.NoteStores(m.Config.DataDir, noted); err != nil {
		m.Log.Warn("cannot note the stores for the commands", "err", err)
	}
	if err := datadir.NoteServer(m.Config.DataDir, m.URL()); err != nil {
		m.Log.Warn("cannot note the server address for tally backup", "err", err)
	}
	m.Log.Info("tally is listening", "addr", m.URL(), "data", absolute(m.Config.DataDir),
		"write_model", m.writeModelName(), "read_model", m.readModelName(),
		"flush", m.Config.FlushSchedule, "snapshot", m.Config.SnapshotSchedule)
	m.Log.Info("dashboard: " + m.URL() + "/ops/views (log in with the admin password)")
	return nil
}

// listen takes the main address and, with --metrics-addr, the metrics one.
func (m *Main) listen() (main, metrics net.Listener, err error) {
	if main, err = listenOn(m.Config.Addr); err != nil {
		return nil, nil, fmt.Errorf("--addr: %w", err)
	}
	if m.Config.MetricsAddr != "" {
		if metrics, err = listenOn(m.Config.MetricsAddr); err != nil {
			main.Close()
			return nil, nil, fmt.Errorf("--metrics-addr: %w", err)
		}
	}
	return main, metrics, nil
}

// prepare makes the data directory, opens the stores and sees to the admin password. A start
// that fails leaves no data directory it made behind (a typo in --data or a wrong store URL
// must not leave a stray directory to confuse the next try).
func (m *Main) prepare(ctx context.Context) (err error) {
	if _, statErr := os.Stat(m.Config.DataDir); errors.Is(statErr, fs.ErrNotExist) {
		defer func() {
			if err != nil {
				os.RemoveAll(m.Config.DataDir)
			}
		}()
	}
	if err := datadir.Create(m.Config.DataDir); err != nil {
		return err
	}
	dims, err := dimension.New(m.Config.GeoIPDB)
	if err != nil {
		return err
	}
	m.dims = dims
	if dims.HasCountry() {
		m.Log.Info("views get a country from the GeoIP database; addresses are not kept", "geoip_db", m.Config.GeoIPDB)
	}
	if err := m.openStores(ctx); err != nil {
		dims.Close()
		return err
	}
	if err := m.ensurePassword(ctx); err != nil {
		m.stores.Close()
		return err
	}
	return nil
}

// URL is the base URL the server answers on.
func (m *Main) URL() string { return m.server.URL() }

// loadSalt returns the session deriver, or nil, loudly, when no salt can be had: then nothing
// is counted, since an unsalted id could be reversed by anyone who knows an IP.
func (m *Main) loadSalt(ctx context.Context) *session.Deriver {
	d, where, err := m.stores.Deriver(ctx, m.Config.Salt, m.Config.SaltRotation == "daily", m.Now)
	switch {
	case err != nil:
		m.Log.Error("NO SALT: NOTHING WILL BE COUNTED until this is fixed", "err", err)
	case m.Config.SaltRotation == "daily":
		m.Log.Info("daily salt rotation: each UTC day has its own salt, destroyed at 00:30 the next day", "in", where)
	case where != "":
		m.Log.Info("generated a new secret salt", "in", where)
	}
	return d
}

// ensurePassword stores --admin-password, or on first start generates one and prints it once.
func (m *Main) ensurePassword(ctx context.Context) error {
	pw, err := admin.EnsurePassword(ctx, m.stores.Passwords(), m.Config.AdminPassword)
	if err != nil {
		return fmt.Errorf("admin password: %w", err)
	}
	passwd := "tally passwd --data " + m.Config.DataDir
	if m.Config.WriteStore != "" {
		passwd = "tally passwd --write-store " + redis.Redact(m.Config.WriteStore) + " (this server's --write-store, with its password)"
	}
	if pw != "" {
		fmt.Fprintf(m.Stdout, "\n  Admin password (shown only this once; change it with %s):\n\n      %s\n\n", passwd, pw)
		return nil
	}
	if used, err := m.stores.Passwords().LoggedIn(ctx); err == nil && !used && m.Config.AdminPassword == "" {
		fmt.Fprintf(m.Stdout, "\n  Nobody has logged in yet. Use the admin password printed at the first start,\n"+
			"  or set a new one: %s\n\n", passwd)
	}
	return nil
}

func (m *Main) openStores(ctx context.Context) error {
	st, err := store.Open(ctx, m.Config.DataDir, store.Options{
		WriteStore: m.Config.WriteStore,
		Write: bolt.Options{Now: m.Now, Logger: m.Log, OnCommit: m.Metrics.Committed, OnSweep: m.Metrics.Swept,
			OnRefused: m.Metrics.Refused, MaxSites: m.Config.MaxSites, MaxItemsPerSite: m.Config.MaxItemsPerSite,
			MaxDimValues: m.Config.MaxDimValues},
		Redis: redis.Options{Logger: m.Log, MaxDimValues: m.Config.MaxDimValues,
			MaxSites: m.Config.MaxSites, MaxItemsPerSite: m.Config.MaxItemsPerSite, OnRefused: m.Metrics.Refused},
		ReadStore: m.Config.ReadStore, Now: m.Now, Node: m.Config.Node,
	})
	if err != nil {
		return err
	}
	m.stores = st
	m.excluded = excluded.New(st.Write, m.Config.Sites.Listed)
	m.run = schedule.Jobs{Now: m.Now, Flusher: flush.New(st.Write, st.Read, m.Log).DrainFirst(m.drain), Snapshotter: snapshot.New(st.Write, st.Read, m.Now, m.Log).Retain(m.Config.RetentionDays),
		Metrics: m.Metrics, Log: m.Log}
	if shared := st.Shared; shared != nil {
		m.Log.Info("the write model is on Redis; what an acknowledged view survives: " + shared.Durability(ctx))
		// One node runs each tick of each job: the first to take the tick's lock.
		m.run.Lock = func(ctx context.Context, job string, tick time.Time) (bool, error) {
			return shared.Lock(ctx, job, tick, m.Config.Node, 10*time.Minute)
		}
	}
	m.Metrics.Gauge("tally_excluded_dropped", "Not-counted beacons left out of the per-reason counts since start: the buffer was full, or a day too old to retry.", func() float64 {
		return float64(m.excluded.Dropped())
	})
	m.Metrics.Gauge("tally_dirty_items", "Items changed in the write model since the last flush.", func() float64 {
		n, err := st.Write.DirtyLen(context.Background())
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return nil
}

func (m *Main) routes(sessions *session.Deriver) http.Handler {
	mux := http.NewServeMux()
	cfg := ingest.Config{
		Rules: m.Config.Rules, Bots: classify.NewBots(0, m.Config.Bots), IPs: m.Config.TrustedProxies, Sessions: sessions,
		Sites: m.Config.Sites, Now: m.Now, Log: m.Log, LikeCap: m.Config.LikeCap, LikeBudget: m.Config.LikeBudget, VisitorsPerClient: m.Config.VisitorsPerClient, Metrics: m.Metrics,
		Clients:    limit.NewClients(m.Config.RateLimit, m.Config.RateBurst, maxTrackedClients),
		SessionCap: limit.NewPerMinute(m.Config.SessionCap, maxTrackedSessions),
		Excluded:   m.excluded,
		Dimensions: m.dims,
	}
	if m.stores.Shared != nil {
		// Many nodes: the cap is kept in Redis, or each node would allow it once more.
		cfg.SessionCap, cfg.SharedSessionCap = nil, m.Config.SessionCap
	}
	ingest.New(m.stores.Write, cfg).Register(mux)
	pageTypes := m.Config.Rules.PageTypes() // the rest are client events, not views
	top.New(m.stores.Read, m.Config.Sites, pageTypes, m.Log).Register(mux)
	scripts.New().Register(mux)
	auth := admin.New(admin.Config{Passwords: m.stores.Passwords(), Sessions: m.stores.Write, IPs: m.Config.TrustedProxies,
		Now: m.Now, Log: m.Log})
	ops.New(ops.Config{
		DataDir: m.Config.DataDir, Read: m.stores.Read, Auth: auth, Now: m.Now, Log: m.Log, PageURL: m.Config.Rules.PageURL, Links: m.stores.Write.Links,
		PageTypes: pageTypes, Realtime: m.stores.Write.Realtime, HasCountry: m.dims.HasCountry(),
		Jobs: ops.Jobs{Flush: m.run.Flush, Snapshot: m.run.Snapshot, Backup: m.backupTo},
	}).Register(mux)
	mux.Handle("GET /healthz", health(m.Log, func() string { return errText(m.sessions.RotationError()) }, map[string]func(context.Context) error{
		"write_model": m.stores.Write.Ping, "read_model": m.stores.Read.Ping}))
	if m.Config.MetricsAddr == "" {
		mux.Handle("GET /metrics", auth.RequireAPI(m.Metrics.Handler()))
	}
	return jsonhttp.TextQuery(mux)
}

// Close shuts down gracefully within --shutdown-timeout: stop accepting and let in-flight
// requests finish, cancel the background work and wait for it, flush one last time, and close
// both stores. Closing again does nothing.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range []*httpServer{m.server, m.metrics} {
		if srv != nil {
			errs = append(errs, srv.Shutdown(ctx))
		}
	}
	m.server, m.metrics = nil, nil
	if m.jobs != nil {
		errs = append(errs, m.jobs.Stop(ctx))
		m.jobs = nil
	}
	if m.stopRotate != nil {
		m.stopRotate()
		m.stopRotate = nil
	}
	if m.stopDrain != nil {
		m.stopDrain()
		m.stopDrain = nil
	}
	if m.run.Flusher != nil {
		if _, err := m.run.Flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("final flush: %w", err))
		}
		m.run = schedule.Jobs{}
	}
	if m.stores != nil {
		errs = append(errs, m.stores.Close())
		m.stores = nil
	}
	if m.dims != nil {
		errs = append(errs, m.dims.Close())
		m.dims = nil
	}
	datadir.ForgetServer(m.Config.DataDir)
	return errors.Join(errs...)
}

// drainInterval is how often each node hands what it did not count to the write model: often
// enough that the dashboard is current after a flush on any node, seldom enough that a bot
// flood costs one small write model transaction per interval.
const drainInterval = 10 * time.Second

// drain hands the buffered exclusions to the write model.
func (m *Main) drain(ctx context.Context) error {
	if err := m.excluded.Drain(ctx, m.Now()); err != nil {
		return fmt.Errorf("hand exclusions to the write model: %w", err)
	}
	return nil
}

// rotateInterval is how often the daily salts are rotated: each day's salt is made a day ahead,
// and yesterday's destroyed within this much after its grace period ends.
const rotateInterval = time.Minute

// RotateSalts makes sure today's and tomorrow's salts are held (and, on Redis, shared by every
// node) and destroys the expired ones (--salt-rotation daily; nothing otherwise). A failure is
// logged and counted here, and /healthz says "degraded" until a rotation succeeds; counting
// goes on with the salts held.
func (m *Main) RotateSalts(ctx context.Context) error {
	err := m.sessions.Rotate(ctx)
	if err != nil && ctx.Err() == nil {
		m.Log.Error("daily salt rotation failed: counting goes on with the salts held, tried again every minute", "err", err)
		m.Metrics.SaltRotationFailed()
	}
	return err
}

// every runs f every interval until the returned stop is called, which waits for a run under
// way.
func (m *Main) every(interval time.Duration, f func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// backupTo writes a consistent backup into dest.
func (m *Main) backupTo(ctx context.Context, dest string) (backup.Manifest, error) {
	return m.stores.Backup(ctx, dest, m.Now())
}

// MetricsURL is the base URL of the metrics listener of --metrics-addr; "" without one.
func (m *Main) MetricsURL() string {
	if m.metrics == nil {
		return ""
	}
	return m.metrics.URL()
}

// absolute is dir as an absolute path, for the start-up log (dir itself if it cannot say).
func absolute(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// writeModelName and readModelName say where the models are, for the start-up log: the file,
// or the shared store's URL with its password masked.
func (m *Main) writeModelName() string {
	if m.Config.WriteStore != "" {
		return redis.Redact(m.Config.WriteStore)
	}
	return "bbolt " + filepath.Join(absolute(m.Config.DataDir), datadir.WriteFile)
}

func (m *Main) readModelName() string {
	if m.Config.ReadStore != "" {
		return postgres.Redact(m.Config.ReadStore)
	}
	return "SQLite " + filepath.Join(absolute(m.Config.DataDir), datadir.ReadFile)
}

// errText is err's message, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
