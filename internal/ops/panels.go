package ops

import (
	"context"
	"net/http"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

// dimPanel is one of the dashboard's breakdown tables: a dimension's most viewed values.
type dimPanel struct {
	ID, Title, Dim string
	Rows           []report.DimRow // at most panelRows
	Total          int64           // views of every value
}

const panelRows = 10

// Share is a row's part of the panel's views, in percent, for the bar behind it.
func (p dimPanel) Share(views int64) float64 {
	if p.Total == 0 {
		return 0
	}
	return round1(float64(views) / float64(p.Total) * 100)
}

// panelGroup is a card of panels: sources, devices, countries.
type panelGroup struct {
	ID, Title string
	Panels    []dimPanel
}

// panels reads the breakdowns the dashboard shows: of the site, or of one item.
func (h *Handler) panels(ctx context.Context, site, typ, slug string, sp span) ([]panelGroup, error) {
	groups := []panelGroup{
		{ID: "sources", Title: "Sources", Panels: []dimPanel{
			{ID: "referrers", Title: "Referrers", Dim: item.DimReferrer.String()},
			{ID: "utm-sources", Title: "Campaign sources", Dim: item.DimUTMSource.String()},
			{ID: "utm-mediums", Title: "Campaign media", Dim: item.DimUTMMedium.String()},
			{ID: "utm-campaigns", Title: "Campaigns", Dim: item.DimUTMCampaign.String()}}},
		{ID: "devices", Title: "Devices", Panels: []dimPanel{
			{ID: "browsers", Title: "Browsers", Dim: item.DimBrowser.String()},
			{ID: "browser-versions", Title: "Browser versions", Dim: item.DimBrowserVersion.String()},
			{ID: "systems", Title: "Operating systems", Dim: item.DimOS.String()},
			{ID: "device-classes", Title: "Device", Dim: item.DimDevice.String()}}},
	}
	if typ != "" { // an item's own page: where its readers came from
		groups = groups[:1]
	}
	if h.cfg.HasCountry && typ == "" {
		groups = append(groups, panelGroup{ID: "countries", Title: "Countries", Panels: []dimPanel{{ID: "country-list", Title: "Countries", Dim: item.DimCountry.String()}}})
	}
	for g := range groups {
		for i := range groups[g].Panels {
			p := &groups[g].Panels[i]
			rows, err := h.cfg.Read.Breakdown(ctx, report.DimQuery{Site: site, Type: typ, Slug: slug, Dim: p.Dim, First: sp.first, Last: sp.last})
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				p.Total += r.Views
			}
			p.Rows = rows[:min(panelRows, len(rows))]
		}
	}
	return groups, nil
}

// dimFilter narrows the dashboard to the readers with one value of a dimension (?dim=&value=):
// which posts did Hacker News send readers to?
type dimFilter struct {
	Dim, Value      string
	Source          bool // a referrer or campaign: kept per page too, so Items can be listed
	Views, Visitors int64
	Items           []report.OwnerRow
	Days            []Point // views (Total) and visitors (Unique) per day of the span
}

const filterItems = 50

// parseFilter reads ?dim= and ?value=; none is no filter.
func parseFilter(r *http.Request) (dim, value string, err error) {
	q := r.URL.Query()
	if q.Get("dim") == "" {
		return "", "", nil
	}
	d, ok := item.ParseDim(q.Get("dim"))
	if !ok || q.Get("value") == "" {
		return "", "", jsonhttp.Errorf(jsonhttp.Invalid, "a filter needs a dimension (referrer, utm_source, …) and a value")
	}
	return d.String(), q.Get("value"), nil
}

// filter reads the site's views, visitors and items with dim = value over the span.
func (h *Handler) filter(ctx context.Context, site, dim, value string, sp span) (*dimFilter, error) {
	d, _ := item.ParseDim(dim)
	f := &dimFilter{Dim: dim, Value: value, Source: d.Source()}
	days, err := h.cfg.Read.DimDays(ctx, report.DimQuery{Site: site, Dim: dim, Value: value, First: sp.first, Last: sp.last})
	if err != nil {
		return nil, err
	}
	byDate := map[string]report.DimDay{}
	for _, d := range days {
		f.Views += d.Views
		f.Visitors += d.Visitors
		byDate[d.Date] = d
	}
	today := h.today()
	for d := sp.first; !d.After(sp.last); d = d.AddDate(0, 0, 1) {
		date := d.Format(time.DateOnly)
		f.Days = append(f.Days, Point{Date: date, Total: byDate[date].Views, Unique: byDate[date].Visitors, Partial: d.Equal(today)})
	}
	if f.Source {
		f.Items, err = h.cfg.Read.DimItems(ctx, report.OwnerQuery{Site: site, Dim: dim, Value: value, First: sp.first, Last: sp.last,
			Types: h.cfg.PageTypes, Limit: filterItems})
	}
	return f, err
}
