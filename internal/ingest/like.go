package ingest

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

// likeResponse is what the button shows; cap tells it where the summit is.
type likeResponse struct {
	item.LikeCounts
	Cap int `json:"cap"`
}

type likeBody struct {
	URL   string `json:"url"`
	Count *int   `json:"count"`
}

// like handles GET, POST and DELETE /api/like: read, add (up to the visitor's daily cap) or
// take back one of this visitor's likes. The item is the page URL in the JSON body or in
// ?url=. Every well-formed request is answered with the numbers the button should show,
// {"user": n, "total": N, "cap": 16}; bots, excluded pages and over-the-cap presses change nothing.
func (h *Handler) like(w http.ResponseWriter, r *http.Request) {
	const endpoint = "like"
	if r.Method != http.MethodGet {
		h.cfg.Metrics.Received(endpoint)
	}
	u, count, err := h.readLike(r)
	if err != nil {
		h.badRequest(w, endpoint, err)
		return
	}
	if r.Method == http.MethodGet {
		h.cfg.Sites.CORS(w, r) // reads answer everyone
	} else if !h.admit(w, r, endpoint, u) {
		return
	}
	page := h.cfg.Rules.Route(u)
	v := h.visitorOf(r)
	sid := h.session(&v)
	counts, err := h.rec.Likes(r.Context(), page, sid)
	if err == nil && r.Method != http.MethodGet {
		reason := rateLimited
		if h.allowClient(&v) {
			_, reason = h.countable(&v, u, nil)
		}
		if reason != classify.Countable {
			h.cfg.Metrics.Excluded(endpoint, string(reason))
		} else {
			delta := count
			if r.Method == http.MethodDelete {
				delta = -1
			}
			counts, err = h.rec.Like(r.Context(), item.Like{Item: page, Session: sid, Delta: delta, Cap: h.cfg.LikeCap})
			if err == nil {
				h.cfg.Metrics.Counted(endpoint)
			}
		}
	}
	if err != nil {
		if r.Context().Err() == nil {
			h.cfg.Log.Error("like", "site", page.Site, "type", page.Type, "err", err)
		}
		h.cfg.Metrics.Rejected(endpoint, http.StatusServiceUnavailable)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "temporarily unable to record")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, likeResponse{LikeCounts: counts, Cap: h.cfg.LikeCap})
}

// readLike reads the page URL and the number of presses from the body or the query.
func (h *Handler) readLike(r *http.Request) (*url.URL, int, error) {
	var b likeBody
	if r.Method != http.MethodGet && (r.ContentLength > 0 || r.ContentLength == -1) {
		if err := decodeBody(r, &b); err != nil {
			return nil, 0, err
		}
	}
	q := r.URL.Query()
	if b.URL == "" {
		b.URL = q.Get("url")
	}
	u, err := parsePageURL(b.URL)
	if err != nil {
		return nil, 0, err
	}
	count := 1
	if b.Count != nil {
		count = *b.Count
	} else if s := q.Get("count"); s != "" {
		if count, err = strconv.Atoi(s); err != nil {
			return nil, 0, errors.New("count must be a number")
		}
	}
	if count < 1 || count > h.cfg.LikeCap {
		return nil, 0, errors.New("count must be from 1 to the like cap (" + strconv.Itoa(h.cfg.LikeCap) + ")")
	}
	return u, count, nil
}
