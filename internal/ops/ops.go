// Package ops serves the owner's side of tally under /ops: the login, the /ops/views
// dashboard, and the JSON admin API that scripts and the page share. It reads the read model
// only. It never imports the write model: the jobs it runs ("Flush now") are functions handed
// to it by the caller, which keeps the CQRS split visible in the import graph.
package ops

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/sqlite"
)

// Jobs are the admin jobs the API can run. Each runs synchronously and returns how many items
// it wrote.
type Jobs struct {
	Flush    func(ctx context.Context) (int, error)
	Snapshot func(ctx context.Context, date time.Time) (int, error)
	// Backup writes a consistent backup of both stores and the secrets into dest.
	Backup func(ctx context.Context, dest string) (backup.Manifest, error)
}

// Config is what the owner's side needs.
type Config struct {
	DataDir string // holds the admin password hash
	DB      *sqlite.DB
	Jobs    Jobs
	IPs     *clientip.Resolver
	Now     func() time.Time
	Log     *slog.Logger
	// PageURL links an item to its page on the site; "" for items that are not pages.
	PageURL func(site, typ, slug string) string
}

// Handler serves /ops.
type Handler struct {
	cfg         Config
	throttle    *throttle
	bcryptSlots chan struct{}
	pages       *pages
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{
		cfg:         cfg,
		throttle:    newThrottle(cfg.Now),
		bcryptSlots: make(chan struct{}, bcryptParallel),
		pages:       mustParsePages(),
	}
}

// AdminUser is the HTTP Basic user name for the admin API.
const AdminUser = "admin"

// Register adds every /ops route to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	sub := http.NewServeMux()
	sub.HandleFunc("GET /ops", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ops/views", http.StatusSeeOther)
	})
	sub.HandleFunc("GET /ops/login", h.loginForm)
	sub.HandleFunc("POST /ops/login", h.login)
	sub.Handle("POST /ops/logout", h.requirePage(h.logout))
	sub.Handle("GET /ops/views", h.requirePage(h.viewsPage))
	sub.Handle("GET /ops/views/item", h.requirePage(h.itemPage))
	sub.Handle("POST /ops/flush", h.requirePage(h.flushForm))
	sub.Handle("GET /ops/static/", http.StripPrefix("/ops/static/", staticFiles()))

	api := func(pattern string, f http.HandlerFunc) { sub.Handle(pattern, h.requireAPI(f)) }
	api("POST /ops/api/flush", h.apiFlush)
	api("POST /ops/api/snapshot", h.apiSnapshot)
	api("GET /ops/api/summary", h.apiSummary)
	api("GET /ops/api/series", h.apiSeries)
	api("GET /ops/api/items", h.apiItems)
	api("GET /ops/api/items/trend", h.apiTrend)
	api("GET /ops/api/export/items.csv", h.exportItems)
	api("GET /ops/api/export/daily.csv", h.exportDaily)
	api("GET /ops/api/backup", h.apiBackup)

	// Browsers' cross-site state-changing requests are refused before any handler runs, even
	// if the browser would attach cached Basic credentials or the session cookie.
	protected := http.NewCrossOriginProtection().Handler(sub)
	mux.Handle("/ops", securityHeaders(protected))
	mux.Handle("/ops/", securityHeaders(protected))
}

// securityHeaders go on every /ops response: scripts and styles only from /ops/static, no
// framing, no referrer leaving the dashboard, nothing cached by the browser.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if h.Get("Cache-Control") == "" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// safeNext keeps a post-login redirect on the dashboard.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || len(next) < 4 || next[:4] != "/ops" || (len(next) > 4 && next[4] != '/' && next[4] != '?') {
		return "/ops/views"
	}
	return u.RequestURI()
}
