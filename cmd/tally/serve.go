package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/bolt"
	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/flush"
	"github.com/tallyhq/tally/internal/ingest"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/limit"
	"github.com/tallyhq/tally/internal/metrics"
	"github.com/tallyhq/tally/internal/ops"
	"github.com/tallyhq/tally/internal/scripts"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/snapshot"
	"github.com/tallyhq/tally/internal/sqlite"
	"github.com/tallyhq/tally/internal/top"
)

// Memory bounds of the limits: about 2×100,000 client limiters (~20 MB at most) and 1,000,000
// session-item counters per minute (~40 MB at most); beyond them a flood is let through
// uncounted by the limits but still bounded by the other one.
const (
	maxTrackedClients  = 100_000
	maxTrackedSessions = 1_000_000
)

// File names inside the data directory.
const (
	writeModelFile = "write.db"
	readModelFile  = "read.db"
	serverURLFile  = "server.url" // where a running server listens, for tally backup
)

// Main is a running tally server: both stores, the HTTP server and the cron jobs. Tests start
// the whole program through it on 127.0.0.1:0.
type Main struct {
	Config Config
	Log    *slog.Logger
	Stdout io.Writer        // where the generated admin password is printed, once
	Now    func() time.Time // clock for every rule about days and windows
	// Metrics, if nil, are made by Open.
	Metrics *metrics.Metrics

	write    *bolt.Store
	read     *sqlite.DB
	flusher  *flush.Flusher
	snapper  *snapshot.Snapshotter
	cron     *cron.Cron
	server   *http.Server
	listener net.Listener
	serveErr chan error
	stopBg   context.CancelFunc
	bg       sync.WaitGroup
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
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	sessions := m.loadSalt()
	if err := m.ensurePassword(); err != nil {
		return err
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	m.flusher = flush.New(m.write, m.read, m.Log)
	m.snapper = snapshot.New(m.write, m.read, m.Now, m.Log)
	if m.Config.Sites.Any() {
		m.Log.Warn("no --sites given: beacons for any site are counted; set --sites to your host names")
	} else {
		m.Log.Info("counting these sites only", "sites", m.Config.Sites.String())
	}

	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		m.closeStores()
		return fmt.Errorf("listen on %s: %w", m.Config.Addr, err)
	}
	m.listener = ln
	m.server = &http.Server{
		Handler:           m.routes(sessions),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(redactingWriter{m.Log}, "", 0),
	}
	m.serveErr = make(chan error, 1)
	go func() { m.serveErr <- m.server.Serve(ln) }()

	if err := m.startCron(); err != nil {
		m.Close()
		return err
	}
	// Days missed while tally was down get their snapshots now, not at the next 00:05.
	bgCtx, stop := context.WithCancel(context.Background())
	m.stopBg = stop
	m.bg.Go(func() {
		if n, err := m.catchUp(bgCtx); err != nil && bgCtx.Err() == nil {
			m.Log.Error("snapshot catch-up at start-up failed; the next 00:05 run retries", "err", err)
		} else if n > 1 {
			m.Log.Info("caught up on missed snapshots", "days", n)
		}
	})
	// tally backup finds the running server here, to ask it for a consistent copy.
	if err := os.WriteFile(filepath.Join(m.Config.DataDir, serverURLFile), []byte(m.URL()+"\n"), 0o600); err != nil {
		m.Log.Warn("cannot note the server address for tally backup", "err", err)
	}
	m.Log.Info("tally is listening", "addr", m.URL(), "data", m.Config.DataDir,
		"flush", m.Config.FlushSchedule, "snapshot", m.Config.SnapshotSchedule)
	m.Log.Info("dashboard: " + m.URL() + "/ops/views (log in with the admin password)")
	return nil
}

// URL is the base URL the server answers on.
func (m *Main) URL() string { return "http://" + m.listener.Addr().String() }

