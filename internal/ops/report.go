package ops

import (
	"context"
	"sort"
	"time"

	"github.com/tallyhq/tally/internal/sqlite"
)

// Periods the dashboard offers, in days.
var periods = []int{7, 14, 30, 90}

const (
	defaultPeriod = 14
	itemsPerPage  = 50
	trendDays     = 30
	recentDays    = 7
)

// Summary is what the KPI tiles and the donut show.
type Summary struct {
	Site       string           `json:"site"`
	Sites      []string         `json:"sites"`
	Days       int              `json:"days"`
	Total      int64            `json:"total"`
	Unique     int64            `json:"unique"`
	Today      int64            `json:"views_today"`
	Period     int64            `json:"views_period"`
	Previous   int64            `json:"views_previous_period"`
	ChangePct  *float64         `json:"change_pct"` // null when the previous period had no views
	Items      int              `json:"items"`
	Likes      int64            `json:"likes"`
	LastFlush  *time.Time       `json:"last_flush"` // null before the first flush
	ByType     []TypeViews      `json:"by_type"`    // views in the period, most first
	MostLiked  []sqlite.TopItem `json:"most_liked"` // up to 5 items with likes
	GeneratedU time.Time        `json:"generated_at"`
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
func (h *Handler) today() time.Time {
	return h.cfg.Now().UTC().Truncate(24 * time.Hour)
}

// pickSite returns site if given, else the most viewed one.
func (h *Handler) pickSite(ctx context.Context, site string) (string, []string, error) {
	sites, err := h.cfg.DB.Sites(ctx)
	if err != nil {
		return "", nil, err
	}
	if site == "" && len(sites) > 0 {
		site = sites[0]
	}
	return site, sites, nil
}

// summary computes the tiles for site over the last days.
func (h *Handler) summary(ctx context.Context, site string, days int) (Summary, error) {
	site, sites, err := h.pickSite(ctx, site)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{Site: site, Sites: sites, Days: days, GeneratedU: h.cfg.Now().UTC()}
	cur, items, err := h.cfg.DB.Current(ctx, site)
	if err != nil {
		return Summary{}, err
	}
	sum := cur.Sum()
	s.Total, s.Unique, s.Items = sum.Total, sum.Unique, items
	if s.Likes, err = h.cfg.DB.Likes(ctx, site); err != nil {
		return Summary{}, err
	}
	if s.Likes > 0 {
		liked, err := h.cfg.DB.Top(ctx, sqlite.TopFilter{Site: site, Limit: 5, By: "likes"})
		if err != nil {
			return Summary{}, err
		}
		for _, it := range liked {
			if it.Likes > 0 {
				s.MostLiked = append(s.MostLiked, it)
			}
		}
	}

	points, err := h.siteSeries(ctx, site, 2*days, sum)
	if err != nil {
		return Summary{}, err
	}
	for i, p := range points {
		if i < days {
			s.Previous += p.Total
		} else {
			s.Period += p.Total
		}
	}
	s.Today = points[len(points)-1].Total
	if s.Previous > 0 {
		pct := float64(s.Period-s.Previous) / float64(s.Previous) * 100
		s.ChangePct = &pct
	}

	before, err := h.cfg.DB.SnapshotTotals(ctx, site, h.today().AddDate(0, 0, -days))
	if err != nil {
		return Summary{}, err
	}
	for typ, t := range cur {
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

	if at, ok, err := h.cfg.DB.LastFlush(ctx); err != nil {
		return Summary{}, err
	} else if ok {
		s.LastFlush = &at
	}
	return s, nil
}

// siteSeries returns the views of each of the last n days, today last (so far).
func (h *Handler) siteSeries(ctx context.Context, site string, n int, current sqlite.Totals) ([]Point, error) {
	today := h.today()
	cum, err := h.cfg.DB.SiteSeries(ctx, site, today.AddDate(0, 0, -n), today.AddDate(0, 0, -1))
	if err != nil {
		return nil, err
	}
	return deltas(cum, current), nil
}

// itemSeries returns one item's views on each of the last n days, today last.
func (h *Handler) itemSeries(ctx context.Context, site, typ, slug string, n int) ([]Point, sqlite.ItemRow, error) {
	today := h.today()
	row, _, err := h.cfg.DB.Item(ctx, site, typ, slug)
	if err != nil {
		return nil, row, err
	}
	cum, err := h.cfg.DB.ItemSeries(ctx, site, typ, slug, today.AddDate(0, 0, -n), today.AddDate(0, 0, -1))
	if err != nil {
		return nil, row, err
	}
	return deltas(cum, sqlite.Totals{Unique: row.Unique, Total: row.Total}), row, nil
}

// deltas turns end-of-day cumulative counts — a baseline day, then one per day up to
// yesterday — and today's current counts into views per day. A day without a snapshot carries
// the last known value forward (nothing was recorded); before the first snapshot, counts are 0.
// Today can briefly trail yesterday's snapshot (taken from the write model, ahead of the last
// flush), so a day never goes below zero.
func deltas(cum []sqlite.DayPoint, current sqlite.Totals) []Point {
	values := make([]sqlite.Totals, 0, len(cum)+1)
	var last sqlite.Totals
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
			date = d.AddDate(0, 0, 1).Format(time.DateOnly)
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
