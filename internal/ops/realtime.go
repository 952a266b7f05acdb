package ops

import (
	"net/http"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

type livePage struct {
	Type  string `json:"type"`
	Slug  string `json:"slug"`
	Views int64  `json:"views"`
}

type realtimeResponse struct {
	Site     string     `json:"site"`
	Views    int64      `json:"views_30m"`
	Visitors int64      `json:"visitors_30m"`
	Pages    []livePage `json:"pages"`
}

// maxLivePages bounds the pages of /ops/api/realtime.
const maxLivePages = 20

// apiRealtime handles GET /ops/api/realtime?site=: the last 30 minutes, live from the write
// model, not waiting for a flush.
func (h *Handler) apiRealtime(w http.ResponseWriter, r *http.Request) error {
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(r.URL.Query().Get("site")))
	if err != nil {
		return err
	}
	out := realtimeResponse{Site: site, Pages: []livePage{}}
	if site != "" && h.cfg.Realtime != nil {
		live, err := h.cfg.Realtime(r.Context(), site)
		if err != nil {
			return err
		}
		out.Views, out.Visitors = live.Views, live.Visitors
		for _, p := range live.Pages[:min(maxLivePages, len(live.Pages))] {
			out.Pages = append(out.Pages, livePage{Type: p.Item.Type, Slug: p.Item.Slug, Views: p.Views})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, out)
	return nil
}