// loadSalt returns the session deriver, or nil, loudly, when no salt can be had: then nothing
// is counted, since an unsalted id could be reversed by anyone who knows an IP.
func (m *Main) loadSalt() *session.Deriver {
	if m.Config.SaltRotation == "daily" {
		d, err := session.NewRotating(m.Config.DataDir, m.Now)
		if err != nil {
			m.Log.Error("NO SALT: NOTHING WILL BE COUNTED until this is fixed", "err", err)
			return nil
		}
		m.Log.Info("daily salt rotation: each UTC day has its own salt, destroyed at 00:30 the next day",
			"dir", filepath.Join(m.Config.DataDir, session.SaltDir))
		return d
	}
	salt := []byte(m.Config.Salt)
	if len(salt) == 0 {
		var created bool
		var err error
		salt, created, err = session.LoadOrCreateSalt(m.Config.DataDir)
		if err != nil {
			m.Log.Error("NO SALT: NOTHING WILL BE COUNTED until this is fixed", "err", err)
			return nil
		}
		if created {
			m.Log.Info("generated a new secret salt", "file", filepath.Join(m.Config.DataDir, session.SaltFile))
		}
	}
	d, err := session.NewDeriver(salt)
	if err != nil {
		m.Log.Error("NO SALT: NOTHING WILL BE COUNTED until this is fixed", "err", err)
		return nil
	}
	return d
}

// ensurePassword stores --admin-password, or on first start generates one and prints it once.
func (m *Main) ensurePassword() error {
	if m.Config.AdminPassword != "" {
		if err := ops.SetPassword(m.Config.DataDir, m.Config.AdminPassword); err != nil {
			return fmt.Errorf("--admin-password: %w", err)
		}
		return nil
	}
	has, err := ops.HasPassword(m.Config.DataDir)
	if err != nil || has {
		return err
	}
	pw := ops.GeneratePassword()
	if err := ops.SetPassword(m.Config.DataDir, pw); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "\n  Admin password (shown only this once; change it with `tally passwd`):\n\n      %s\n\n", pw)
	return nil
}

