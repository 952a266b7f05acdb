package ops

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/admin"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

type viewsData struct {
	Q         viewQuery
	Summary   Summary
	Chart     lineChart
	Donut     donutChart
	Items     itemPage
	Periods   []int
	CSRF      string
	Now       time.Time
	ScriptTag string
	Flushed   string
	Error     string
	Links     siteLinks
	Excluded  excludedPanel
	Panels    []panelGroup
	Events    eventsResponse
	Filter    *dimFilter // nil: the whole site
	Live      bool       // the "now" tile can be read
	// SpanError says why the from/to range asked for was not shown (the page shows the
	// default period instead, with its form, and answers 400).
	SpanError string
	Ended     bool // the period is over (it ended before today): nothing more will come
}

// viewsPage renders /ops/views: tiles, pulse chart, donut and the item table, all in the HTML,
// so the page works without JavaScript.
func (h *Handler) viewsPage(w http.ResponseWriter, r *http.Request, session string) error {
	v, err := parseViewQuery(r)
	if err != nil {
		return err
	}
	status, spanErr := http.StatusOK, ""
	sp, err := h.parseSpan(r, defaultPeriod)
	if jsonhttp.Status(err) == http.StatusBadRequest {
		// A range the owner typed wrong: the dashboard with its form and the reason, not a
		// bare error page.
		status, spanErr, err = http.StatusBadRequest, jsonhttp.Message(err), nil
		sp = h.lastDays(v.Days)
		v.From, v.To = r.URL.Query().Get("from"), r.URL.Query().Get("to") // as typed, to correct
	}
	if err != nil {
		return err
	}
	if v.Dim, v.Value, err = parseFilter(r); err != nil {
		return err
	}
	if sp.custom() {
		v.Days, v.From, v.To = sp.Days(), sp.first.Format(time.DateOnly), sp.last.Format(time.DateOnly)
	}
	data := viewsData{Q: v, Periods: periods, CSRF: admin.CSRFToken(session), Now: h.cfg.Now().UTC(),
		ScriptTag: scriptTag(r), Flushed: r.URL.Query().Get("flushed"), Error: r.URL.Query().Get("error"),
		Links: h.siteLinks(r.Context()), Live: h.cfg.Realtime != nil, SpanError: spanErr, Ended: sp.last.Before(h.today())}
	if data.Summary, err = h.summary(r.Context(), v.Site, sp); err != nil {
		return err
	}
	data.Q.Site = data.Summary.Site
	data.Chart = newLineChart(data.Summary.series[len(data.Summary.series)-v.Days:])
	data.Donut = newDonut(data.Summary.ByType)
	if data.Items, err = h.items(r, data.Summary.Site, v); err != nil {
		return err
	}
	ex, err := h.excluded(r.Context(), data.Summary.Site, sp)
	if err != nil {
		return err
	}
	data.Excluded = newExcludedPanel(ex)
	site := data.Summary.Site
	if site != "" {
		if data.Panels, err = h.panels(r.Context(), site, "", "", sp); err != nil {
			return err
		}
		if data.Events, err = h.events(r.Context(), site, sp); err != nil {
			return err
		}
		if v.Dim != "" {
			if data.Filter, err = h.filter(r.Context(), site, v.Dim, v.Value, sp); err != nil {
				return err
			}
			data.Chart = drawLines(data.Filter.Days, "visitors")
		}
	}
	h.pages.render(w, status, "views.html", data)
	return nil
}

type itemData struct {
	Item     report.ItemRow
	Days     int
	Periods  []int
	Points   []Point
	Chart    lineChart
	Fragment bool
	Back     string
	PageURL  string
	Sources  []dimPanel // where the item's readers came from, in the period
}

// itemPage renders one item's trend over the period (?days=, default 30): a page of its own
// without JavaScript, and the content of the trend dialog (?fragment=1) with it.
func (h *Handler) itemPage(w http.ResponseWriter, r *http.Request, _ string) error {
	q := r.URL.Query()
	it := item.Item{Site: item.NormalizeSite(q.Get("site")), Type: q.Get("type"), Slug: q.Get("slug")}
	if it.Site == "" || it.Type == "" {
		return jsonhttp.Errorf(jsonhttp.Invalid, "site and type are required")
	}
	days, err := parsePeriod(q.Get("days"), trendDays)
	if err != nil {
		return err
	}
	points, row, err := h.itemSeries(r.Context(), it, days)
	if err != nil {
		return err
	}
	groups, err := h.panels(r.Context(), it.Site, it.Type, it.Slug, h.lastDays(days))
	if err != nil {
		return err
	}
	h.pages.render(w, http.StatusOK, "item.html", itemData{
		Sources: groups[0].Panels,
		Item:    row, Days: days, Periods: periods, Points: points, Chart: newLineChart(points),
		Fragment: q.Get("fragment") == "1", Back: "/ops/views?site=" + url.QueryEscape(it.Site) + "&days=" + strconv.Itoa(days),
		PageURL: h.siteLinks(r.Context()).Page(it.Site, it.Type, it.Slug),
	})
	return nil
}

// flushForm runs the flush for the "Flush now" button and goes back to the dashboard.
func (h *Handler) flushForm(w http.ResponseWriter, r *http.Request, session string) error {
	if !admin.ValidCSRF(r, session) {
		return errCSRF
	}
	back := safeNext(r.PostFormValue("back"))
	sep := "?"
	if u, err := url.Parse(back); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	n, err := h.cfg.Jobs.Flush(r.Context())
	if err != nil {
		h.cfg.Log.Error("flush from the dashboard", "err", err)
		http.Redirect(w, r, back+sep+"error=flush", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, back+sep+"flushed="+strconv.Itoa(n), http.StatusSeeOther)
	return nil
}

// siteLinks link from the dashboard to sites and pages as their beacons named them.
type siteLinks struct {
	links   map[string]string
	pageURL func(link item.Link, typ, slug string) string
}

// siteLinks reads once how each site names its pages. Without that, links go to the site
// over https.
func (h *Handler) siteLinks(ctx context.Context) siteLinks {
	l := siteLinks{pageURL: h.cfg.PageURL}
	if h.cfg.Links != nil {
		var err error
		if l.links, err = h.cfg.Links(ctx); err != nil {
			h.cfg.Log.Warn("read how sites name their pages; linking over https", "err", err)
		}
	}
	return l
}

func (l siteLinks) link(site string) item.Link {
	if s, ok := l.links[site]; ok {
		return item.ParseLink(s)
	}
	return item.DefaultLink(site)
}

// Page is the address of an item's page; "" for items that are not pages.
func (l siteLinks) Page(site, typ, slug string) string {
	if l.pageURL == nil {
		return ""
	}
	return l.pageURL(l.link(site), typ, slug)
}

// Home is the address of the site's home page, on the origin where its visitors' browsers keep
// tally's ignore flag.
func (l siteLinks) Home(site string) string { return l.link(site).URL("/") }

// scriptTag is the line a site pastes, pointing at the address the owner reached us on.
func scriptTag(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		scheme = "http"
	}
	return `<script defer src="` + scheme + "://" + r.Host + `/t.js"></script>`
}
