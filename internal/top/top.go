// Package top serves GET /api/top: the most viewed items, from the read model. It is read-side
// code, kept out of the beacon path so that path never loads SQLite.
package top

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/sites"
	"github.com/tallyhq/tally/internal/sqlite"
)

// Lister is the read model as the top list needs it.
type Lister interface {
	Top(ctx context.Context, f sqlite.TopFilter) ([]sqlite.TopItem, error)
}

// MaxLimit bounds ?limit= so one request cannot ask for the whole table.
const MaxLimit = 100

// Handler serves the top list.
type Handler struct {
	db    Lister
	sites sites.List
	log   *slog.Logger
}

// New returns a Handler reading from db.
func New(db Lister, allowed sites.List, log *slog.Logger) *Handler {
	return &Handler{db: db, sites: allowed, log: log}
}

// Register adds GET /api/top to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/top", h.top)
	mux.HandleFunc("OPTIONS /api/top", h.sites.Preflight)
}

type response struct {
	Items []sqlite.TopItem `json:"items"`
}

// top handles GET /api/top?site=&type=&limit=&by=views|likes. Counts are as of the last flush.
func (h *Handler) top(w http.ResponseWriter, r *http.Request) {
	h.sites.CORS(w, r)
	q := r.URL.Query()
	limit := 10
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			jsonhttp.Error(w, http.StatusBadRequest, "limit must be a number from 1 to 100")
			return
		}
		limit = n
	}
	by := q.Get("by")
	if by != "" && by != "views" && by != "likes" {
		jsonhttp.Error(w, http.StatusBadRequest, "by must be views or likes")
		return
	}
	items, err := h.db.Top(r.Context(), sqlite.TopFilter{Site: sites.Normalize(q.Get("site")), Type: q.Get("type"), Limit: limit, By: by})
	if err != nil {
		h.log.Error("top list", "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "temporarily unable to read the top list")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	jsonhttp.Write(w, http.StatusOK, response{Items: items})
}
