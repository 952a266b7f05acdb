package ingest

import (
	"fmt"
	"net/http"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
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
	it, err := h.itemFromQuery(r)
	var c item.Counts
	if err == nil {
		if c, err = h.rec.Counts(r.Context(), it); err != nil {
			err = &jsonhttp.Error{Kind: jsonhttp.Unavailable, Msg: "temporarily unable to read counts", Err: fmt.Errorf("read live counts: %w", err)}
		}
	}
	if err != nil {
		h.fail(w, r, "counts", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, countsResponse{Type: it.Type, Slug: it.Slug, Unique: c.Unique, Total: c.Total, Likes: c.Likes})
}

// itemFromQuery reads the item from ?url= or ?site=&type=&slug=.
func (h *Handler) itemFromQuery(r *http.Request) (item.Item, error) {
	q := r.URL.Query()
	if raw := q.Get("url"); raw != "" {
		u, err := parsePageURL(raw)
		if err != nil {
			return item.Item{}, err
		}
		return h.cfg.Rules.Route(u), nil
	}
	it := item.Item{Site: item.NormalizeSite(q.Get("site")), Type: q.Get("type"), Slug: q.Get("slug")}
	if !it.Valid() {
		return item.Item{}, invalid("give url, or site and type (and slug)")
	}
	return it, nil
}
