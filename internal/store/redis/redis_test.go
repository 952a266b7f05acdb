package redis_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/session"
	"github.com/tallyhq/tally/internal/store/redis"
	"github.com/tallyhq/tally/internal/store/storetest"
)

// TestDailySaltsShared: with --salt-rotation daily on Redis, two nodes derive the same ids on
// one day and other ids the next, and yesterday's salt is gone from Redis after 00:30.
func TestDailySaltsShared(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	s := storetest.Redis(t, redis.Options{Now: clk.Now})
	n1, err := session.NewRotatingIn(context.Background(), s.DaySalts(), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	n2, err := session.NewRotatingIn(context.Background(), s.DaySalts(), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("203.0.113.9")
	id := func(d *session.Deriver) session.ID { return d.IDAddr(ip, "Mozilla/5.0", clk.Now()) }
	today := id(n1)
	if id(n2) != today {
		t.Fatal("two nodes derive different ids from the shared daily salt")
	}
	clk.Set(time.Date(2026, 11, 25, 0, 10, 0, 0, time.UTC))
	if id(n2) == today || id(n1) != id(n2) {
		t.Error("the next day's ids are not new, or not shared")
	}
	salts, _ := s.DaySalts().Salts(context.Background())
	if len(salts) != 2 {
		t.Errorf("%d daily salts kept during the grace period, want yesterday's and today's", len(salts))
	}
	clk.Set(time.Date(2026, 11, 25, 0, 31, 0, 0, time.UTC))
	if err := n1.Rotate(context.Background()); err != nil { // each node rotates every minute
		t.Fatal(err)
	}
	salts, _ = s.DaySalts().Salts(context.Background())
	if _, ok := salts[session.DayNumber(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))]; ok || len(salts) != 2 {
		t.Errorf("after 00:30: %d salts, want today's and tomorrow's (made ahead of midnight), not yesterday's", len(salts))
	}
}
