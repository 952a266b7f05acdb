package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
)

// MaxBeaconBytes is the largest beacon body accepted; larger ones get 413.
const MaxBeaconBytes = 4 << 10

const (
	maxURLLength      = 2048
	maxReferrerLength = 2048
)

// errTooLarge marks a body over MaxBeaconBytes.
var errTooLarge = errors.New("beacon larger than 4 KiB")

// decodeBody reads a beacon body into v: a JSON object, sent as JSON or as text/plain by
// navigator.sendBeacon, at most MaxBeaconBytes.
func decodeBody(r *http.Request, v any) error {
	if r.ContentLength > MaxBeaconBytes {
		return errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBeaconBytes+1))
	if err != nil {
		return errors.New("unreadable body")
	}
	if len(body) > MaxBeaconBytes {
		return errTooLarge
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errors.New("body must be a JSON object")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("body must be a JSON object with string fields")
	}
	return nil
}

// badRequest answers a malformed beacon: 413 when too large, else 400, with a JSON reason.
func (h *Handler) badRequest(w http.ResponseWriter, endpoint string, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	h.cfg.Metrics.Rejected(endpoint, status)
	jsonhttp.Error(w, status, err.Error())
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

// admit checks that a well-formed write for page URL u may come from this request: its site
// must be allowed and any Origin header must belong to us. It answers 403 itself and reports
// whether to go on; on success it adds the CORS headers.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, endpoint string, u *url.URL) bool {
	site := item.Site(u)
	msg := ""
	switch {
	case !h.cfg.Sites.Allowed(site):
		msg = "site not allowed"
	case !h.originAllowed(r, site):
		msg = "origin not allowed"
	}
	if msg != "" {
		h.cfg.Metrics.Rejected(endpoint, http.StatusForbidden)
		jsonhttp.Error(w, http.StatusForbidden, msg)
		return false
	}
	h.cfg.Sites.CORS(w, r)
	return true
}
