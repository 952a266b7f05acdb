package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

// MaxBeaconBytes is the largest beacon body accepted; larger ones get 413.
const MaxBeaconBytes = 4 << 10

const (
	maxURLLength      = 2048
	maxReferrerLength = 2048
)

type beacon struct {
	URL      string `json:"url"`
	Referrer string `json:"referrer"`
}

// errTooLarge marks a body over MaxBeaconBytes.
var errTooLarge = errors.New("beacon larger than 4 KiB")

// readBeacon decodes a beacon body: a JSON object, sent as JSON or as text/plain by
// navigator.sendBeacon. The page URL must be absolute http(s).
func readBeacon(r *http.Request) (beacon, *url.URL, error) {
	if r.ContentLength > MaxBeaconBytes {
		return beacon{}, nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBeaconBytes+1))
	if err != nil {
		return beacon{}, nil, errors.New("unreadable body")
	}
	if len(body) > MaxBeaconBytes {
		return beacon{}, nil, errTooLarge
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return beacon{}, nil, errors.New("body must be a JSON object")
	}
	var b beacon
	if err := json.Unmarshal(body, &b); err != nil {
		return beacon{}, nil, errors.New("body must be a JSON object with a string url")
	}
	u, err := parsePageURL(b.URL)
	if err != nil {
		return beacon{}, nil, err
	}
	if len(b.Referrer) > maxReferrerLength {
		return beacon{}, nil, errors.New("referrer too long")
	}
	return b, u, nil
}

// parsePageURL accepts an absolute http or https URL with a host.
func parsePageURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("url is required")
	}
	if len(s) > maxURLLength {
		return nil, errors.New("url too long")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, errors.New("url must be an absolute http(s) URL")
	}
	if strings.IndexByte(u.Path, 0) >= 0 {
		return nil, errors.New("url must not contain NUL")
	}
	return u, nil
}

// view handles POST /api/view. Malformed beacons get 400 or 413 whoever sends them; beacons for a
// site that is not ours get 403; every other beacon gets the same 204 whether it was counted or
// not, so a bot cannot tell that it was recognised.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	_, u, err := readBeacon(r)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		jsonhttp.Error(w, status, err.Error())
		return
	}
	site := item.Site(u)
	if !h.cfg.Sites.Allowed(site) {
		jsonhttp.Error(w, http.StatusForbidden, "site not allowed")
		return
	}
	if !h.originAllowed(r, site) {
		jsonhttp.Error(w, http.StatusForbidden, "origin not allowed")
		return
	}
	h.cfg.Sites.CORS(w, r)

	it, reason := h.classify(r, u)
	if reason != classify.Countable || h.cfg.Sessions == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, err := h.rec.Record(r.Context(), h.viewOf(r, it)); err != nil {
		// The only time a visitor sees an error: the view could not be made durable, and the
		// client may retry. Never 500 over analytics.
		if r.Context().Err() == nil {
			h.cfg.Log.Error("record view", "site", it.Site, "type", it.Type, "err", err)
		}
		jsonhttp.Error(w, http.StatusServiceUnavailable, "temporarily unable to record")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// classify runs the checks cheapest first: the request, the page, then the User-Agent.
func (h *Handler) classify(r *http.Request, u *url.URL) (item.Item, classify.Reason) {
	if reason := classify.Request(r); reason != classify.Countable {
		return item.Item{}, reason
	}
	it, reason := h.cfg.Rules.Item(u)
	if reason != classify.Countable {
		return item.Item{}, reason
	}
	if h.cfg.Bots.IsBot(r.UserAgent()) {
		return item.Item{}, classify.Bot
	}
	if !it.Valid() {
		return item.Item{}, classify.IgnoredPath
	}
	return it, classify.Countable
}

// viewOf derives the session ids for a countable view. The IP and User-Agent are used here
// and nowhere else, and dropped when the request ends.
func (h *Handler) viewOf(r *http.Request, it item.Item) item.View {
	now := h.cfg.Now().UTC()
	ip := h.cfg.IPs.IP(r).String()
	ua := r.UserAgent()
	v := item.View{Item: it, Session: h.cfg.Sessions.ID(ip, ua, now)}
	midnight := now.Truncate(24 * time.Hour)
	if now.Sub(midnight) < previousDayGrace {
		v.Previous = h.cfg.Sessions.ID(ip, ua, midnight.Add(-time.Nanosecond))
	}
	return v
}
