package ops

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

// apiSummary handles GET /ops/api/summary?site=&days=: the numbers of the KPI tiles and donut.
func (h *Handler) apiSummary(w http.ResponseWriter, r *http.Request) error {
	v, err := parseViewQuery(r)
	if err != nil {
		return err
	}
	sp, err := h.parseSpan(r, defaultPeriod)
	if err != nil {
		return err
	}
	s, err := h.summary(r.Context(), v.Site, sp)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, s)
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

// summary computes the tiles for site over the span, and the same number of days before it,
// in steps: the site's totals now, the views of the span and of the days before it, the views
// by type in the span, the span's visitors, the last flush.
func (h *Handler) summary(ctx context.Context, site string, sp span) (Summary, error) {
	site, sites, err := h.pickSite(ctx, site)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Site: site, Sites: sites, Days: sp.Days(), GeneratedU: h.cfg.Now().UTC()}
	if sp.custom() {
		s.First, s.Last = session.FormatDay(sp.first), session.FormatDay(sp.last)
	}
	pages, err := h.totals(ctx, &s)
	if err != nil {
		return Summary{}, err
	}
	if err := h.periodViews(ctx, &s, sp, pages.Sum()); err != nil {
		return Summary{}, err
	}
	if err := h.viewsByType(ctx, &s, sp, pages); err != nil {
		return Summary{}, err
	}
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

// totals fills the all-time tiles of s.Site (views, uniques, items, likes, most liked) and
// returns its page types' totals now.
func (h *Handler) totals(ctx context.Context, s *Summary) (report.TypeTotals, error) {
	cur, err := h.cfg.Read.Site(ctx, s.Site)
	if err != nil {
		return nil, err
	}
	pages := cur.ByType.Only(h.cfg.PageTypes)
	current := pages.Sum()
	s.Total, s.Unique, s.Items, s.Likes = current.Total, current.Unique, cur.Items(h.cfg.PageTypes), cur.Likes
	if s.Likes == 0 {
		return pages, nil
	}
	liked, err := h.cfg.Read.Top(ctx, report.TopFilter{Site: s.Site, Limit: 5, By: report.ByLikes, Types: h.cfg.PageTypes})
	if err != nil {
		return nil, err
	}
	for _, it := range liked {
		if it.Likes > 0 {
			s.MostLiked = append(s.MostLiked, LikedItem{Site: it.Site, Type: it.Type, Slug: it.Slug, Likes: it.Likes})
		}
	}
	return pages, nil
}

// periodViews fills the views of the span, of as many days before it, of today and of
// yesterday, and the change between the two periods; current is the site's page views now.
func (h *Handler) periodViews(ctx context.Context, s *Summary, sp span, current report.Totals) error {
	// Every day from the one before the span's twin up to today: the span, the days before it,
	// and today and yesterday for their tiles.
	days := s.Days
	toToday := int(h.today().Sub(sp.first)/(24*time.Hour)) + 1
	points, err := h.siteSeries(ctx, s.Site, max(toToday+days, 2), current)
	if err != nil {
		return err
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
	return nil
}

// viewsByType fills the span's views per page type, most first: the totals at the span's end
// (pages, now, for a span that ends today) less those the day before it began.
func (h *Handler) viewsByType(ctx context.Context, s *Summary, sp span, pages report.TypeTotals) error {
	before, err := h.cfg.Read.SnapshotTotals(ctx, s.Site, sp.first.AddDate(0, 0, -1))
	if err != nil {
		return err
	}
	if sp.last.Before(h.today()) { // a span that ended: its last day's totals, not today's
		end, err := h.cfg.Read.SnapshotTotals(ctx, s.Site, sp.last)
		if err != nil {
			return err
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
	return nil
}
