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

// Sink is the write model as a drain needs it.
type Sink interface {
	AddExcluded(ctx context.Context, rows []item.Excluded) error
}

type key struct {
	site, day, kind, name string
}

type siteDay struct{ site, day string }

// Buffer adds up exclusions in memory until the next Drain. Its zero value is not usable;
// a nil *Buffer records nothing.
type Buffer struct {
	sink Sink
	mu   sync.Mutex
	rows map[key]int64
	// tokens are the bot tokens this node has seen per site and day, for MaxTokensPerDay.
	tokens  map[siteDay]map[string]bool
	dropped int64
}

// New returns a Buffer that drains into sink.
func New(sink Sink) *Buffer {
	return &Buffer{sink: sink, rows: map[key]int64{}, tokens: map[siteDay]map[string]bool{}}
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
	if err := b.sink.AddExcluded(ctx, rows); err != nil {
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
