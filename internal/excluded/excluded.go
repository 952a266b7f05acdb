// Package excluded adds up the beacons that were not counted, per site, UTC day and reason (and
// per bot product token), so the owner can see what tally left out and why.
//
// The beacon path only adds to a Buffer in memory: a bot flood must not cost a write per
// request. The node drains the buffer into the write model every few seconds and before each
// flush, as increments; the write model holds cumulative per-day counts that the flush copies
// into the read model with the same overwrite rule as views. A crash loses at most the last
// few seconds of these counts, never a view.
package excluded

import (
	"context"
	"sync"
	"time"

	"github.com/tallyhq/tally/internal/item"
)

// The reasons a beacon was not counted, as the contract names them.
const (
	Bot           = "bot"
	Prefetch      = "prefetch"
	RateLimit     = "rate_limit"
	SessionCap    = "session_cap"
	ForgedSID     = "forged_sid"
	ForeignOrigin = "foreign_origin"
	ExcludedPath  = "excluded_path"
	Webdriver     = "webdriver"
)

const (
	// MaxTokensPerDay bounds the bot tokens kept per site and day: bots choose their
	// User-Agent, so the rest count under Other and the tables grow with days, not traffic.
	MaxTokensPerDay = 100
	// maxRows bounds the buffer between two drains.
	maxRows = 50_000
	// Other is the token of bots past MaxTokensPerDay; Unknown of bots that name none.
	Other   = "(other)"
	Unknown = "(unknown)"
)

// Sink is the write model as a drain needs it. KeptSites tells which of sites it keeps (has
// items of): exclusions of any other site count under item.OtherSites, so a flood of hosts
// that the bounds refuse, or that only bots ever sent, makes one row a day, not one per host.
type Sink interface {
	AddExcluded(ctx context.Context, rows []item.Excluded) error
	KeptSites(ctx context.Context, sites []string) (map[string]bool, error)
}

type key struct {
	site, day, kind, name string
}

type siteDay struct{ site, day string }

// Buffer adds up exclusions in memory until the next Drain. Its zero value is not usable;
// a nil *Buffer records nothing.
type Buffer struct {
	sink Sink
	// listed reports a site the owner listed (--sites): its exclusions are its own even before
	// its first counted view. Nil: none listed.
	listed func(site string) bool
	mu     sync.Mutex
	rows   map[key]int64
	// tokens are the bot tokens this node has seen per site and day, for MaxTokensPerDay.
	tokens  map[siteDay]map[string]bool
	dropped int64
}

// New returns a Buffer that drains into sink; listed, if not nil, reports the sites the owner
// listed.
func New(sink Sink, listed func(site string) bool) *Buffer {
	return &Buffer{sink: sink, listed: listed, rows: map[key]int64{}, tokens: map[siteDay]map[string]bool{}}
}

// Add counts one beacon for site not counted for reason at now; token is the bot's product
// token when reason is Bot.
func (b *Buffer) Add(site, reason, token string, now time.Time) {
	if b == nil || site == "" {
		return
	}
	day := now.UTC().Format(time.DateOnly)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(key{site, day, item.ExcludedReason, reason})
	if reason != Bot {
		return
	}
	if token == "" {
		token = Unknown
	}
	sd := siteDay{site, day}
	seen := b.tokens[sd]
	if seen == nil {
		seen = map[string]bool{}
		b.tokens[sd] = seen
	}
	if !seen[token] {
		if len(seen) >= MaxTokensPerDay {
			token = Other
		} else {
			seen[token] = true
		}
	}
	b.add(key{site, day, item.ExcludedBot, token})
}

func (b *Buffer) add(k key) {
	if _, ok := b.rows[k]; !ok && len(b.rows) >= maxRows {
		b.dropped++
		return
	}
	b.rows[k]++
}

// Drain hands what was added since the last drain to the write model. On failure the counts
// go back into the buffer for the next try, except those of days before yesterday (UTC, by
// now): the flush may have closed those days in the write model, and a late part of a day's
// count must not overwrite the whole of it.
func (b *Buffer) Drain(ctx context.Context, now time.Time) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	rows := make([]item.Excluded, 0, len(b.rows))
	for k, n := range b.rows {
		rows = append(rows, item.Excluded{Site: k.site, Day: k.day, Kind: k.kind, Name: k.name, Count: n})
	}
	b.rows = map[key]int64{}
	b.forgetOldDays()
	b.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := b.write(ctx, rows); err != nil {
		yesterday := now.UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		b.mu.Lock()
		for _, r := range rows {
			if r.Day >= yesterday {
				b.rows[key{r.Site, r.Day, r.Kind, r.Name}] += r.Count
			} else {
				b.dropped += r.Count
			}
		}
		b.mu.Unlock()
		return err
	}
	return nil
}

// write hands rows to the write model, those of sites it keeps nor the owner listed under
// item.OtherSites (their bot tokens under Other).
func (b *Buffer) write(ctx context.Context, rows []item.Excluded) error {
	var ask []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Site] && (b.listed == nil || !b.listed(r.Site)) {
			seen[r.Site] = true
			ask = append(ask, r.Site)
		}
	}
	if len(ask) == 0 {
		return b.sink.AddExcluded(ctx, rows)
	}
	kept, err := b.sink.KeptSites(ctx, ask)
	if err != nil {
		return err
	}
	merged := map[key]int64{}
	for _, r := range rows {
		k := key{r.Site, r.Day, r.Kind, r.Name}
		if seen[r.Site] && !kept[r.Site] {
			k.site = item.OtherSites
			if r.Kind == item.ExcludedBot {
				k.name = Other
			}
		}
		merged[k] += r.Count
	}
	out := make([]item.Excluded, 0, len(merged))
	for k, n := range merged {
		out = append(out, item.Excluded{Site: k.site, Day: k.day, Kind: k.kind, Name: k.name, Count: n})
	}
	return b.sink.AddExcluded(ctx, out)
}

// Dropped returns how many exclusions did not fit in the buffer since it was made.
func (b *Buffer) Dropped() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// forgetOldDays drops the token sets of days before the newest one seen, so they do not grow
// with the days a node runs.
func (b *Buffer) forgetOldDays() {
	newest := ""
	for sd := range b.tokens {
		newest = max(newest, sd.day)
	}
	for sd := range b.tokens {
		if sd.day < newest {
			delete(b.tokens, sd)
		}
	}
}
