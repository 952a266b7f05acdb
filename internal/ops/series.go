package ops

import (
	"context"
	"net/http"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

type seriesResponse struct {
	Site string  `json:"site"`
	Type string  `json:"type,omitempty"`
	Slug string  `json:"slug,omitempty"`
	Days []Point `json:"days"`
}

// seriesQuery is what the series, the trend and the daily export share: ?site= (default the
// most viewed), ?days= (one of periods, default def), ?type= and ?slug= (one item when type is
// given).
type seriesQuery struct {
	site string
	typ  string
	slug string
	days int
}

func (h *Handler) parseSeriesQuery(r *http.Request, def int) (seriesQuery, error) {
	q := r.URL.Query()
	days, err := parsePeriod(q.Get("days"), def)
	if err != nil {
		return seriesQuery{}, err
	}
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(q.Get("site")))
	if err != nil {
		return seriesQuery{}, err
	}
	return seriesQuery{site: site, typ: q.Get("type"), slug: q.Get("slug"), days: days}, nil
}

// points returns views per day over the last days: the whole site's, or one item's when typ is
// given.
func (h *Handler) points(r *http.Request, q seriesQuery) ([]Point, error) {
	if q.typ != "" {
		p, _, err := h.itemSeries(r.Context(), item.Item{Site: q.site, Type: q.typ, Slug: q.slug}, q.days)
		return p, err
	}
	cur, err := h.cfg.Read.Site(r.Context(), q.site)
	if err != nil {
		return nil, err
	}
	return h.siteSeries(r.Context(), q.site, q.days, cur.ByType.Only(h.cfg.PageTypes).Sum())
}

// apiSeries handles GET /ops/api/series?site=&days=14: views per day, today last.
func (h *Handler) apiSeries(w http.ResponseWriter, r *http.Request) error {
	q, err := h.parseSeriesQuery(r, defaultPeriod)
	if err != nil {
		return err
	}
	q.typ = ""
	points, err := h.points(r, q)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, seriesResponse{Site: q.site, Days: points})
	return nil
}

// Point is one day of a series: views that day (a difference of two cumulative snapshots).
type Point struct {
	Date    string `json:"date"`
	Total   int64  `json:"total"`
	Unique  int64  `json:"unique"`
	Partial bool   `json:"partial,omitempty"` // today, counted up to the last flush
}

// siteSeries returns the views of each of the last n days, today last (so far); current is
// the site's page views now.
func (h *Handler) siteSeries(ctx context.Context, site string, n int, current report.Totals) ([]Point, error) {
	today := h.today()
	cum, err := h.cfg.Read.SiteSeries(ctx, site, h.cfg.PageTypes, today.AddDate(0, 0, -n), today.AddDate(0, 0, -1))
	if err != nil {
		return nil, err
	}
	return deltas(cum, current), nil
}

// itemSeries returns one item's views on each of the last n days, today last.
func (h *Handler) itemSeries(ctx context.Context, it item.Item, n int) ([]Point, report.ItemRow, error) {
	today := h.today()
	row, _, err := h.cfg.Read.Item(ctx, it)
	if err != nil {
		return nil, row, err
	}
	cum, err := h.cfg.Read.ItemSeries(ctx, it, today.AddDate(0, 0, -n), today.AddDate(0, 0, -1))
	if err != nil {
		return nil, row, err
	}
	return deltas(cum, report.Totals{Unique: row.Unique, Total: row.Total}), row, nil
}

// deltas turns end-of-day cumulative counts — a baseline day, then one per day up to
// yesterday — and today's current counts into views per day. A day without a snapshot carries
// the last known value forward (nothing was recorded); before the first snapshot, counts are 0.
// Today can briefly trail yesterday's snapshot (taken from the write model, ahead of the last
// flush), so a day never goes below zero.
func deltas(cum []report.DayPoint, current report.Totals) []Point {
	values := make([]report.Totals, 0, len(cum)+1)
	var last report.Totals
	for _, p := range cum {
		if p.Known {
			last = p.Totals
		}
		values = append(values, last)
	}
	values = append(values, current)
	out := make([]Point, 0, len(cum))
	for i := 1; i < len(values); i++ {
		date := ""
		if i < len(cum) {
			date = cum[i].Date
		} else {
			d, _ := time.Parse(time.DateOnly, cum[len(cum)-1].Date)
			date = session.FormatDay(d.AddDate(0, 0, 1))
		}
		out = append(out, Point{
			Date:    date,
			Total:   max(0, values[i].Total-values[i-1].Total),
			Unique:  max(0, values[i].Unique-values[i-1].Unique),
			Partial: i == len(values)-1,
		})
	}
	return out
}
