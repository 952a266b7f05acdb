package ops

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/report"
)

// exportItems handles GET /ops/api/export/items.csv?site=&sort=&q=: every matching item.
func (h *Handler) exportItems(w http.ResponseWriter, r *http.Request) error {
	v, err := h.parseItemsQuery(r)
	if err != nil {
		return err
	}
	site := v.Site
	rows, _, err := h.cfg.Read.Items(r.Context(), report.ItemQuery{Site: site, Search: v.Q, Sort: v.Sort,
		Limit: -1, RecentSince: h.today().AddDate(0, 0, -recentDays), Types: h.cfg.PageTypes})
	if err != nil {
		return err
	}
	cw := csvResponse(w, "tally-items-"+site+".csv")
	cw.Write([]string{"site", "type", "slug", "unique", "total", "likes", "last_7_days", "last_synced_at"})
	for _, it := range rows {
		cw.Write(csvRow(it.Site, it.Type, it.Slug, itoa(it.Unique), itoa(it.Total), itoa(it.Likes), itoa(it.Recent),
			it.LastSyncedAt.UTC().Format(time.RFC3339)))
	}
	cw.Flush()
	return nil
}

// exportDaily handles GET /ops/api/export/daily.csv?site=&days=&type=&slug=: views per day of
// the site, or of one item when type is given.
func (h *Handler) exportDaily(w http.ResponseWriter, r *http.Request) error {
	q, err := h.parseSeriesQuery(r, exportDays)
	if err != nil {
		return err
	}
	points, err := h.points(r, q)
	if err != nil {
		return err
	}
	cw := csvResponse(w, "tally-daily-"+q.site+".csv")
	cw.Write([]string{"date", "views", "unique", "partial"})
	for _, p := range points {
		cw.Write([]string{p.Date, itoa(p.Total), itoa(p.Unique), strconv.FormatBool(p.Partial)})
	}
	cw.Flush()
	return nil
}

func csvResponse(w http.ResponseWriter, filename string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(filename)+`"`)
	return csv.NewWriter(w)
}

// safeFilename keeps letters, digits, '.', '-' and '_' of name, so nothing a visitor chose can
// break out of the Content-Disposition header or name a strange file.
func safeFilename(name string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, name)
}

// csvRow neutralises every cell a spreadsheet could read as a formula: visitors choose slugs,
// and with --sites empty even sites.
func csvRow(cells ...string) []string {
	for i, s := range cells {
		if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
			cells[i] = "'" + s
		}
	}
	return cells
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
