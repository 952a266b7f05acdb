package ops

import (
	"context"
	"net/http"
	"strconv"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

type eventJSON struct {
	Name          string  `json:"name"`
	Target        string  `json:"target"`
	Count         int64   `json:"count"`
	Visitors      int64   `json:"visitors"`
	ConversionPct float64 `json:"conversion_pct"` // event visitors ÷ site visitors, in percent, one decimal
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
			e.ConversionPct = round1(float64(row.Visitors) / float64(visitors) * 100)
		}
		out.Events = append(out.Events, e)
	}
	return out, nil
}

// eventsOf answers the events of the request's site and period.
func (h *Handler) eventsOf(r *http.Request) (eventsResponse, error) {
	sp, err := h.parseSpan(r, defaultPeriod)
	if err != nil {
		return eventsResponse{}, err
	}
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(r.URL.Query().Get("site")))
	if err != nil {
		return eventsResponse{}, err
	}
	return h.events(r.Context(), site, sp)
}

// apiEvents handles GET /ops/api/events?site=&days=.
func (h *Handler) apiEvents(w http.ResponseWriter, r *http.Request) error {
	out, err := h.eventsOf(r)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, out)
	return nil
}

// exportEvents handles GET /ops/api/export/events.csv: the same as CSV.
func (h *Handler) exportEvents(w http.ResponseWriter, r *http.Request) error {
	out, err := h.eventsOf(r)
	if err != nil {
		return err
	}
	cw := csvResponse(w, "tally-events-"+out.Site+".csv")
	cw.Write([]string{"name", "target", "count", "visitors", "conversion_pct"})
	for _, e := range out.Events {
		cw.Write(csvRow(e.Name, e.Target, itoa(e.Count), itoa(e.Visitors), strconv.FormatFloat(e.ConversionPct, 'f', 1, 64)))
	}
	cw.Flush()
	return cw.Error()
}
