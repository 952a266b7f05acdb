package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

// MaxBeaconBytes is the largest beacon body accepted; larger ones get 413.
const MaxBeaconBytes = 4 << 10

const maxURLLength = 2048

var (
	errTooLarge = jsonhttp.Errorf(jsonhttp.TooLarge, "beacon larger than 4 KiB")
	errNotJSON  = jsonhttp.Errorf(jsonhttp.Invalid, "body must be a JSON object")
)

func invalid(msg string) error { return jsonhttp.Errorf(jsonhttp.Invalid, "%s", msg) }

// decodeBody reads a beacon body into v: a JSON object, sent as JSON or as text/plain by
// navigator.sendBeacon, at most MaxBeaconBytes.
func decodeBody(r *http.Request, v any) error {
	if r.ContentLength > MaxBeaconBytes {
		return errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBeaconBytes+1))
	if err != nil {
		return invalid("unreadable body")
	}
	if len(body) > MaxBeaconBytes {
		return errTooLarge
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errNotJSON
	}
	if err := json.Unmarshal(body, v); err != nil {
		return invalid("body must be a JSON object with string fields")
	}
	return nil
}

// fail answers a beacon endpoint's error once: its status and JSON reason, a metric, and a log
// line for what was our fault (a write model that could not record).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, endpoint string, err error) {
	if o := r.Header.Get("Origin"); o != "" && jsonhttp.Status(err) == http.StatusForbidden {
		// The refused page may read why (the body is one sentence, no data), so t.js and
		// like.js can tell the owner in the console what to change.
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Add("Vary", "Origin")
	}
	status := jsonhttp.Fail(w, err)
	h.cfg.Metrics.Rejected(endpoint, status)
	if status == http.StatusServiceUnavailable && r.Context().Err() == nil {
		h.cfg.Log.Error("beacon not recorded", "endpoint", endpoint, "err", err)
	}
}

// unavailable marks a write model failure: the only time a visitor sees an error, so the
// client may retry. Never 500 over analytics.
func unavailable(err error) error {
	return &jsonhttp.Error{Kind: jsonhttp.Unavailable, Msg: "temporarily unable to record", Err: err}
}

// parsePageURL accepts an absolute http or https URL with a host.
func parsePageURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, invalid("url is required")
	}
	if len(s) > maxURLLength {
		return nil, invalid("url too long")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, invalid("url must be an absolute http(s) URL")
	}
	if !item.ValidHost(item.Site(u)) {
		return nil, invalid("url's host must be a DNS name or an IP address without a zone")
	}
	if !item.ValidText(u.Path) {
		return nil, invalid("url's path must be UTF-8 text without control or invisible characters")
	}
	return u, nil
}

// admit checks that a well-formed write for page URL u may come from this request: its site
// must be allowed and any Origin header must belong to us. On success it adds the CORS headers.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, u *url.URL) error {
	site := item.Site(u)
	switch {
	case !h.cfg.Sites.Allowed(site):
		return jsonhttp.Errorf(jsonhttp.Forbidden, "site not allowed")
	case !h.originAllowed(r, site):
		// The site is ours: its owner should see that pages elsewhere send beacons for it.
		h.cfg.Excluded.Add(site, excluded.ForeignOrigin, "", h.cfg.Now())
		return jsonhttp.Errorf(jsonhttp.Forbidden, "origin not allowed")
	}
	h.cfg.Sites.CORS(w, r)
	return nil
}
