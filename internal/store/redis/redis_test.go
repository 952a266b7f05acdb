package redis_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
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

// TestChangedIndexBuiltForOlderStores: a store written before the index of changed items
// existed (no P changed set) gets it on open, from the items' records and histories, so the
// snapshot of any earlier day still finds its items.
func TestChangedIndexBuiltForOlderStores(t *testing.T) {
	d1 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(d1)
	url, prefix := storetest.RedisURL(t)
	ctx := context.Background()
	s, err := redis.Open(ctx, url, redis.Options{Now: clk.Now, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	a, b := item.Item{Site: "example.com", Type: "blog", Slug: "a"}, item.Item{Site: "example.com", Type: "blog", Slug: "b"}
	for _, step := range []struct {
		day int
		it  item.Item
	}{{0, a}, {2, a}, {2, b}, {3, b}} {
		clk.Set(d1.AddDate(0, 0, step.day))
		if err := s.Record(ctx, item.View{Item: step.it, Session: storetest.SID("v", clk.Now()), Page: true}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(o)
	defer raw.Close()
	if err := raw.Del(ctx, prefix+"changed", prefix+"changed:built").Err(); err != nil {
		t.Fatal(err)
	}
	s, err = redis.Open(ctx, url, redis.Options{Now: clk.Now, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for offset, want := range map[int]string{0: "[a:1]", 1: "[]", 2: "[a:2 b:1]", 3: "[b:2]"} {
		rows, err := s.ChangedOn(ctx, d1.AddDate(0, 0, offset), item.Item{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s:%d", r.Item.Slug, r.Counts.Total))
		}
		if fmt.Sprint(got) != want {
			t.Errorf("day %+d after the rebuild: %v, want %s", offset, got, want)
		}
	}
}
