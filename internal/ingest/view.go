package ingest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"net/url"
	"time"

	"github.com/tallyhq/tally/internal/classify"
	"github.com/tallyhq/tally/internal/dimension"
	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/limit"
	"github.com/tallyhq/tally/internal/session"
)

type viewBeacon struct {
	URL       string `json:"url"`
	Referrer  string `json:"referrer"`
	Webdriver bool   `json:"webdriver"`
}

// sidResponse carries the caller's session id, which client events must send back.
type sidResponse struct {
	SID string `json:"sid"`
}

// view handles POST /api/view. Malformed beacons get 400 or 413 whoever sends them; beacons for a
// site that is not ours get 403; every other beacon gets the same 200 with the caller's session
// id, whether it was counted or not, so a bot cannot tell that it was recognised.
func (h *Handler) view(w http.ResponseWriter, r *http.Request) {
	const endpoint = "view"
	h.cfg.Metrics.Received(endpoint)
	v := h.visitorOf(r)
	if err := h.viewBeacon(w, &v, endpoint); err != nil {
		h.fail(w, r, endpoint, err)
		return
	}
	h.writeSID(w, &v)
}

func (h *Handler) viewBeacon(w http.ResponseWriter, v *visitor, endpoint string) error {
	var b viewBeacon
	if err := decodeBody(v.r, &b); err != nil {
		return err
	}
	u, err := parsePageURL(b.URL)
	if err != nil {
		return err
	}
	if err := h.admit(w, v.r, u); err != nil {
		return err
	}
	// A referrer the visitor's browser made up or cut is not the beacon's fault: it counts
	// as direct, never as a 4xx (see dimension.Referrer).
	v.referrer, v.webdriver = b.Referrer, b.Webdriver
	return h.count(v, endpoint, u, nil)
}

// Reasons for not counting that are not about the request itself.
const (
	rateLimited classify.Reason = "rate_limit"
	sessionCap  classify.Reason = "session_cap"
	webdriver   classify.Reason = "webdriver"
)

// excludedAs names each reason as the owner's "Not counted" panel does (see DESIGN.md); a
// reason missing here (HEAD, no salt) is not the visitors' doing and is only a metric.
var excludedAs = map[classify.Reason]string{
	classify.Bot: excluded.Bot, classify.Prefetch: excluded.Prefetch, rateLimited: excluded.RateLimit,
	sessionCap: excluded.SessionCap, forgedSID: excluded.ForgedSID, foreignOrigin: excluded.ForeignOrigin,
	classify.AdminPath: excluded.ExcludedPath, classify.StaticAsset: excluded.ExcludedPath,
	classify.IgnoredPath: excluded.ExcludedPath, webdriver: excluded.Webdriver,
}

// exclude notes a beacon for page u that was not counted: in the metrics, and for the owner,
// under one vocabulary: the metric's reason label is the "Not counted" reason the API and the
// dashboard show, or, for what is not the visitors' doing (HEAD, no salt), a reason of its own.
func (h *Handler) exclude(vis *visitor, endpoint string, u *url.URL, reason classify.Reason) {
	name, owners := excludedAs[reason]
	if !owners {
		name = string(reason)
	}
	h.cfg.Metrics.Excluded(endpoint, name)
	if owners {
		h.cfg.Excluded.Add(item.Site(u), name, vis.botToken, vis.now)
	}
}

// count records the beacon for page u if it counts (see countable) and the limits allow, and
// notes the outcome in the metrics. The client's rate limit comes first, before any costly
// work; the session cap last, once the session is known. Its only error is a failed write.
func (h *Handler) count(vis *visitor, endpoint string, u *url.URL, it *item.Item) error {
	if !h.allowClient(vis) {
		h.exclude(vis, endpoint, u, rateLimited)
		return nil
	}
	v, reason := h.countable(vis, u, it)
	if reason == classify.Countable && !h.cfg.SessionCap.Allow(h.capKey(v), vis.now) {
		reason = sessionCap
	}
	if reason != classify.Countable {
		h.exclude(vis, endpoint, u, reason)
		return nil
	}
	v.Cap = h.cfg.SharedSessionCap
	err := h.record(vis.r, v)
	if errors.Is(err, item.ErrCapped) {
		h.exclude(vis, endpoint, u, sessionCap)
		return nil
	}
	if err != nil {
		return err
	}
	h.cfg.Metrics.Counted(endpoint)
	if it == nil {
		h.rememberLink(vis, v.Item.Site, u)
	}
	return nil
}

// rememberLink tells the write model how the site names its pages when that changed. Only a
// beacon whose Origin is the page's own origin teaches it: a browser on the site itself sends
// one, while a bare curl (no Origin) or a page elsewhere cannot choose the scheme and port of
// every dashboard link. A failure is logged, not returned: the view is counted, and only the
// dashboard's link is at stake.
func (h *Handler) rememberLink(vis *visitor, site string, u *url.URL) {
	if o, err := url.Parse(vis.r.Header.Get("Origin")); err != nil || o.Host == "" || !sameOrigin(o, u) {
		return
	}
	link, changed := h.links.next(site, u, vis.now)
	if !changed {
		return
	}
	if err := h.rec.SetLink(vis.r.Context(), site, link.String()); err != nil {
		h.links.forget(site)
		h.cfg.Log.Warn("remember how a site names its pages", "site", site, "err", err)
	}
}

