package ingest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/limit"
	"github.com/tallyhq/tally/internal/session"
)

// likeResponse is what the button shows; cap tells it where the summit is.
type likeResponse struct {
	User  int   `json:"user"`
	Total int64 `json:"total"`
	Cap   int   `json:"cap"`
}

type likeBody struct {
	URL   string `json:"url"`
	Count *int   `json:"count"`
}

// The like button's endpoints. The item is the page URL in the JSON body or in ?url=. Every
// well-formed request is answered with the numbers the button should show,
// {"user": n, "total": N, "cap": 16}; bots, excluded pages and over-the-cap presses change
// nothing and get the current numbers.

// likeGet handles GET /api/like: this visitor's likes of the item today and its total.
func (h *Handler) likeGet(w http.ResponseWriter, r *http.Request) {
	h.cfg.Sites.CORS(w, r) // reads answer everyone
	u, _, err := h.readLike(r)
	var counts item.LikeCounts
	if err == nil {
		v := h.visitorOf(r)
		counts, err = h.rec.Likes(r.Context(), h.cfg.Rules.Route(u), h.session(&v))
		if err != nil {
			err = unavailable(fmt.Errorf("read likes: %w", err))
		}
	}
	h.answerLike(w, r, counts, err)
}

// likePost handles POST /api/like: adds count likes (default 1), up to the visitor's daily cap.
func (h *Handler) likePost(w http.ResponseWriter, r *http.Request) {
	h.changeLike(w, r, func(count int) int { return count })
}

// likeDelete handles DELETE /api/like: takes back one of this visitor's likes of today.
func (h *Handler) likeDelete(w http.ResponseWriter, r *http.Request) {
	h.changeLike(w, r, func(int) int { return -1 })
}

// changeLike applies a press when it counts, and otherwise only reads the numbers to show:
// one store call either way.
func (h *Handler) changeLike(w http.ResponseWriter, r *http.Request, delta func(count int) int) {
	const endpoint = "like"
	h.cfg.Metrics.Received(endpoint)
	u, count, err := h.readLike(r)
	if err == nil {
		err = h.admit(w, r, u)
	}
	if err != nil {
		h.answerLike(w, r, item.LikeCounts{}, err)
		return
	}
	page := h.cfg.Rules.Route(u)
	v := h.visitorOf(r)
	reason := rateLimited
	if h.allowClient(&v) {
		_, reason = h.countable(&v, u, nil)
	}
	var counts item.LikeCounts
	if reason == classify.Countable {
		counts, err = h.rec.Like(r.Context(), item.Like{Item: page, Session: h.session(&v), Delta: delta(count),
			Cap: h.cfg.LikeCap, Client: h.clientID(&v), Budget: h.cfg.LikeBudget})
		if err == nil {
			h.cfg.Metrics.Counted(endpoint)
		}
	} else {
		h.cfg.Metrics.Excluded(endpoint, string(reason))
		counts, err = h.rec.Likes(r.Context(), page, h.session(&v))
	}
	if err != nil {
		err = unavailable(fmt.Errorf("like %s/%s: %w", page.Site, page.Type, err))
	}
	h.answerLike(w, r, counts, err)
}

func (h *Handler) answerLike(w http.ResponseWriter, r *http.Request, counts item.LikeCounts, err error) {
	if err != nil {
		h.fail(w, r, "like", err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	jsonhttp.Write(w, http.StatusOK, likeResponse{User: counts.User, Total: counts.Total, Cap: h.cfg.LikeCap})
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
			return nil, 0, invalid("count must be a number")
		}
	}
	if count < 1 || count > h.cfg.LikeCap {
		return nil, 0, invalid("count must be from 1 to the like cap (" + strconv.Itoa(h.cfg.LikeCap) + ")")
	}
	return u, count, nil
}

// clientID is the like budget's id of the visitor's address block (limit.Block): derived like
// a session id, with the salt and the day, so no address is stored and ids change daily.
func (h *Handler) clientID(v *visitor) session.ID {
	return h.cfg.Sessions.IDAddr(limit.Block(v.ip), "like budget", v.now)
}