func (m *Main) openStores(ctx context.Context) error {
	w, err := bolt.Open(filepath.Join(m.Config.DataDir, writeModelFile),
		bolt.Options{Now: m.Now, Logger: m.Log, OnCommit: m.Metrics.Committed})
	if err != nil {
		return err
	}
	r, err := sqlite.Open(ctx, filepath.Join(m.Config.DataDir, readModelFile), sqlite.Options{Now: m.Now})
	if err != nil {
		w.Close()
		return err
	}
	m.write, m.read = w, r
	m.Metrics.Gauge("tally_dirty_items", "Items changed in the write model since the last flush.", func() float64 {
		n, err := w.DirtyLen(context.Background())
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return nil
}

func (m *Main) routes(sessions *session.Deriver) http.Handler {
	mux := http.NewServeMux()
	ingest.New(m.write, ingest.Config{
		Rules: m.Config.Rules, Bots: classify.NewBots(0), IPs: m.Config.TrustedProxies, Sessions: sessions,
		Sites: m.Config.Sites, Now: m.Now, Log: m.Log, LikeCap: m.Config.LikeCap, Metrics: m.Metrics,
		Clients:    limit.NewClients(m.Config.RateLimit, m.Config.RateBurst, maxTrackedClients),
		SessionCap: limit.NewPerMinute(m.Config.SessionCap, maxTrackedSessions),
	}).Register(mux)
	top.New(m.read, m.Config.Sites, m.Log).Register(mux)
	scripts.New().Register(mux)
	ops.New(ops.Config{
		DataDir: m.Config.DataDir, DB: m.read, Jobs: ops.Jobs{Flush: m.flush, Snapshot: m.snapshot, Backup: m.backupTo},
		IPs: m.Config.TrustedProxies, Now: m.Now, Log: m.Log, PageURL: m.Config.Rules.PageURL,
	}).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		jsonhttp.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", m.Metrics.Handler())
	return mux
}

// flush runs one flush for the cron, the dashboard, the admin API and shutdown alike.
func (m *Main) flush(ctx context.Context) (int, error) {
	start := time.Now()
	res, err := m.flusher.Run(ctx)
	m.Metrics.Job("flush", res.Items, time.Since(start), err)
	return res.Items, err
}

func (m *Main) snapshot(ctx context.Context, date time.Time) (int, error) {
	start := time.Now()
	n, err := m.snapper.Run(ctx, date)
	m.Metrics.Job("snapshot", n, time.Since(start), err)
	return n, err
}

// catchUp snapshots yesterday and any missed days before it.
func (m *Main) catchUp(ctx context.Context) (int, error) {
	start := time.Now()
	n, err := m.snapper.CatchUp(ctx)
	m.Metrics.Job("snapshot", n, time.Since(start), err)
	return n, err
}

// startCron schedules the jobs in UTC. A job still running when its next turn comes is
// skipped, and a failure is logged; neither can crash the server.
func (m *Main) startCron() error {
	logger := cronLogger{m.Log}
	m.cron = cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	if _, err := m.cron.AddFunc(m.Config.FlushSchedule, func() {
		if _, err := m.flush(context.Background()); err != nil {
			m.Log.Error("scheduled flush failed; dirty items stay marked for the next run", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("schedule flush: %w", err)
	}
	if _, err := m.cron.AddFunc(m.Config.SnapshotSchedule, func() {
		if _, err := m.catchUp(context.Background()); err != nil {
			m.Log.Error("scheduled snapshot failed; the next run catches up", "err", err)
		}
	}); err != nil {
		return fmt.Errorf("schedule snapshot: %w", err)
	}
	m.cron.Start()
	return nil
}

// Close shuts down gracefully: stop accepting, let in-flight requests finish, stop the cron
// and wait for a running job, flush one last time, and close both stores.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down HTTP server: %w", err))
		}
		if err := <-m.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("serve: %w", err))
		}
	}
	if m.stopBg != nil {
		m.stopBg()
		m.bg.Wait()
	}
	if m.cron != nil {
		select {
		case <-m.cron.Stop().Done():
		case <-ctx.Done():
			errs = append(errs, errors.New("a cron job was still running at shutdown"))
		}
	}
	if m.flusher != nil {
		if _, err := m.flush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("final flush: %w", err))
		}
	}
	errs = append(errs, m.closeStores())
	os.Remove(filepath.Join(m.Config.DataDir, serverURLFile))
	return errors.Join(errs...)
}

// backupTo writes a consistent backup into dest: the read model first, so it is never ahead of
// the write model; a restore then flushes every item again to make the two agree exactly.
func (m *Main) backupTo(ctx context.Context, dest string) (backup.Manifest, error) {
	return backup.Make(ctx, dest, backupParts(m.Config.DataDir, m.read, m.write), m.Now())
}

func (m *Main) closeStores() error {
	var errs []error
	if m.write != nil {
		errs = append(errs, m.write.Close())
		m.write = nil
	}
	if m.read != nil {
		errs = append(errs, m.read.Close())
		m.read = nil
	}
	return errors.Join(errs...)
}

// cronLogger sends cron's messages to slog.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "err", err)...)
}

// clientAddr matches the peer addresses net/http puts in its error messages ("http: panic
// serving 203.0.113.7:51234"), which must not reach the log.
var clientAddr = regexp.MustCompile(`\[?[0-9a-fA-F:.]*[0-9a-fA-F]\]?:\d+`)

// redactingWriter turns net/http's error log lines into slog records without client addresses.
type redactingWriter struct{ log *slog.Logger }

func (w redactingWriter) Write(p []byte) (int, error) {
	msg := clientAddr.ReplaceAllString(string(p), "[client]")
	w.log.Warn("http server", "msg", msg)
	return len(p), nil
}
