package ops

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/sqlite"
)

type jobResponse struct {
	Job        string `json:"job"`
	Date       string `json:"date,omitempty"`
	Items      int    `json:"items"`
	DurationMs int64  `json:"duration_ms"`
}

// apiFlush handles POST /ops/api/flush and answers when the flush has finished.
func (h *Handler) apiFlush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n, err := h.cfg.Jobs.Flush(r.Context())
	if err != nil {
		h.cfg.Log.Error("flush from admin API", "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "flush failed: "+err.Error())
		return
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "flush", Items: n, DurationMs: time.Since(start).Milliseconds()})
}

// apiSnapshot handles POST /ops/api/snapshot?date=YYYY-MM-DD; without a date, yesterday (UTC).
func (h *Handler) apiSnapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	today := h.today()
	date := today.AddDate(0, 0, -1)
	if s := r.URL.Query().Get("date"); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			jsonhttp.Error(w, http.StatusBadRequest, "date must be YYYY-MM-DD")
			return
		}
		if d.After(today) {
			jsonhttp.Error(w, http.StatusBadRequest, "date is in the future")
			return
		}
		date = d
	}
	n, err := h.cfg.Jobs.Snapshot(r.Context(), date)
	day := date.Format(time.DateOnly)
	if err != nil {
		h.cfg.Log.Error("snapshot from admin API", "date", day, "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "snapshot failed: "+err.Error())
		return
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "snapshot", Date: day, Items: n, DurationMs: time.Since(start).Milliseconds()})
}

