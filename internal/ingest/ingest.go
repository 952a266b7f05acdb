// Package ingest is the beacon hot path: it takes page views from browsers, decides whether they
// count, derives the visitor's session id, and hands countable views to the write model. It also
// serves live counts from the write model. It never touches the read model.
package ingest

import (
	"context"
	"hash/maphash"
	"log/slog"
	"net/http"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/clientip"
	"github.com/tallyhq/tally/internal/dimension"
	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/limit"
	"github.com/tallyhq/tally/internal/metrics"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/sites"
)

// Recorder is the write model as the beacon path needs it.
type Recorder interface {
	Record(ctx context.Context, v item.View) error
	Counts(ctx context.Context, it item.Item) (item.Counts, error)
	Like(ctx context.Context, l item.Like) (item.LikeCounts, error)
	Likes(ctx context.Context, it item.Item, sid session.ID) (item.LikeCounts, error)
	// SetLink remembers how a site's beacons name its pages, for the dashboard's links.
	SetLink(ctx context.Context, site, link string) error
}

// Config is what the beacon path needs besides the write model.
type Config struct {
	Rules    *classify.Rules
	Bots     *classify.Bots
	IPs      *clientip.Resolver
	Sessions *session.Deriver // nil when no salt could be had: nothing is counted
	Sites    sites.List       // allowed sites; empty allows any
	LikeCap  int              // likes one visitor may give one item per UTC day; default 16
	// LikeBudget bounds the likes of all visitors of one address (IPv6: /64) for one item per
	// UTC day, since a new User-Agent is a new visitor; default LikeBudgetTimes × LikeCap.
	LikeBudget int
	// VisitorsPerClient, above 0, bounds the visitors one client network (IPv4 /24, IPv6 /48)
	// adds to a site per UTC day: a new User-Agent is a new visitor, so one address could
	// otherwise mint a visitor per User-Agent it invents. 0: no bound.
	VisitorsPerClient int
	Metrics           *metrics.Metrics // nil records nothing
	Now               func() time.Time
	Log               *slog.Logger
	// Clients limits requests per client address, before any costly work; nil: no limit.
	Clients *limit.Clients
	// SessionCap limits the views one session adds to one item per minute, in this process;
	// nil: no cap here.
	SessionCap *limit.PerMinute
	// SharedSessionCap, when above 0, is the same cap kept by a write model that many nodes
	// share (it comes with each view; see item.View.Cap), instead of SessionCap.
	SharedSessionCap int
	// Excluded adds up what was not counted, for the owner's "Not counted" panel; nil: nothing.
	Excluded *excluded.Buffer
	// Dimensions works out each page view's sources and devices; nil: one without GeoIP.
	Dimensions *dimension.Extractor
}

// Handler serves the beacon and live-count endpoints.
type Handler struct {
	rec   Recorder
	cfg   Config
	seed  maphash.Seed // for session-cap keys
	links links
}

// New returns a Handler recording into rec.
func New(rec Recorder, cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LikeCap <= 0 {
		cfg.LikeCap = DefaultLikeCap
	}
	if cfg.Dimensions == nil {
		cfg.Dimensions, _ = dimension.New("") // without a database, New cannot fail
	}
	if cfg.LikeBudget <= 0 {
		cfg.LikeBudget = LikeBudgetTimes * cfg.LikeCap
	}
	return &Handler{rec: rec, cfg: cfg, seed: maphash.MakeSeed()}
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/view", h.view)
	mux.HandleFunc("HEAD /api/view", h.view)
	mux.HandleFunc("OPTIONS /api/view", h.cfg.Sites.Preflight)
	mux.HandleFunc("POST /api/event", h.event)
	mux.HandleFunc("OPTIONS /api/event", h.cfg.Sites.Preflight)
	mux.HandleFunc("GET /api/sid", h.sid)
	mux.HandleFunc("GET /api/view.gif", h.pixel)
	mux.HandleFunc("GET /api/like", h.likeGet)
	mux.HandleFunc("POST /api/like", h.likePost)
	mux.HandleFunc("DELETE /api/like", h.likeDelete)
	mux.HandleFunc("OPTIONS /api/like", h.cfg.Sites.Preflight)
	mux.HandleFunc("GET /api/counts", h.counts)
	mux.HandleFunc("OPTIONS /api/counts", h.cfg.Sites.Preflight)
}

// originAllowed reports whether a write for site may come from the request's Origin. A request
// without Origin (a server, curl) is judged by its URL alone. With --sites, any allowed site may
// send for any other; without, a page may only send for its own site.
func (h *Handler) originAllowed(r *http.Request, site string) bool {
	o, ok := sites.OriginSite(r)
	switch {
	case !ok:
		return false
	case o == "":
		return true
	case h.cfg.Sites.Any():
		return o == site
	default:
		return h.cfg.Sites.Allowed(o)
	}
}

// DefaultLikeCap is how many likes one visitor may give one item per UTC day.
const DefaultLikeCap = 16

// LikeBudgetTimes is the default per-address like budget, in like caps: an office or a family
// behind one address can still like a post together.
const LikeBudgetTimes = 4
