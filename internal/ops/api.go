package ops

import (
	"encoding/csv"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
	"github.com/tallyhq/tally/internal/session"
)

type jobResponse struct {
	Job        string `json:"job"`
	Date       string `json:"date,omitempty"`
	Items      int    `json:"items"`
	DurationMs int64  `json:"duration_ms"`
}

// apiFlush handles POST /ops/api/flush and answers when the flush has finished.
func (h *Handler) apiFlush(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	n, err := h.cfg.Jobs.Flush(r.Context())
	if err != nil {
		return jobFailed("flush", err)
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "flush", Items: n, DurationMs: time.Since(start).Milliseconds()})
	return nil
}

// jobFailed tells the owner why a job failed: it is their own server, and the reason (a locked
// or unreachable store) is what they need to act on.
func jobFailed(job string, err error) error {
	return &jsonhttp.Error{Kind: jsonhttp.Unavailable, Msg: job + " failed: " + err.Error()}
}

// apiSnapshot handles POST /ops/api/snapshot?date=YYYY-MM-DD; without a date, yesterday (UTC).
func (h *Handler) apiSnapshot(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	date := session.Yesterday(h.cfg.Now())
	if s := r.URL.Query().Get("date"); s != "" {
		d, err := session.ParseDay(s)
		if err != nil {
			return jsonhttp.Errorf(jsonhttp.Invalid, "%v", err)
		}
		if d.After(h.today()) {
			return jsonhttp.Errorf(jsonhttp.Invalid, "date is in the future")
		}
		date = d
	}
	n, err := h.cfg.Jobs.Snapshot(r.Context(), date)
	if err != nil {
		return jobFailed("snapshot of "+session.FormatDay(date), err)
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "snapshot", Date: session.FormatDay(date), Items: n,
		DurationMs: time.Since(start).Milliseconds()})
	return nil
}

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

type seriesResponse struct {
	Site string  `json:"site"`
	Type string  `json:"type,omitempty"`
	Slug string  `json:"slug,omitempty"`
	Days []Point `json:"days"`
}

// seriesQuery is what the series, the trend and the daily export share: ?site= (default the
// most viewed), ?days= (one of periods, default def), ?type= and ?slug= (one item when type is
// given).
type seriesQuery struct {
	site string
	typ  string
	slug string
	days int
}

func (h *Handler) parseSeriesQuery(r *http.Request, def int) (seriesQuery, error) {
	q := r.URL.Query()
	days, err := parsePeriod(q.Get("days"), def)
	if err != nil {
		return seriesQuery{}, err
	}
	site, _, err := h.pickSite(r.Context(), item.NormalizeSite(q.Get("site")))
	if err != nil {
		return seriesQuery{}, err
	}
	return seriesQuery{site: site, typ: q.Get("type"), slug: q.Get("slug"), days: days}, nil
}

// points returns views per day over the last days: the whole site's, or one item's when typ is
// given.
func (h *Handler) points(r *http.Request, q seriesQuery) ([]Point, error) {
	if q.typ != "" {
		p, _, err := h.itemSeries(r.Context(), item.Item{Site: q.site, Type: q.typ, Slug: q.slug}, q.days)
		return p, err
	}
	cur, err := h.cfg.Read.Site(r.Context(), q.site)
	if err != nil {
		return nil, err
	}
	return h.siteSeries(r.Context(), q.site, q.days, cur.ByType.Only(h.cfg.PageTypes).Sum())
}

// apiSeries handles GET /ops/api/series?site=&days=14: views per day, today last.
func (h *Handler) apiSeries(w http.ResponseWriter, r *http.Request) error {
	q, err := h.parseSeriesQuery(r, defaultPeriod)
	if err != nil {
		return err
	}
	q.typ = ""
	points, err := h.points(r, q)
	if err != nil {
		return err
	}
	jsonhttp.Write(w, http.StatusOK, seriesResponse{Site: q.site, Days: points})
	return nil
}

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

// apiBackup handles POST /ops/api/backup: a consistent backup of both stores, the salt and the
// password hash, made while the server runs, streamed as a tar (what tally backup unpacks).
func (h *Handler) apiBackup(w http.ResponseWriter, r *http.Request) error {
	tmp, err := os.MkdirTemp(h.cfg.DataDir, ".backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	m, err := h.cfg.Jobs.Backup(r.Context(), tmp)
	if err != nil {
		return jobFailed("backup", err)
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.Header().Set("Content-Disposition", `attachment; filename="tally-backup-`+m.CreatedAt.Format("20060102T150405Z")+`.tar"`)
	if err := backup.Tar(w, tmp); err != nil {
		// Too late for a status: the client sees a truncated tar, which Untar refuses.
		h.cfg.Log.Error("stream backup", "err", err)
	}
	return nil
}
