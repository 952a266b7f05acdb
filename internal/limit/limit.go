// Package limit holds the two limits on the beacon path, both bounded in memory however many
// clients or sessions a flood brings: a token bucket per client address, and a cap on the
// views one session may add to one item per minute.
package limit

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Clients rate-limits requests per client address. IPv6 addresses are limited per /64, the
// block one subscriber usually holds, so rotating through it gains nothing. A nil *Clients
// allows everything.
type Clients struct {
	mu    sync.Mutex
	limit rate.Limit
	burst int
	max   int
	seed  maphash.Seed
	cur   map[uint64]*rate.Limiter
	prev  map[uint64]*rate.Limiter
}

// NewClients allows each client perSecond requests on average and burst at once, tracking at
// most about 2×max clients. perSecond <= 0 disables the limit (nil).
func NewClients(perSecond float64, burst, max int) *Clients {
	if perSecond <= 0 {
		return nil
	}
	return &Clients{limit: rate.Limit(perSecond), burst: max1(burst), max: max1(max),
		seed: maphash.MakeSeed(), cur: map[uint64]*rate.Limiter{}}
}

func max1(n int) int { return max(n, 1) }

// IPv6 allocations hold many /64s: a subscriber commonly a /56 (256 of them), a site a /48
// (65,536). Each wider block gets a budget of its own, a few clients' worth, so rotating through
// the /64s of one allocation multiplies the budget by blockBudget, not by 256 or 65,536.
var blocks = []struct {
	bits   int
	budget float64 // times the per-client limit and burst
}{{56, 4}, {48, 16}}

// Allow reports whether the client at ip may make a request at now: its own budget allows it
// and, for IPv6, so do those of the /56 and /48 it lies in.
func (c *Clients) Allow(ip netip.Addr, now time.Time) bool {
	if c == nil {
		return true
	}
	ok := c.limiter(c.key(ip), 1).AllowN(now, 1)
	if ip = ip.Unmap(); ip.Is6() {
		for _, b := range blocks {
			k := c.key(netip.PrefixFrom(ip, b.bits).Masked().Addr()) ^ uint64(b.bits)
			ok = c.limiter(k, b.budget).AllowN(now, 1) && ok
		}
	}
	return ok
}

// limiter returns the limiter of key, made with budget times the client's limit and burst.
func (c *Clients) limiter(k uint64, budget float64) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.cur[k]
	if l == nil {
		if l = c.prev[k]; l == nil {
			l = rate.NewLimiter(c.limit*rate.Limit(budget), int(float64(c.burst)*budget))
		}
		// Two generations: when the current one is full it becomes the previous one, so the
		// limiters of active clients survive and idle ones fall away.
		if len(c.cur) >= c.max {
			c.prev, c.cur = c.cur, make(map[uint64]*rate.Limiter, c.max)
		}
		c.cur[k] = l
	}
	return l
}

// key hashes the client's block with a per-process seed: no address is kept.
func (c *Clients) key(ip netip.Addr) uint64 {
	b := Block(ip).As16()
	return maphash.Bytes(c.seed, b[:])
}

// Block returns what one client is, for every limit keyed by client: an IPv4 address itself,
// and for IPv6 its /64, the block one subscriber usually holds, so that rotating addresses
// within it gains nothing.
func Block(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip
}

// Network returns the client network of ip for the fair shares of a site's dimension values:
// its IPv4 /24 or IPv6 /48, the blocks one subscriber or one small hosting customer holds.
func Network(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	bits := 24
	if ip.Is6() {
		bits = 48
	}
	return netip.PrefixFrom(ip, bits).Masked().Addr()
}

// PerMinute caps how often one key (a session and an item) may count within a clock minute.
// Past max keys in a minute it stops tracking new ones and lets them through: under a flood of
// sessions the per-client limit is what holds. A nil *PerMinute allows everything.
type PerMinute struct {
	mu     sync.Mutex
	limit  int
	max    int
	minute int64
	counts map[uint64]int
}

// NewPerMinute allows each key limit times per minute, tracking at most max keys. limit <= 0
// disables the cap (nil).
func NewPerMinute(limit, max int) *PerMinute {
	if limit <= 0 {
		return nil
	}
	return &PerMinute{limit: limit, max: max1(max), counts: map[uint64]int{}}
}

// Allow counts one use of key at now and reports whether it is within the cap.
func (p *PerMinute) Allow(key uint64, now time.Time) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := now.Unix() / 60; m != p.minute {
		p.minute = m
		clear(p.counts)
	}
	n, ok := p.counts[key]
	if !ok && len(p.counts) >= p.max {
		return true
	}
	p.counts[key] = n + 1
	return n < p.limit
}
