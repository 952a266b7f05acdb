package ops

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/session"
)

// span is a period of whole UTC days, first to last inclusive: the last ?days= (today
// included) or ?from= and ?to= (YYYY-MM-DD, at most maxSpanDays, not after today).
type span struct {
	first, last time.Time
	fromTo      bool // given as from and to
}

// custom reports whether the span was given as from and to.
func (s span) custom() bool { return s.fromTo }

const maxSpanDays = 366

func (h *Handler) parseSpan(r *http.Request, def int) (span, error) {
	q := r.URL.Query()
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		first, err1 := session.ParseDay(from)
		last, err2 := session.ParseDay(to)
		switch {
		case err1 != nil || err2 != nil:
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "from and to must both be dates, YYYY-MM-DD")
		case last.Before(first):
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "to is before from")
		case last.Sub(first) >= maxSpanDays*24*time.Hour:
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "at most %d days from from to to", maxSpanDays)
		case last.After(h.today()):
			return span{}, jsonhttp.Errorf(jsonhttp.Invalid, "to is in the future")
		}
		return span{first: first, last: last, fromTo: true}, nil
	}
	days, err := parsePeriod(q.Get("days"), def)
	if err != nil {
		return span{}, err
	}
	return h.lastDays(days), nil
}

// lastDays is the span of the last n days, today included.
func (h *Handler) lastDays(n int) span {
	today := h.today()
	return span{first: today.AddDate(0, 0, -(n - 1)), last: today}
}

// Days is how many days the span holds.
func (s span) Days() int { return int(s.last.Sub(s.first)/(24*time.Hour)) + 1 }

// Periods the dashboard offers, in days.
var periods = []int{7, 14, 30, 90}

const (
	defaultPeriod = 14
	itemsPerPage  = 50
	trendDays     = 30
	exportDays    = 90
	recentDays    = 7
)

// parsePeriod reads a ?days= value: one of periods, or def when empty. Every endpoint that
// takes a period checks it here, so none answers for another period than it was asked.
func parsePeriod(s string, def int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !slices.Contains(periods, n) {
		return 0, jsonhttp.Errorf(jsonhttp.Invalid, "days must be 7, 14, 30 or 90")
	}
	return n, nil
}

// today is midnight UTC of the current day.
func (h *Handler) today() time.Time { return session.Day(h.cfg.Now()) }

// pickSite returns site if given, else the most viewed one.
func (h *Handler) pickSite(ctx context.Context, site string) (string, []string, error) {
	sites, err := h.cfg.Read.Sites(ctx)
	if err != nil {
		return "", nil, err
	}
	if site == "" && len(sites) > 0 {
		site = sites[0]
	}
	return site, sites, nil
}
