package ops

import (
	"context"
	"net/http"

	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/jsonhttp"
	"github.com/tallyhq/tally/internal/report"
)

// excludedResponse is GET /ops/api/excluded: what a site did not count over the last days.
type excludedResponse struct {
	Site    string        `json:"site"`
	Days    int           `json:"days"`
	Reasons []reasonCount `json:"reasons"`
	Bots    []botCount    `json:"bots"`
}

type reasonCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

type botCount struct {
	Token string `json:"token"`
	Count int64  `json:"count"`
}

// apiExcluded handles GET /ops/api/excluded?site=&days=.
func (h *Handler) apiExcluded(w http.ResponseWriter, r *http.Request) error {
	v, err := parseViewQuery(r)
	if err != nil {
		return err
	}
	sp, err := h.parseSpan(r, defaultPeriod)
	if err != nil {
		return err
	}
	site, _, err := h.pickSite(r.Context(), v.Site)
	if err != nil {
		return err
	}
	ex, err := h.excluded(r.Context(), site, sp)
	if err != nil {
		return err
	}
	resp := excludedResponse{Site: site, Days: sp.Days(), Reasons: []reasonCount{}, Bots: []botCount{}}
	for _, c := range ex.Reasons {
		resp.Reasons = append(resp.Reasons, reasonCount{Reason: c.Name, Count: c.Count})
	}
	for _, c := range ex.Bots {
		resp.Bots = append(resp.Bots, botCount{Token: c.Name, Count: c.Count})
	}
	jsonhttp.Write(w, http.StatusOK, resp)
	return nil
}

// excluded reads what site did not count over the span.
func (h *Handler) excluded(ctx context.Context, site string, sp span) (report.NotCounted, error) {
	if site == "" {
		return report.NotCounted{}, nil
	}
	return h.cfg.Read.Excluded(ctx, site, sp.first, sp.last)
}

// excludedPanel is the dashboard's "Not counted" panel.
type excludedPanel struct {
	Reasons []labelledCount
	Bots    []report.Count // the most frequent first, at most panelBots
	Total   int64
}

type labelledCount struct {
	Reason, Label string
	Count         int64
}

const panelBots = 10

// reasonLabels say in the owner's words why beacons were not counted.
var reasonLabels = map[string]string{
	excluded.Bot:           "Bots and scripts",
	excluded.Webdriver:     "Automated browsers (webdriver)",
	excluded.Prefetch:      "Prefetch and prerender",
	excluded.RateLimit:     "Over the rate limit",
	excluded.SessionCap:    "Over the per-visitor cap",
	excluded.ForgedSID:     "Events with a forged session",
	excluded.ForeignOrigin: "Sent from other sites",
	excluded.ExcludedPath:  "Excluded paths",
}

func newExcludedPanel(ex report.NotCounted) excludedPanel {
	var p excludedPanel
	for _, c := range ex.Reasons {
		label := reasonLabels[c.Name]
		if label == "" {
			label = c.Name
		}
		p.Reasons = append(p.Reasons, labelledCount{Reason: c.Name, Label: label, Count: c.Count})
		p.Total += c.Count
	}
	p.Bots = ex.Bots[:min(panelBots, len(ex.Bots))]
	return p
}
