// Package ops serves the owner's side of tally under /ops: the login, the /ops/views
// dashboard, and the JSON admin API that scripts and the page share. It reads the read model
// only, through Reader, and imports no store: the jobs it runs ("Flush now") are functions
// handed to it by the caller, which keeps the CQRS split visible in the import graph.
package ops

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

// Reader is the read model as the dashboard needs it.
type Reader interface {
	Sites(ctx context.Context) ([]string, error)
	Site(ctx context.Context, site string) (report.Site, error)
	SnapshotTotals(ctx context.Context, site string, date time.Time) (report.TypeTotals, error)
	SiteSeries(ctx context.Context, site string, types []string, first, last time.Time) ([]report.DayPoint, error)
	ItemSeries(ctx context.Context, it item.Item, first, last time.Time) ([]report.DayPoint, error)
	Items(ctx context.Context, q report.ItemQuery) ([]report.ItemRow, int, error)
	Item(ctx context.Context, it item.Item) (report.ItemRow, bool, error)
	Top(ctx context.Context, f report.TopFilter) ([]report.TopItem, error)
	LastFlush(ctx context.Context) (time.Time, bool, error)
	Excluded(ctx context.Context, site string, first, last time.Time) (report.NotCounted, error)
	Breakdown(ctx context.Context, q report.DimQuery) ([]report.DimRow, error)
	DimDays(ctx context.Context, q report.DimQuery) ([]report.DimDay, error)
	DimItems(ctx context.Context, q report.OwnerQuery) ([]report.OwnerRow, error)
}

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
	DataDir string // where backups are put together before they are sent
	Read    Reader
	Auth    *admin.Auth
	Jobs    Jobs
	Now     func() time.Time
	Log     *slog.Logger
	// PageURL links an item to its page on the site as link names it; "" for items that are
	// not pages. Nil: no links.
	PageURL func(link item.Link, typ, slug string) string
	// Links returns how each site's beacons name its pages (item.Link in its String form);
	// nil, or a site missing, links to https on the bare site.
	Links func(ctx context.Context) (map[string]string, error)
	// PageTypes are the types pages are counted under (home, page and the route types); every
	// other type is a client event, kept out of views: tiles, charts, the donut, the items
	// table, most liked. Nil: every type counts as views.
	PageTypes []string
	// Realtime reads a site's last 30 minutes live from the write model; nil: nothing live.
	Realtime func(ctx context.Context, site string) (item.Live, error)
	// HasCountry says a GeoIP database gives views a country, so the countries panel shows.
	HasCountry bool
}

// Handler serves /ops.
type Handler struct {
	cfg   Config
	pages *pages
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg, pages: mustParsePages(cfg.Log)}
}

// Register adds every /ops route to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	sub := http.NewServeMux()
	sub.HandleFunc("GET /ops", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ops/views", http.StatusSeeOther)
	})
	sub.HandleFunc("GET /ops/login", h.loginForm)
	sub.HandleFunc("POST /ops/login", h.login)
	page := func(pattern string, f pageFunc) { sub.Handle(pattern, h.cfg.Auth.RequirePage(h.page(f))) }
	page("POST /ops/logout", h.logout)
	page("GET /ops/views", h.viewsPage)
	page("GET /ops/views/item", h.itemPage)
	page("POST /ops/flush", h.flushForm)
	sub.Handle("GET /ops/static/", http.StripPrefix("/ops/static/", staticFiles()))

	api := func(pattern string, f apiFunc) { sub.Handle(pattern, h.cfg.Auth.RequireAPI(h.api(f))) }
	api("POST /ops/api/flush", h.apiFlush)
	api("POST /ops/api/snapshot", h.apiSnapshot)
	api("GET /ops/api/summary", h.apiSummary)
	api("GET /ops/api/excluded", h.apiExcluded)
	api("GET /ops/api/breakdown", h.apiBreakdown)
	api("GET /ops/api/events", h.apiEvents)
	api("GET /ops/api/realtime", h.apiRealtime)
	api("GET /ops/api/export/breakdown.csv", h.exportBreakdown)
	api("GET /ops/api/export/events.csv", h.exportEvents)
	api("GET /ops/api/series", h.apiSeries)
	api("GET /ops/api/items", h.apiItems)
	api("GET /ops/api/items/trend", h.apiTrend)
	api("GET /ops/api/export/items.csv", h.exportItems)
	api("GET /ops/api/export/daily.csv", h.exportDaily)
	api("POST /ops/api/backup", h.apiBackup)

	// Browsers' cross-site state-changing requests are refused before any handler runs, even
	// if the browser would attach cached Basic credentials or the session cookie.
	// Pages, CSS, JS and JSON go compressed to clients that take gzip (with Vary).
	protected := gzhttp.GzipHandler(http.NewCrossOriginProtection().Handler(sub))
	mux.Handle("/ops", securityHeaders(protected))
	mux.Handle("/ops/", securityHeaders(protected))
}

// apiFunc is an admin API handler: it writes its answer, or returns the error to answer with.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// api answers an apiFunc's error once, in JSON; what the read model could not do is logged.
func (h *Handler) api(f apiFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			h.logFailure(r, err)
			jsonhttp.Fail(w, err)
		}
	})
}

// pageFunc is a dashboard page handler for an owner with a session.
type pageFunc func(w http.ResponseWriter, r *http.Request, session string) error

// page answers a pageFunc's error once, as plain text.
func (h *Handler) page(f pageFunc) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, session string) {
		if err := f(w, r, session); err != nil {
			h.logFailure(r, err)
			http.Error(w, jsonhttp.Message(err), jsonhttp.Status(err))
		}
	}
}

// logFailure logs errors that are ours, not the client's.
func (h *Handler) logFailure(r *http.Request, err error) {
	if jsonhttp.Status(err) == http.StatusServiceUnavailable && r.Context().Err() == nil {
		h.cfg.Log.Error("ops "+r.URL.Path, "err", err)
	}
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
