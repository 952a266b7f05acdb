package ingest

import (
	"net/url"
	"sync"
	"time"

	"github.com/tallyhq/tally/internal/item"
)

// maxLinks bounds the links held in memory; past it they are forgotten and learnt again.
const maxLinks = 10_000

// linkEvery is how often a site's link may be written at most, so that beacons naming one
// page two ways in turn cannot add a write model transaction to every view.
const linkEvery = time.Minute

// links remembers, per site, the last link the write model was told, so that it is written
// only when a site's beacons start naming pages differently (see item.Link).
type links struct {
	mu   sync.Mutex
	last map[string]noted
}

type noted struct {
	link item.Link
	at   time.Time
}

// next returns the link to store for the counted page u of site, and false when the write
// model already has it or had it changed less than linkEvery before now. A home page keeps the
// trailing-slash habit learnt from other pages.
func (l *links) next(site string, u *url.URL, now time.Time) (item.Link, bool) {
	link, knowsSlash := item.LinkOf(u)
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, seen := l.last[site]
	if !knowsSlash && seen {
		link.Slash = prev.link.Slash
	}
	if seen && (prev.link == link || now.Sub(prev.at) < linkEvery) {
		return link, false
	}
	if l.last == nil || len(l.last) >= maxLinks {
		l.last = map[string]noted{}
	}
	l.last[site] = noted{link: link, at: now}
	return link, true
}

// forget drops what next noted for site, after the write model failed to take it.
func (l *links) forget(site string) {
	l.mu.Lock()
	delete(l.last, site)
	l.mu.Unlock()
}
