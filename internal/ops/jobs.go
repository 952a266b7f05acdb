package ops

import (
	"net/http"
	"os"
	"time"

	"github.com/tallyhq/tally/internal/backup"
	"github.com/tallyhq/tally/internal/jsonhttp"
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
