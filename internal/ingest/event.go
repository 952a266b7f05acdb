package ingest

import (
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/session"
)

type eventBeacon struct {
	URL    string `json:"url"`
	Name   string `json:"name"`
	Target string `json:"target"`
	SID    string `json:"sid"`
}

// forgedSID is why an event whose session id is not the sender's own is dropped.
const forgedSID classify.Reason = "forged_sid"

const (
	maxNameLength   = 64
	maxTargetLength = 256
)

// event handles POST /api/event: a client event (a gallery opened, a résumé downloaded),
// counted under type name and slug target on the page's site, with the same dedup as views.
// The session id must be the one the server derives for this very request; a forged or stale
// one is dropped silently, with the same 204 as a recorded event.
func (h *Handler) event(w http.ResponseWriter, r *http.Request) {
	const endpoint = "event"
	h.cfg.Metrics.Received(endpoint)
	if err := h.eventBeacon(w, r, endpoint); err != nil {
		h.fail(w, r, endpoint, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) eventBeacon(w http.ResponseWriter, r *http.Request, endpoint string) error {
	var b eventBeacon
	u, sid, err := h.readEvent(r, &b)
	if err != nil {
		return err
	}
	if err := h.admit(w, r, u); err != nil {
		return err
	}
	it := item.Item{Site: item.Site(u), Type: b.Name, Slug: b.Target}
	v := h.visitorOf(r)
	if h.cfg.Sessions != nil && !h.matchesSession(&v, sid) {
		h.exclude(&v, endpoint, u, forgedSID)
		return nil
	}
	return h.count(&v, endpoint, u, &it)
}

func (h *Handler) readEvent(r *http.Request, b *eventBeacon) (*url.URL, session.ID, error) {
	if err := decodeBody(r, b); err != nil {
		return nil, session.ID{}, err
	}
	u, err := parsePageURL(b.URL)
	if err != nil {
		return nil, session.ID{}, err
	}
	if err := h.validName(b.Name); err != nil {
		return nil, session.ID{}, err
	}
	if err := validTarget(b.Target); err != nil {
		return nil, session.ID{}, err
	}
	sid, err := session.ParseID(b.SID)
	if err != nil {
		return nil, session.ID{}, invalid("sid must be the 32 hex digits from /api/sid")
	}
	return u, sid, nil
}

// validName accepts lower-case letters, digits, '_' and '-', and refuses the types pages are
// counted under, so an event can never add to a page's views.
func (h *Handler) validName(name string) error {
	if name == "" || len(name) > maxNameLength {
		return invalid("name must be 1 to 64 characters")
	}
	for i, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '_' || c == '-'))
		if !ok {
			return invalid("name may hold only a-z, 0-9, _ and -, starting with a letter or digit")
		}
	}
	if h.cfg.Rules.IsPageType(name) {
		return invalid("name " + name + " is a page type; pick an event name such as resume_download")
	}
	return nil
}

// validTarget accepts up to 256 bytes of printable UTF-8.
func validTarget(target string) error {
	if target == "" || len(target) > maxTargetLength {
		return invalid("target must be 1 to 256 bytes")
	}
	if !utf8.ValidString(target) {
		return invalid("target must be UTF-8")
	}
	for _, c := range target {
		if !unicode.IsPrint(c) {
			return invalid("target must be printable text")
		}
	}
	if !item.ValidText(target) {
		return invalid("target must not hold invisible characters")
	}
	return nil
}