// apiSummary handles GET /ops/api/summary?site=&days=: the numbers of the KPI tiles and donut.
func (h *Handler) apiSummary(w http.ResponseWriter, r *http.Request) {
	v := parseViewQuery(r)
	s, err := h.summary(r.Context(), v.Site, v.Days)
	if err != nil {
		h.apiError(w, "summary", err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, s)
}

type seriesResponse struct {
	Site string  `json:"site"`
	Type string  `json:"type,omitempty"`
	Slug string  `json:"slug,omitempty"`
	Days []Point `json:"days"`
}

// daysParam reads ?days= from 1 to 366, or def.
func daysParam(r *http.Request, def int) (int, bool) {
	s := r.URL.Query().Get("days")
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 366
}

// seriesQuery reads what the series, the trend and the daily export share: ?site= (default the
// most viewed), ?days= (default def, 1 to 366), ?type= and ?slug=. It answers errors itself.
func (h *Handler) seriesQuery(w http.ResponseWriter, r *http.Request, def int, what string) (site, typ, slug string, days int, ok bool) {
	days, ok = daysParam(r, def)
	if !ok {
		jsonhttp.Error(w, http.StatusBadRequest, "days must be from 1 to 366")
		return "", "", "", 0, false
	}
	q := r.URL.Query()
	site, _, err := h.pickSite(r.Context(), q.Get("site"))
	if err != nil {
		h.apiError(w, what, err)
		return "", "", "", 0, false
	}
	return site, q.Get("type"), q.Get("slug"), days, true
}

// points returns views per day over the last days: the whole site's, or one item's when typ is
// given.
func (h *Handler) points(ctx context.Context, site, typ, slug string, days int) ([]Point, error) {
	if typ != "" {
		p, _, err := h.itemSeries(ctx, site, typ, slug, days)
		return p, err
	}
	cur, _, err := h.cfg.DB.Current(ctx, site)
	if err != nil {
		return nil, err
	}
	return h.siteSeries(ctx, site, days, cur.Sum())
}

// apiSeries handles GET /ops/api/series?site=&days=14: views per day, today last.
func (h *Handler) apiSeries(w http.ResponseWriter, r *http.Request) {
	site, _, _, days, ok := h.seriesQuery(w, r, defaultPeriod, "series")
	if !ok {
		return
	}
	points, err := h.points(r.Context(), site, "", "", days)
	if err != nil {
		h.apiError(w, "series", err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, seriesResponse{Site: site, Days: points})
}

// apiItems handles GET /ops/api/items?site=&sort=total|unique|recent&q=&page=.
func (h *Handler) apiItems(w http.ResponseWriter, r *http.Request) {
	v := parseViewQuery(r)
	site, _, err := h.pickSite(r.Context(), v.Site)
	if err != nil {
		h.apiError(w, "items", err)
		return
	}
	page, err := h.items(r.Context(), site, v)
	if err != nil {
		h.apiError(w, "items", err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, page)
}

// apiTrend handles GET /ops/api/items/trend?site=&type=&slug=&days=30.
func (h *Handler) apiTrend(w http.ResponseWriter, r *http.Request) {
	site, typ, slug, days, ok := h.seriesQuery(w, r, trendDays, "trend")
	if !ok {
		return
	}
	if typ == "" {
		jsonhttp.Error(w, http.StatusBadRequest, "type is required")
		return
	}
	points, err := h.points(r.Context(), site, typ, slug, days)
	if err != nil {
		h.apiError(w, "trend", err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, seriesResponse{Site: site, Type: typ, Slug: slug, Days: points})
}

// exportItems handles GET /ops/api/export/items.csv?site=&sort=&q=: every matching item.
func (h *Handler) exportItems(w http.ResponseWriter, r *http.Request) {
	v := parseViewQuery(r)
	site, _, err := h.pickSite(r.Context(), v.Site)
	if err != nil {
		h.apiError(w, "export items", err)
		return
	}
	rows, _, err := h.cfg.DB.Items(r.Context(), sqlite.ItemQuery{Site: site, Search: v.Q, Sort: v.Sort,
		Limit: -1, RecentSince: h.today().AddDate(0, 0, -recentDays)})
	if err != nil {
		h.apiError(w, "export items", err)
		return
	}
	cw := csvResponse(w, "tally-items-"+site+".csv")
	cw.Write([]string{"site", "type", "slug", "unique", "total", "last_7_days", "last_synced_at"})
	for _, it := range rows {
		cw.Write([]string{it.Site, it.Type, csvSafe(it.Slug), itoa(it.Unique), itoa(it.Total), itoa(it.Recent), it.LastSyncedAt})
	}
	cw.Flush()
}

// exportDaily handles GET /ops/api/export/daily.csv?site=&days=&type=&slug=: views per day of
// the site, or of one item when type is given.
func (h *Handler) exportDaily(w http.ResponseWriter, r *http.Request) {
	site, typ, slug, days, ok := h.seriesQuery(w, r, 90, "export daily")
	if !ok {
		return
	}
	points, err := h.points(r.Context(), site, typ, slug, days)
	if err != nil {
		h.apiError(w, "export daily", err)
		return
	}
	cw := csvResponse(w, "tally-daily-"+site+".csv")
	cw.Write([]string{"date", "views", "unique", "partial"})
	for _, p := range points {
		cw.Write([]string{p.Date, itoa(p.Total), itoa(p.Unique), strconv.FormatBool(p.Partial)})
	}
	cw.Flush()
}

func csvResponse(w http.ResponseWriter, filename string) *csv.Writer {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	return csv.NewWriter(w)
}

// csvSafe keeps a slug from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (h *Handler) apiError(w http.ResponseWriter, what string, err error) {
	h.cfg.Log.Error("admin API "+what, "err", err)
	jsonhttp.Error(w, http.StatusServiceUnavailable, "the read model could not be read; see the server log")
}

// apiBackup handles GET /ops/api/backup: a consistent backup of both stores, the salt and the
// password hash, made while the server runs, streamed as a tar (what tally backup unpacks).
func (h *Handler) apiBackup(w http.ResponseWriter, r *http.Request) {
	tmp, err := os.MkdirTemp(h.cfg.DataDir, ".backup-")
	if err != nil {
		h.apiError(w, "backup", err)
		return
	}
	defer os.RemoveAll(tmp)
	m, err := h.cfg.Jobs.Backup(r.Context(), tmp)
	if err != nil {
		h.cfg.Log.Error("backup from admin API", "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "backup failed: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="tally-backup-`+m.CreatedAt.Format("20060102T150405Z")+`.tar"`)
	if err := backup.Tar(w, tmp); err != nil {
		// Too late for a status: the client sees a truncated tar, which Untar refuses.
		h.cfg.Log.Error("stream backup", "err", err)
	}
}
