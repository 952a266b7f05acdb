package ops

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

// parseItemsQuery is parseViewQuery with the site picked: the one asked for, else the most
// viewed.
func (h *Handler) parseItemsQuery(r *http.Request) (viewQuery, error) {
	v, err := parseViewQuery(r)
	if err == nil {
		v.Site, _, err = h.pickSite(r.Context(), v.Site)
	}
	return v, err
}

// apiItems handles GET /ops/api/items?site=&sort=total|unique|recent&q=&page=.
func (h *Handler) apiItems(w http.ResponseWriter, r *http.Request) error {
	v, err := h.parseItemsQuery(r)
	if err != nil {
		return err
	}
	page, err := h.items(r, v.Site, v)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, page.response())
	return nil
}

// apiTrend handles GET /ops/api/items/trend?site=&type=&slug=&days=30.
func (h *Handler) apiTrend(w http.ResponseWriter, r *http.Request) error {
	q, err := h.parseSeriesQuery(r, trendDays)
	if err != nil {
		return err
	}
	if q.typ == "" {
		return jsonhttp.Errorf(jsonhttp.Invalid, "type is required")
	}
	points, err := h.points(r, q)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, seriesResponse{Site: q.site, Type: q.typ, Slug: q.slug, Days: points})
	return nil
}

// viewQuery is what the dashboard's address says: which site, period, sort, filter and page.
type viewQuery struct {
	Site     string
	Days     int
	Sort     string
	Q        string
	Page     int
	From, To string // a custom period, instead of Days
	Dim      string // a filter: only readers with this value of this dimension
	Value    string
}

func parseViewQuery(r *http.Request) (viewQuery, error) {
	q := r.URL.Query()
	v := viewQuery{Site: item.NormalizeSite(q.Get("site")), Sort: q.Get("sort"), Q: q.Get("q"), Page: 1}
	var err error
	if v.Days, err = parsePeriod(q.Get("days"), defaultPeriod); err != nil {
		return viewQuery{}, err
	}
	if !report.ValidSort(v.Sort) {
		v.Sort = report.Sorts[0]
	}
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 0 {
		v.Page = p
	}
	if len(v.Q) > 200 {
		v.Q = v.Q[:200]
	}
	return v, nil
}

// itemPage is a page of the item table.
type itemPage struct {
	Items    []report.ItemRow
	Total    int // matching items in all
	Page     int
	PageSize int
	Searched bool // a search narrowed the items: the read model counts them up to a bound
}

// Capped reports whether more items match than the read model counts (report.MaxItemCount):
// a search among a million pages costs its page, not a count of them all.
func (p itemPage) Capped() bool { return p.Searched && p.Total > report.MaxItemCount }

// Count is how many items match, as the table's heading says it: "10,000+" past the bound.
func (p itemPage) Count() string {
	if p.Capped() {
		return formatNumber(report.MaxItemCount) + "+"
	}
	return formatNumber(int64(p.Total))
}

// Pages is how many pages the matching items fill; past the bound, as many as are counted.
func (p itemPage) Pages() int { return max(1, (p.Total+p.PageSize-1)/p.PageSize) }

// HasNext reports whether a page follows: past the bound, whenever this one is full.
func (p itemPage) HasNext() bool {
	return p.Page < p.Pages() || p.Capped() && len(p.Items) == p.PageSize
}

// itemJSON is one row of GET /ops/api/items.
type itemJSON struct {
	Site         string    `json:"site"`
	Type         string    `json:"type"`
	Slug         string    `json:"slug"`
	Unique       int64     `json:"unique"`
	Total        int64     `json:"total"`
	Likes        int64     `json:"likes"`
	Recent       int64     `json:"last_7_days"`
	LastSyncedAt time.Time `json:"last_synced_at"`
}

type itemsResponse struct {
	Items    []itemJSON `json:"items"`
	Total    int        `json:"total"`
	Capped   bool       `json:"capped,omitempty"` // more match than total (report.MaxItemCount+1)
	Page     int        `json:"page"`
	PageSize int        `json:"page_size"`
}

func (p itemPage) response() itemsResponse {
	out := itemsResponse{Items: make([]itemJSON, len(p.Items)), Total: p.Total, Capped: p.Capped(), Page: p.Page, PageSize: p.PageSize}
	for i, it := range p.Items {
		out.Items[i] = itemJSON{Site: it.Site, Type: it.Type, Slug: it.Slug, Unique: it.Unique, Total: it.Total,
			Likes: it.Likes, Recent: it.Recent, LastSyncedAt: it.LastSyncedAt.UTC()}
	}
	return out
}

func (h *Handler) items(r *http.Request, site string, v viewQuery) (itemPage, error) {
	rows, n, err := h.cfg.Read.Items(r.Context(), report.ItemQuery{
		Site: site, Search: v.Q, Sort: v.Sort, Limit: itemsPerPage, Offset: (v.Page - 1) * itemsPerPage,
		RecentSince: h.today().AddDate(0, 0, -recentDays), Types: h.cfg.PageTypes,
	})
	if err != nil {
		return itemPage{}, err
	}
	return itemPage{Items: rows, Total: n, Page: v.Page, PageSize: itemsPerPage, Searched: v.Q != ""}, nil
}

// Link is the dashboard's address with the query's site, period and filter, changed by kv
// (name, value pairs; an empty value drops the name).
func (v viewQuery) Link(kv ...string) string {
	q := url.Values{}
	set := func(k, val string) {
		if val != "" {
			q.Set(k, val)
		}
	}
	set("site", v.Site)
	if v.From != "" {
		set("from", v.From)
		set("to", v.To)
	} else if v.Days != defaultPeriod {
		set("days", strconv.Itoa(v.Days))
	}
	set("dim", v.Dim)
	set("value", v.Value)
	for i := 0; i+1 < len(kv); i += 2 {
		q.Del(kv[i])
		set(kv[i], kv[i+1])
	}
	if len(q) == 0 {
		return "/ops/views"
	}
	return "/ops/views?" + q.Encode()
}
