package ops

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/sqlite"
)

// viewQuery is what the dashboard's address says: which site, period, sort, filter and page.
type viewQuery struct {
	Site string
	Days int
	Sort string
	Q    string
	Page int
}

func parseViewQuery(r *http.Request) viewQuery {
	q := r.URL.Query()
	v := viewQuery{Site: q.Get("site"), Sort: q.Get("sort"), Q: q.Get("q"), Days: defaultPeriod, Page: 1}
	if d, err := strconv.Atoi(q.Get("days")); err == nil && slices.Contains(periods, d) {
		v.Days = d
	}
	if _, ok := map[string]bool{"total": true, "unique": true, "recent": true}[v.Sort]; !ok {
		v.Sort = "total"
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 0 {
		v.Page = p
	}
	if len(v.Q) > 200 {
		v.Q = v.Q[:200]
	}
	return v
}

// itemPage is a page of the item table.
type itemPage struct {
	Items    []sqlite.ItemRow `json:"items"`
	Total    int              `json:"total"` // matching items in all
	Page     int              `json:"page"`
	PageSize int              `json:"page_size"`
}

func (p itemPage) Pages() int { return max(1, (p.Total+p.PageSize-1)/p.PageSize) }

func (h *Handler) items(ctx context.Context, site string, v viewQuery) (itemPage, error) {
	rows, n, err := h.cfg.DB.Items(ctx, sqlite.ItemQuery{
		Site: site, Search: v.Q, Sort: v.Sort, Limit: itemsPerPage, Offset: (v.Page - 1) * itemsPerPage,
		RecentSince: h.today().AddDate(0, 0, -recentDays),
	})
	if err != nil {
		return itemPage{}, err
	}
	return itemPage{Items: rows, Total: n, Page: v.Page, PageSize: itemsPerPage}, nil
}

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
	PageURL   func(site, typ, slug string) string
}

// viewsPage renders /ops/views: tiles, pulse chart, donut and the item table, all in the HTML,
// so the page works without JavaScript.
func (h *Handler) viewsPage(w http.ResponseWriter, r *http.Request, session string) {
	v := parseViewQuery(r)
	ctx := r.Context()
	data := viewsData{Q: v, Periods: periods, CSRF: csrfToken(session), Now: h.cfg.Now().UTC(),
		ScriptTag: scriptTag(r), Flushed: r.URL.Query().Get("flushed"), Error: r.URL.Query().Get("error"),
		PageURL: h.pageURL}
	var err error
	if data.Summary, err = h.summary(ctx, v.Site, v.Days); err != nil {
		h.serverError(w, "dashboard summary", err)
		return
	}
	data.Q.Site = data.Summary.Site
	cur := sqlite.Totals{Unique: data.Summary.Unique, Total: data.Summary.Total}
	series, err := h.siteSeries(ctx, data.Summary.Site, v.Days, cur)
	if err != nil {
		h.serverError(w, "dashboard series", err)
		return
	}
	data.Chart = newLineChart(series)
	data.Donut = newDonut(data.Summary.ByType)
	if data.Items, err = h.items(ctx, data.Summary.Site, v); err != nil {
		h.serverError(w, "dashboard items", err)
		return
	}
	h.pages.render(w, http.StatusOK, "views.html", data)
}

type itemData struct {
	Item     sqlite.ItemRow
	Days     int
	Points   []Point
	Chart    lineChart
	Fragment bool
	Back     string
	PageURL  string
}

// itemPage renders one item's 30-day trend: a page of its own without JavaScript, and the
// content of the trend dialog (?fragment=1) with it.
func (h *Handler) itemPage(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	site, typ, slug := q.Get("site"), q.Get("type"), q.Get("slug")
	if site == "" || typ == "" {
		http.Error(w, "site and type are required", http.StatusBadRequest)
		return
	}
	points, row, err := h.itemSeries(r.Context(), site, typ, slug, trendDays)
	if err != nil {
		h.serverError(w, "item trend", err)
		return
	}
	h.pages.render(w, http.StatusOK, "item.html", itemData{
		Item: row, Days: trendDays, Points: points, Chart: newLineChart(points),
		Fragment: q.Get("fragment") == "1", Back: "/ops/views?site=" + url.QueryEscape(site),
		PageURL: h.pageURL(site, typ, slug),
	})
}

// flushForm runs the flush for the "Flush now" button and goes back to the dashboard.
func (h *Handler) flushForm(w http.ResponseWriter, r *http.Request, session string) {
	if !validCSRF(r, session) {
		http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
		return
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
		return
	}
	http.Redirect(w, r, back+sep+"flushed="+strconv.Itoa(n), http.StatusSeeOther)
}

func (h *Handler) pageURL(site, typ, slug string) string {
	if h.cfg.PageURL == nil {
		return ""
	}
	return h.cfg.PageURL(site, typ, slug)
}

func (h *Handler) serverError(w http.ResponseWriter, what string, err error) {
	h.cfg.Log.Error(what, "err", err)
	http.Error(w, "the read model could not be read; see the server log", http.StatusServiceUnavailable)
}

// scriptTag is the line a site pastes, pointing at the address the owner reached us on.
func scriptTag(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
		scheme = "http"
	}
	return `<script defer src="` + scheme + "://" + r.Host + `/t.js"></script>`
}
