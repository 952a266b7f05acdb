package ingest

import (
	"net/http"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/sites"
)

// countsResponse is the live count of one item.
type countsResponse struct {
	Type   string `json:"type"`
	Slug   string `json:"slug"`
	Unique int64  `json:"unique"`
	Total  int64  `json:"total"`
	Likes  int64  `json:"likes"`
}

// counts handles GET /api/counts?url=… or ?site=&type=&slug=: live numbers from the write model,
// zeros for an item never seen. Anyone may read them, bots included.
func (h *Handler) counts(w http.ResponseWriter, r *http.Request) {
	h.cfg.Sites.CORS(w, r)
	it, ok := h.itemFromQuery(w, r)
	if !ok {
		return
	}
	c, err := h.rec.Counts(r.Context(), it)
	if err != nil {
		h.cfg.Log.Error("read live counts", "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "temporarily unable to read counts")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, countsResponse{Type: it.Type, Slug: it.Slug, Unique: c.Unique, Total: c.Total, Likes: c.Likes})
}

// itemFromQuery reads the item from ?url= or ?site=&type=&slug=, answering 400 itself when
// neither is usable.
func (h *Handler) itemFromQuery(w http.ResponseWriter, r *http.Request) (item.Item, bool) {
	q := r.URL.Query()
	if raw := q.Get("url"); raw != "" {
		u, err := parsePageURL(raw)
		if err != nil {
			jsonhttp.Error(w, http.StatusBadRequest, err.Error())
			return item.Item{}, false
		}
		return h.cfg.Rules.Route(u), true
	}
	it := item.Item{Site: sites.Normalize(q.Get("site")), Type: q.Get("type"), Slug: q.Get("slug")}
	if !it.Valid() {
		jsonhttp.Error(w, http.StatusBadRequest, "give url, or site and type (and slug)")
		return item.Item{}, false
	}
	return it, true
}