// writeSID answers 200 with the visitor's session id ("" when no salt is configured), written
// by hand: it is the answer to every beacon.
func (h *Handler) writeSID(w http.ResponseWriter, v *visitor) {
	b := make([]byte, 0, 48)
	b = append(b, `{"sid":"`...)
	if sid := h.session(v); !sid.IsZero() {
		b = hex.AppendEncode(b, sid[:])
	}
	b = append(b, "\"}\n"...)
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// sid handles GET /api/sid: the caller's own session id, for pages that send client events.
func (h *Handler) sid(w http.ResponseWriter, r *http.Request) {
	h.cfg.Sites.CORS(w, r)
	v := h.visitorOf(r)
	h.writeSID(w, &v)
}

// allowClient applies the per-client rate limit.
func (h *Handler) allowClient(v *visitor) bool {
	return h.cfg.Clients.Allow(v.ip, v.now)
}

// capKey identifies a session and an item for the per-minute cap.
func (h *Handler) capKey(v item.View) uint64 {
	var m maphash.Hash
	m.SetSeed(h.seed)
	m.Write(v.Session[:])
	m.Write(v.Item.Key())
	return m.Sum64()
}

// referrerSpam is the "bot" a view from a host on the referrer spam list is counted as not
// counted under: such views are made to put the spammer's name in the owner's sources.
const referrerSpam = "referrer-spam"

// noSalt is why nothing is counted when no salt could be had.
const noSalt classify.Reason = "no_salt"

// countable classifies a beacon for page u, cheapest check first: the request, the page, the
// User-Agent. For a countable one it returns the view to record, with the item mapped from u
// unless it is given; otherwise why it does not count. The IP and User-Agent go into the
// session ids and nowhere else.
func (h *Handler) countable(vis *visitor, u *url.URL, it *item.Item) (item.View, classify.Reason) {
	if reason := classify.Request(vis.r); reason != classify.Countable {
		return item.View{}, reason
	}
	page, reason := h.cfg.Rules.Item(u)
	if reason != classify.Countable {
		return item.View{}, reason
	}
	if it != nil {
		page = *it
	}
	if !page.Valid() {
		return item.View{}, classify.IgnoredPath
	}
	if vis.webdriver {
		return item.View{}, webdriver
	}
	verdict := h.cfg.Bots.Inspect(vis.r.UserAgent())
	if verdict.Bot {
		vis.botToken = verdict.Token
		return item.View{}, classify.Bot
	}
	if h.cfg.Sessions == nil {
		return item.View{}, noSalt
	}
	v := item.View{Item: page, Session: h.session(vis)}
	if it == nil {
		ref, spam := dimension.Referrer(vis.referrer, page.Site)
		if spam {
			vis.botToken = referrerSpam
			return item.View{}, classify.Bot
		}
		v.Page = true
		v.Dims = h.cfg.Dimensions.Dims(ref, u, verdict.Agent, vis.ip)
		v.Network = h.cfg.Sessions.IDAddr(limit.Network(vis.ip), "network", vis.now)
		v.VisitorCap = h.cfg.VisitorsPerClient
	}
	if prev, ok := h.previousSession(vis); ok {
		v.Previous = prev
	}
	return v, classify.Countable
}

// previousDay returns a time on the day before now while yesterday's ids are still honoured.
func previousDay(now time.Time) (time.Time, bool) {
	midnight := session.Day(now)
	if now.Sub(midnight) >= session.PreviousDayGrace {
		return time.Time{}, false
	}
	return midnight.Add(-time.Nanosecond), true
}

// record makes v durable.
func (h *Handler) record(r *http.Request, v item.View) error {
	start := time.Now()
	err := h.rec.Record(r.Context(), v)
	h.cfg.Metrics.Recorded(time.Since(start))
	if errors.Is(err, item.ErrCapped) {
		return err
	}
	if err != nil {
		return unavailable(fmt.Errorf("record view of %s/%s: %w", v.Item.Site, v.Item.Type, err))
	}
	return nil
}

// matchesSession reports whether sid is the visitor's session id today, or yesterday's during
// the grace period after midnight.
func (h *Handler) matchesSession(v *visitor, sid session.ID) bool {
	if h.session(v) == sid {
		return true
	}
	prev, ok := h.previousSession(v)
	return ok && prev == sid
}

// sameOrigin reports whether an Origin header names the origin of page u, as item.Link writes
// origins (lower case, without a default port).
func sameOrigin(origin, u *url.URL) bool {
	o, _ := item.LinkOf(origin)
	p, _ := item.LinkOf(u)
	return o.Origin == p.Origin
}
