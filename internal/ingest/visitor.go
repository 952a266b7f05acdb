package ingest

import (
	"net/http"
	"net/netip"
	"time"

	"github.com/tallyhq/tally/internal/session"
)

// visitor is who sent a request, worked out once per request: the address (behind trusted
// proxies), the time, and the session id when first needed. The address and User-Agent never
// leave this value.
type visitor struct {
	r      *http.Request
	ip     netip.Addr
	now    time.Time
	sid    session.ID
	hasSID bool
	// webdriver: the page said navigator.webdriver is set (a browser under automation).
	webdriver bool
	// botToken names the bot, once the User-Agent was found to be one.
	botToken string
	// referrer is what the page's beacon said referred the reader; only its host is kept,
	// and only as a dimension of the view.
	referrer string
}

func (h *Handler) visitorOf(r *http.Request) visitor {
	return visitor{r: r, ip: h.cfg.IPs.IP(r), now: h.cfg.Now().UTC()}
}

// session returns the visitor's session id today; zero when no salt is configured.
func (h *Handler) session(v *visitor) session.ID {
	if h.cfg.Sessions == nil {
		return session.ID{}
	}
	if !v.hasSID {
		v.sid, v.hasSID = h.cfg.Sessions.IDAddr(v.ip, v.r.UserAgent(), v.now), true
	}
	return v.sid
}

// previousSession returns the visitor's id of yesterday while it is still honoured.
func (h *Handler) previousSession(v *visitor) (session.ID, bool) {
	prev, ok := previousDay(v.now)
	if !ok || h.cfg.Sessions == nil {
		return session.ID{}, false
	}
	return h.cfg.Sessions.IDAddr(v.ip, v.r.UserAgent(), prev), true
}
