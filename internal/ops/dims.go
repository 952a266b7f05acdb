package ops

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// span is a period of whole UTC days, first to last inclusive: the last ?days= (today
// included) or ?from= and ?to= (YYYY-MM-DD, at most maxSpanDays, not after today).
type span struct {
	first, last time.Time
	fromTo      bool // given as from and to
}

// custom reports whether the span was given as from and to.
func (s span) custom() bool { return s.fromTo }

const maxSpanDays = 366

func (h *Handler) parseSpan(r *http.Request, def int) (span, error) {
	q := r.URL.Query()
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		first, err1 := session.ParseDay(from)
		last, err2 := session.ParseDay(to)
		switch {
		case err1 != nil || err2 != nil:
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "from and to must both be dates, YYYY-MM-DD")
		case last.Before(first):
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "to is before from")
		case last.Sub(first) >= maxSpanDays*24*time.Hour:
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "at most %d days from from to to", maxSpanDays)
		case last.After(h.today()):
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "to is in the future")
		}
		return span{first: first, last: last, fromTo: true}, nil
	}
	days, err := parsePeriod(q.Get("days"), def)
	if err != nil {
		return span{}, err
	}
	return h.lastDays(days), nil
}

// lastDays is the span of the last n days, today included.
func (h *Handler) lastDays(n int) span {
	today := h.today()
	return span{first: today.AddDate(0, 0, -(n - 1)), last: today}
}

// Days is how many days the span holds.
func (s span) Days() int { return int(s.last.Sub(s.first)/(24*time.Hour)) + 1 }

type breakdownRow struct {
	Value    string `json:"value"`
	Views    int64  `json:"views"`
	Visitors int64  `json:"visitors"`
}

type breakdownResponse struct {
	Dim   string         `json:"dim"`
	Rows  []breakdownRow `json:"rows"`
	Total int64          `json:"total"` // views of every row, those past the limit too
}

// maxBreakdownRows bounds ?limit=; the write model keeps at most that many values a day.
const maxBreakdownRows = 1000

// breakdown reads ?site=&dim=&type=&slug= over the span: a site's rows, or an item's.
func (h *Handler) breakdown(r *http.Request) (breakdownResponse, int, error) {
	q := r.URL.Query()
	d, ok := item.ParseDim(q.Get("dim"))
	if !ok {
		return breakdownResponse{}, 0, jsonhttp.Errorf(jsonhttp.Invalid,
			"dim must be referrer, utm_source, utm_medium, utm_campaign, browser, browser_version, os, device or country")
	}
	sp, err := h.parseSpan(r, defaultPeriod)
	if err != nil {
		return breakdownResponse{}, 0, err
	}
	limit := 100
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > maxBreakdownRows {
			return breakdownResponse{}, 0, jsonhttp.Errorf(jsonhttp.Invalid, "limit must be 1 to %d", maxBreakdownRows)
		}
	}
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(q.Get("site")))
	if err != nil {
		return breakdownResponse{}, 0, err
	}
	dq := report.DimQuery{Site: site, Dim: d.String(), First: sp.first, Last: sp.last}
	if typ := q.Get("type"); typ != "" {
		dq.Type, dq.Slug = typ, q.Get("slug")
	}
	rows, err := h.cfg.Read.Breakdown(r.Context(), dq)
	if err != nil {
		return breakdownResponse{}, 0, err
	}
	out := breakdownResponse{Dim: d.String(), Rows: []breakdownRow{}}
	for _, row := range rows {
		out.Total += row.Views
		out.Rows = append(out.Rows, breakdownRow{Value: row.Value, Views: row.Views, Visitors: row.Visitors})
	}
	return out, limit, nil
}

// apiBreakdown handles GET /ops/api/breakdown: one dimension's values, most views first.
func (h *Handler) apiBreakdown(w http.ResponseWriter, r *http.Request) error {
	out, limit, err := h.breakdown(r)
	if err != nil {
		return err
	}
	out.Rows = out.Rows[:min(limit, len(out.Rows))]
	jsonhttp.Write(w, http.StatusOK, out)
	return nil
}

// exportBreakdown handles GET /ops/api/export/breakdown.csv: every value of the dimension.
func (h *Handler) exportBreakdown(w http.ResponseWriter, r *http.Request) error {
	out, _, err := h.breakdown(r)
	if err != nil {
		return err
	}
	cw := csvResponse(w, "tally-"+out.Dim+".csv")
	cw.Write([]string{out.Dim, "views", "visitors"})
	for _, row := range out.Rows {
		cw.Write(csvRow(row.Value, itoa(row.Views), itoa(row.Visitors)))
	}
	cw.Flush()
	return cw.Error()
}

type eventJSON struct {
	Name          string  `json:"name"`
	Target        string  `json:"target"`
	Count         int64   `json:"count"`
	Visitors      int64   `json:"visitors"`
	ConversionPct float64 `json:"conversion_pct"` // event visitors ÷ site visitors, in percent
}

type eventsResponse struct {
	Site     string      `json:"site"`
	Visitors int64       `json:"visitors"` // the site's visitors in the period
	Events   []eventJSON `json:"events"`
}

// events lists the site's client events over the span, with their conversion rate.
func (h *Handler) events(ctx context.Context, site string, sp span) (eventsResponse, error) {
	out := eventsResponse{Site: site, Events: []eventJSON{}}
	if site == "" {
		return out, nil
	}
	visitors, err := h.visitors(ctx, site, sp)
	if err != nil {
		return out, err
	}
	out.Visitors = visitors
	// Items' own totals are kept for client events only (pages keep their sources).
	rows, err := h.cfg.Read.DimItems(ctx, report.OwnerQuery{Site: site, First: sp.first, Last: sp.last, Limit: maxBreakdownRows})
	if err != nil {
		return out, err
	}
	for _, row := range rows {
		e := eventJSON{Name: row.Type, Target: row.Slug, Count: row.Views, Visitors: row.Visitors}
		if visitors > 0 {
			e.ConversionPct = float64(row.Visitors) / float64(visitors) * 100
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// apiEvents handles GET /ops/api/events?site=&days=.
func (h *Handler) apiEvents(w http.ResponseWriter, r *http.Request) error {
	sp, err := h.parseSpan(r, defaultPeriod)
	if err != nil {
		return err
	}
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(r.URL.Query().Get("site")))
	if err != nil {
		return err
	}
	out, err := h.events(r.Context(), site, sp)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, out)
	return nil
}

// visitors sums the site's visitors per day over the span.
func (h *Handler) visitors(ctx context.Context, site string, sp span) (int64, error) {
	days, err := h.cfg.Read.DimDays(ctx, report.DimQuery{Site: site, First: sp.first, Last: sp.last})
	if err != nil {
		return 0, err
	}
	var n int64
	for _, d := range days {
		n += d.Visitors
	}
	return n, nil
}

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
