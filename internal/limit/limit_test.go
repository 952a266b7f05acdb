package limit

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestClientsRateAndBurst(t *testing.T) {
	c := NewClients(20, 40, 1000)
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("198.51.100.2")
	allowed := 0
	for range 100 {
		if c.Allow(a, t0) {
			allowed++
		}
	}
	if allowed != 40 {
		t.Errorf("a burst of 100 at once let %d through, want the burst of 40", allowed)
	}
	if !c.Allow(b, t0) {
		t.Error("another client was limited by the first one's burst")
	}
	if !c.Allow(a, t0.Add(100*time.Millisecond)) {
		t.Error("after 100 ms at 20/s, two more requests should be allowed")
	}
}

func TestClientsIPv6Per64(t *testing.T) {
	c := NewClients(1, 2, 1000)
	allowed := 0
	for i := range 10 {
		if c.Allow(netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1)), t0) {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("addresses of one /64 got %d requests, want the one burst of 2", allowed)
	}
}

// TestClientsIPv6WiderBlocks: rotating through the /64s of one /56 (or /48) allocation buys a
// few clients' budget, not 256 (or 65,536) of them; another allocation is not affected.
func TestClientsIPv6WiderBlocks(t *testing.T) {
	tests := []struct {
		name   string
		addr   func(i int) string
		n      int
		budget int // the burst of 2, times the block's budget
	}{
		{"256 /64s of one /56", func(i int) string { return fmt.Sprintf("2001:db8:1:%x::1", i) }, 256, 2 * 4},
		{"/64s in 256 /56s of one /48", func(i int) string { return fmt.Sprintf("2001:db8:1:%x00::1", i) }, 256, 2 * 16},
		{"IPv4 addresses", func(i int) string { return fmt.Sprintf("198.51.%d.%d", i/200, i%200) }, 256, 2 * 256},
	}
	for _, tt := range tests {
		c := NewClients(1, 2, 100_000)
		allowed := 0
		for i := range tt.n {
			for range 2 {
				if c.Allow(netip.MustParseAddr(tt.addr(i)), t0) {
					allowed++
				}
			}
		}
		if allowed != tt.budget {
			t.Errorf("%s: %d requests allowed, want %d", tt.name, allowed, tt.budget)
		}
		if !c.Allow(netip.MustParseAddr("2001:db8:ffff::1"), t0) {
			t.Errorf("%s: a client of another allocation was refused", tt.name)
		}
	}
}

func TestClientsMemoryIsBounded(t *testing.T) {
	const max = 1000
	c := NewClients(20, 40, max)
	for i := range 50 * max {
		c.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if n := c.Len(); n > 2*max {
		t.Errorf("tracking %d clients after a flood of distinct addresses, want at most %d", n, 2*max)
	}
}

func TestNilAllowsEverything(t *testing.T) {
	var c *Clients = NewClients(0, 0, 0)
	var p *PerMinute = NewPerMinute(0, 0)
	for range 1000 {
		if !c.Allow(netip.MustParseAddr("198.51.100.1"), t0) || !p.Allow(1, t0) {
			t.Fatal("a disabled limit refused")
		}
	}
}

func TestPerMinute(t *testing.T) {
	p := NewPerMinute(10, 1000)
	allowed := 0
	for i := range 12 {
		if p.Allow(7, t0.Add(time.Duration(i)*time.Second)) {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("12 uses in a minute: %d allowed, want 10", allowed)
	}
	if !p.Allow(8, t0) {
		t.Error("another key was capped")
	}
	if !p.Allow(7, t0.Add(time.Minute)) {
		t.Error("the next minute starts afresh")
	}
}

func TestPerMinuteMemoryIsBounded(t *testing.T) {
	p := NewPerMinute(10, 100)
	for i := range 10_000 {
		p.Allow(uint64(i), t0)
	}
	if len(p.counts) > 100 {
		t.Errorf("tracking %d keys, want at most 100", len(p.counts))
	}
}
