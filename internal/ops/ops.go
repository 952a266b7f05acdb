// Package ops serves the owner's side of tally under /ops: the JSON admin API that runs jobs.
// It never imports the write model: the jobs it runs are functions handed to it by the caller,
// which keeps the CQRS split visible in the import graph.
package ops

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/tallyhq/tally/internal/jsonhttp"
)

// Jobs are the admin jobs the API can run. Each runs synchronously and returns how many items
// it wrote.
type Jobs struct {
	Flush    func(ctx context.Context) (int, error)
	Snapshot func(ctx context.Context, date time.Time) (int, error)
}

// Handler serves /ops/api.
type Handler struct {
	dataDir string
	jobs    Jobs
	now     func() time.Time
	log     *slog.Logger
}

// New returns a Handler that checks passwords against the hash in dataDir.
func New(dataDir string, jobs Jobs, now func() time.Time, log *slog.Logger) *Handler {
	return &Handler{dataDir: dataDir, jobs: jobs, now: now, log: log}
}

// Register adds the admin routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /ops/api/flush", h.requireAdmin(http.HandlerFunc(h.flush)))
	mux.Handle("POST /ops/api/snapshot", h.requireAdmin(http.HandlerFunc(h.snapshot)))
}

// AdminUser is the HTTP Basic user name for the admin API.
const AdminUser = "admin"

// requireAdmin lets through requests with HTTP Basic admin:<password>; others get 401.
func (h *Handler) requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok && subtle.ConstantTimeCompare([]byte(user), []byte(AdminUser)) == 1 {
			good, err := CheckPassword(h.dataDir, pass)
			if err != nil && !errors.Is(err, ErrNoPassword) {
				h.log.Error("check admin password", "err", err)
				jsonhttp.Error(w, http.StatusInternalServerError, "cannot check the password")
				return
			}
			if good {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="tally", charset="UTF-8"`)
		jsonhttp.Error(w, http.StatusUnauthorized, "admin password required")
	})
}

type jobResponse struct {
	Job        string `json:"job"`
	Date       string `json:"date,omitempty"`
	Items      int    `json:"items"`
	DurationMs int64  `json:"duration_ms"`
}

// flush handles POST /ops/api/flush.
func (h *Handler) flush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	n, err := h.jobs.Flush(r.Context())
	if err != nil {
		h.log.Error("flush from admin API", "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "flush failed: "+err.Error())
		return
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "flush", Items: n, DurationMs: time.Since(start).Milliseconds()})
}

// snapshot handles POST /ops/api/snapshot?date=YYYY-MM-DD; without a date, yesterday (UTC).
func (h *Handler) snapshot(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	today := h.now().UTC().Truncate(24 * time.Hour)
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
	n, err := h.jobs.Snapshot(r.Context(), date)
	day := date.Format(time.DateOnly)
	if err != nil {
		h.log.Error("snapshot from admin API", "date", day, "err", err)
		jsonhttp.Error(w, http.StatusServiceUnavailable, "snapshot failed: "+err.Error())
		return
	}
	jsonhttp.Write(w, http.StatusOK, jobResponse{Job: "snapshot", Date: day, Items: n, DurationMs: time.Since(start).Milliseconds()})
}
