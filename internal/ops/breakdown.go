package ops

import (
	"net/http"
	"strconv"

	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

type breakdownRow struct {
	Value    string `json:"value"`
	Views    int64  `json:"views"`
	Visitors int64  `json:"visitors"`
}

type breakdownResponse struct {
	Dim   string         `json:"dim"`
	Rows  []breakdownRow `json:"rows"`
	Total int64          `json:"total"` // views of every row, those past the limit too
	site  string         // for the CSV's file name
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
	out := breakdownResponse{Dim: d.String(), Rows: []breakdownRow{}, site: site}
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
	cw := csvResponse(w, "tally-"+out.Dim+"-"+out.site+".csv")
	cw.Write([]string{out.Dim, "views", "visitors"})
	for _, row := range out.Rows {
		cw.Write(csvRow(row.Value, itoa(row.Views), itoa(row.Visitors)))
	}
	cw.Flush()
	return cw.Error()
}
