package ingest

import (
	"net/http"
	"net/url"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
)

// transparentGIF is the smallest valid 1×1 transparent GIF.
var transparentGIF = []byte{
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
}

// pixel handles GET /api/view.gif?url=…: a view from a browser without JavaScript, through a
// <noscript><img></noscript>. Without ?url= the Referer names the page. It answers a 1×1 GIF
// that is never cached, so each page view loads it again.
func (h *Handler) pixel(w http.ResponseWriter, r *http.Request) {
	const endpoint = "pixel"
	h.cfg.Metrics.Received(endpoint)
	if err := h.pixelBeacon(w, r, endpoint); err != nil {
		h.fail(w, r, endpoint, err)
		return
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	w.Write(transparentGIF)
}

func (h *Handler) pixelBeacon(w http.ResponseWriter, r *http.Request, endpoint string) error {
	raw := r.URL.Query().Get("url")
	if raw == "" {
		raw = r.Referer()
	}
	u, err := parsePageURL(raw)
	if err != nil {
		return err
	}
	if err := h.admit(w, r, u); err != nil {
		return err
	}
	// An <img> sends no Origin, but it sends the page it is on as Referer: a pixel for our
	// page embedded in somebody else's page must not turn their visitors into our views.
	v := h.visitorOf(r)
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host != "" && item.Site(ref) != item.Site(u) {
		h.exclude(&v, endpoint, u, foreignOrigin)
		return nil
	}
	return h.count(&v, endpoint, u, nil)
}

// foreignOrigin is why a pixel embedded in another site's page is not counted.
const foreignOrigin classify.Reason = "foreign_origin"
