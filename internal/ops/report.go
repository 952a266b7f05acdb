package ops

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// Periods the dashboard offers, in days.
var periods = []int{7, 14, 30, 90}

const (
	defaultPeriod = 14
	itemsPerPage  = 50
	trendDays     = 30
	exportDays    = 90
	recentDays    = 7
)

// parsePeriod reads a ?days= value: one of periods, or def when empty. Every endpoint that
// takes a period checks it here, so none answers for another period than it was asked.
func parsePeriod(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !slices.Contains(periods, n) {
		return 0, jsonhttp.Errorf(jsonhttp.Invalid, "days must be 7, 14, 30 or 90")
	}
	return n, nil
}

// Summary is what the KPI tiles and the donut show.
type Summary struct {
	Site       string      `json:"site"`
	Sites      []string    `json:"sites"`
	Days       int         `json:"days"`
	First      string      `json:"from,omitempty"` // a custom period's first day
	Last       string      `json:"to,omitempty"`   // and last day
	Total      int64       `json:"total"`
	Unique     int64       `json:"unique"`
	Visitors   int64       `json:"visitors"` // each visitor once per site and UTC day, over the period
	Today      int64       `json:"views_today"`
	Yesterday  int64       `json:"views_yesterday"`
	Period     int64       `json:"views_period"`
	Previous   int64       `json:"views_previous_period"`
	ChangePct  *float64    `json:"change_pct"` // null when the previous period had no views
	Items      int         `json:"items"`
	Likes      int64       `json:"likes"`
	LastFlush  *time.Time  `json:"last_flush"` // null before the first flush
	ByType     []TypeViews `json:"by_type"`    // views in the period, most first
	MostLiked  []LikedItem `json:"most_liked"` // up to 5 items with likes
	GeneratedU time.Time   `json:"generated_at"`
	series     []Point     // views per day over twice the period, today last
}

// LikedItem is one line of the "most liked" list.
type LikedItem struct {
	Site  string `json:"site"`
	Type  string `json:"type"`
	Slug  string `json:"slug"`
	Likes int64  `json:"likes"`
}

// TypeViews is one slice of the donut.
type TypeViews struct {
	Type  string `json:"type"`
	Views int64  `json:"views"`
}

// Point is one day of a series: views that day (a difference of two cumulative snapshots).
type Point struct {
	Date    string `json:"date"`
	Total   int64  `json:"total"`
	Unique  int64  `json:"unique"`
	Partial bool   `json:"partial,omitempty"` // today, counted up to the last flush
}

// today is midnight UTC of the current day.
func (h *Handler) today() time.Time { return session.Day(h.cfg.Now()) }

// pickSite returns site if given, else the most viewed one.
func (h *Handler) pickSite(ctx context.Context, site string) (string, []string, error) {
	sites, err := h.cfg.Read.Sites(ctx)
	if err != nil {
		return "", nil, err
	}
	if site == "" && len(sites) > 0 {
		site = sites[0]
	}
	return site, sites, nil
}

// summary computes the tiles for site over the span, and the same number of days before it.
func (h *Handler) summary(ctx context.Context, site string, sp span) (Summary, error) {
	site, sites, err := h.pickSite(ctx, site)
	if err != nil {
		return Summary{}, err
	}
	days := sp.Days()
	s := Summary{Site: site, Sites: sites, Days: days, GeneratedU: h.cfg.Now().UTC()}
	if sp.custom() {
		s.First, s.Last = session.FormatDay(sp.first), session.FormatDay(sp.last)
	}
	cur, err := h.cfg.Read.Site(ctx, site)
	if err != nil {
		return Summary{}, err
	}
	pages := cur.ByType.Only(h.cfg.PageTypes)
	current := pages.Sum()
	s.Total, s.Unique, s.Items, s.Likes = current.Total, current.Unique, cur.Items(h.cfg.PageTypes), cur.Likes
	if s.Likes > 0 {
		liked, err := h.cfg.Read.Top(ctx, report.TopFilter{Site: site, Limit: 5, By: report.ByLikes, Types: h.cfg.PageTypes})
		if err != nil {
			return Summary{}, err
		}
		for _, it := range liked {
			if it.Likes > 0 {
				s.MostLiked = append(s.MostLiked, LikedItem{Site: it.Site, Type: it.Type, Slug: it.Slug, Likes: it.Likes})
			}
		}
	}

	// Every day from the one before the span's twin up to today: the span, the days before it,
	// and today and yesterday for their tiles.
	today := h.today()
	toToday := int(today.Sub(sp.first)/(24*time.Hour)) + 1
	points, err := h.siteSeries(ctx, site, max(toToday+days, 2), current)
	if err != nil {
		return Summary{}, err
	}
	s.series = points[:2*days]
	for i, p := range s.series {
		if i < days {
			s.Previous += p.Total
		} else {
			s.Period += p.Total
		}
	}
	s.Today, s.Yesterday = points[len(points)-1].Total, points[len(points)-2].Total
	if s.Previous > 0 {
		pct := float64(s.Period-s.Previous) / float64(s.Previous) * 100
		s.ChangePct = &pct
	}

	before, err := h.cfg.Read.SnapshotTotals(ctx, site, sp.first.AddDate(0, 0, -1))
	if err != nil {
		return Summary{}, err
	}
	if sp.last.Before(today) { // a span that ended: its last day's totals, not today's
		end, err := h.cfg.Read.SnapshotTotals(ctx, site, sp.last)
		if err != nil {
			return Summary{}, err
		}
		pages = end.Only(h.cfg.PageTypes)
	}
	for typ, t := range pages {
		if v := t.Total - before[typ].Total; v > 0 {
			s.ByType = append(s.ByType, TypeViews{Type: typ, Views: v})
		}
	}
	sort.Slice(s.ByType, func(i, j int) bool {
		if s.ByType[i].Views != s.ByType[j].Views {
			return s.ByType[i].Views > s.ByType[j].Views
		}
		return s.ByType[i].Type < s.ByType[j].Type
	})

	if site != "" {
		if s.Visitors, err = h.visitors(ctx, site, sp); err != nil {
			return Summary{}, err
		}
	}
	if at, ok, err := h.cfg.Read.LastFlush(ctx); err != nil {
		return Summary{}, err
	} else if ok {
		s.LastFlush = &at
	}
	return s, nil
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
