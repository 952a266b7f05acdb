// Package top serves GET /api/top: the most viewed items, from the read model. It is read-side
// code, kept out of the beacon path so that path never loads the read model, and it imports no
// store: the read model comes in as a Lister.
package top

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/klauspost/compress/gzhttp"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/sites"
)

// Lister is the read model as the top list needs it.
type Lister interface {
	Top(ctx context.Context, f report.TopFilter) ([]report.TopItem, error)
}

// MaxLimit bounds ?limit= so one request cannot ask for the whole table.
const MaxLimit = 100

// Handler serves the top list.
type Handler struct {
	db        Lister
	sites     sites.List
	log       *slog.Logger
	pageTypes []string
}

// New returns a Handler reading from db. Without ?type=, the list holds only pageTypes (home,
// page and the route types; nil: any type): client events are not views.
func New(db Lister, allowed sites.List, pageTypes []string, log *slog.Logger) *Handler {
	return &Handler{db: db, sites: allowed, pageTypes: pageTypes, log: log}
}

// Register adds GET /api/top to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /api/top", gzhttp.GzipHandler(http.HandlerFunc(h.top)))
	mux.HandleFunc("OPTIONS /api/top", h.sites.Preflight)
}

type topItem struct {
	Site   string `json:"site"`
	Type   string `json:"type"`
	Slug   string `json:"slug"`
	Unique int64  `json:"unique"`
	Total  int64  `json:"total"`
	Likes  int64  `json:"likes"`
}

type response struct {
	Items []topItem `json:"items"`
}

// top handles GET /api/top?site=&type=&limit=&by=views|likes. Counts are as of the last flush.
func (h *Handler) top(w http.ResponseWriter, r *http.Request) {
	h.sites.CORS(w, r)
	items, err := h.list(r)
	if err != nil {
		if jsonhttp.Fail(w, err) == http.StatusServiceUnavailable {
			h.log.Error("top list", "err", err)
		}
		return
	}
	resp := response{Items: make([]topItem, len(items))}
	for i, it := range items {
		resp.Items[i] = topItem{Site: it.Site, Type: it.Type, Slug: it.Slug, Unique: it.Unique, Total: it.Total, Likes: it.Likes}
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	jsonhttp.Write(w, http.StatusOK, resp)
}

func (h *Handler) list(r *http.Request) ([]report.TopItem, error) {
	q := r.URL.Query()
	f := report.TopFilter{Site: item.NormalizeSite(q.Get("site")), Type: q.Get("type"), Limit: 10, By: q.Get("by"), Types: h.pageTypes}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return nil, jsonhttp.Errorf(jsonhttp.Invalid, "limit must be a number from 1 to %d", MaxLimit)
		}
		f.Limit = n
	}
	if f.By != "" && f.By != report.ByViews && f.By != report.ByLikes {
		return nil, jsonhttp.Errorf(jsonhttp.Invalid, "by must be views or likes")
	}
	items, err := h.db.Top(r.Context(), f)
	if err != nil {
		return nil, &jsonhttp.Error{Kind: jsonhttp.Unavailable, Msg: "temporarily unable to read the top list", Err: err}
	}
	return items, nil
}
