package bolt

import (
	"context"
	"sync"
	"time"

	"github.com/tallyhq/tally/internal/item"
)

// liveMinutes is how far back Realtime looks.
const liveMinutes = 30

// maxLivePerMinute bounds one site's distinct items and visitors kept for one minute.
const maxLivePerMinute = 100_000

// live keeps, in memory only, each site's page views of the last 30 minutes by minute: what is
// happening now, which a restart may forget.
type live struct {
	mu    sync.Mutex
	sites map[string]*[liveMinutes]liveMinute
	// swept is the minute quiet sites' rings were last dropped: once a minute, so memory
	// follows the sites read now, not every site ever seen.
	swept int64
}

// dropQuiet forgets the rings of sites without a view in the last liveMinutes minutes.
func (l *live) dropQuiet(m int64) {
	if l.swept == m {
		return
	}
	l.swept = m
	for site, ring := range l.sites {
		quiet := true
		for i := range ring {
			if ring[i].minute > m-liveMinutes {
				quiet = false
				break
			}
		}
		if quiet {
			delete(l.sites, site)
		}
	}
}

type liveMinute struct {
	minute   int64
	items    map[item.Item]int64
	visitors map[uint64]struct{}
}

// liveView is one recorded page view, as the live counts need it.
type liveView struct {
	site    string
	item    item.Item
	visitor uint64
}

func (l *live) add(now time.Time, views []liveView) {
	if len(views) == 0 {
		return
	}
	m := now.Unix() / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sites == nil {
		l.sites = map[string]*[liveMinutes]liveMinute{}
	}
	l.dropQuiet(m)
	for _, v := range views {
		ring := l.sites[v.site]
		if ring == nil {
			ring = new([liveMinutes]liveMinute)
			l.sites[v.site] = ring
		}
		lm := &ring[m%liveMinutes]
		if lm.minute != m {
			*lm = liveMinute{minute: m, items: map[item.Item]int64{}, visitors: map[uint64]struct{}{}}
		}
		if _, ok := lm.items[v.item]; ok || len(lm.items) < maxLivePerMinute {
			lm.items[v.item]++
		}
		if len(lm.visitors) < maxLivePerMinute {
			lm.visitors[v.visitor] = struct{}{}
		}
	}
}

// Realtime returns the site's page views and visitors of the last 30 minutes.
func (s *Store) Realtime(ctx context.Context, site string) (item.Live, error) {
	m := s.now().Unix() / 60
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	var out item.Live
	ring := s.live.sites[site]
	if ring == nil {
		return out, ctx.Err()
	}
	pages := map[item.Item]int64{}
	visitors := map[uint64]struct{}{}
	for i := range ring {
		lm := &ring[i]
		if lm.minute <= m-liveMinutes || lm.minute > m {
			continue
		}
		for k, n := range lm.items {
			pages[k] += n
			out.Views += n
		}
		for h := range lm.visitors {
			visitors[h] = struct{}{}
		}
	}
	out.Visitors = int64(len(visitors))
	for it, n := range pages {
		out.Pages = append(out.Pages, item.LivePage{Item: it, Views: n})
	}
	item.SortLive(out.Pages)
	return out, ctx.Err()
}
