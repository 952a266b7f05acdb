package excluded_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/excluded"
	"github.com/tallyhq/tally/internal/item"
	"github.com/tallyhq/tally/internal/store/bolt"
	"github.com/tallyhq/tally/internal/store/storetest"
)

var noon = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func rows(t *testing.T, w *bolt.Store) map[string]int64 {
	t.Helper()
	rs, _, err := w.Excluded(context.Background(), "", 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, r := range rs {
		m[fmt.Sprintf("%s %s %s %s", r.Site, r.Day, r.Kind, r.Name)] = r.Count
	}
	return m
}

// listed is an owner's --sites.
func listed(sites ...string) func(string) bool {
	return func(s string) bool { return slices.Contains(sites, s) }
}

func TestBufferCapsBotTokensPerSiteAndDay(t *testing.T) {
	w := storetest.Write(t, bolt.Options{})
	b := excluded.New(w, listed("a.com", "b.com"))
	for i := range excluded.MaxTokensPerDay + 5 {
		b.Add("a.com", excluded.Bot, fmt.Sprintf("Bot%d", i), noon)
	}
	b.Add("a.com", excluded.Bot, "Bot0", noon) // a known token still counts as itself
	b.Add("a.com", excluded.Bot, "", noon)
	b.Add("b.com", excluded.Bot, "Bot200", noon) // another site has its own tokens
	if err := b.Drain(context.Background(), noon); err != nil {
		t.Fatal(err)
	}
	got := rows(t, w)
	for k, want := range map[string]int64{
		"a.com 2026-11-24 reason bot":    excluded.MaxTokensPerDay + 7,
		"a.com 2026-11-24 bot Bot0":      2,
		"a.com 2026-11-24 bot (other)":   6, // 5 past the cap and the one without a name
		"b.com 2026-11-24 bot Bot200":    1,
		"a.com 2026-11-24 bot (unknown)": 0,
		"a.com 2026-11-24 bot Bot104":    0,
		"a.com 2026-11-24 bot Bot99":     1,
		"b.com 2026-11-24 reason bot":    1,
	} {
		if got[k] != want {
			t.Errorf("%s = %d, want %d", k, got[k], want)
		}
	}
	if n := len(got); n != excluded.MaxTokensPerDay+4 {
		t.Errorf("%d rows, want %d: the cap bounds them", n, excluded.MaxTokensPerDay+4)
	}
}

// reopened forwards to a real write model that the test closes and opens again.
type reopened struct{ w *bolt.Store }

func (r *reopened) AddExcluded(ctx context.Context, rows []item.Excluded) error {
	return r.w.AddExcluded(ctx, rows)
}

func (r *reopened) KeptSites(ctx context.Context, sites []string) (map[string]bool, error) {
	return r.w.KeptSites(ctx, sites)
}

// TestBufferKeepsCountsAWriteModelRefused: a failed drain loses nothing of today or yesterday;
// the retry adds the counts once. Older days are dropped: the flush may have closed them.
func TestBufferKeepsCountsAWriteModelRefused(t *testing.T) {
	path := t.TempDir() + "/write.db"
	w, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &reopened{w}
	b := excluded.New(sink, listed("a.com"))
	b.Add("a.com", excluded.Prefetch, "", noon)
	b.Add("a.com", excluded.Prefetch, "", noon.AddDate(0, 0, -1))
	b.Add("a.com", excluded.Prefetch, "", noon.AddDate(0, 0, -3))
	w.Close()
	if err := b.Drain(context.Background(), noon); err == nil {
		t.Fatal("drain into a closed write model succeeded")
	}
	if sink.w, err = bolt.Open(path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	defer sink.w.Close()
	if err := b.Drain(context.Background(), noon); err != nil {
		t.Fatal(err)
	}
	got := rows(t, sink.w)
	if len(got) != 2 || got["a.com 2026-11-24 reason prefetch"] != 1 || got["a.com 2026-11-23 reason prefetch"] != 1 {
		t.Errorf("after the retry: %v, want today's and yesterday's prefetch", got)
	}
	if b.Dropped() != 1 {
		t.Errorf("Dropped = %d, want the one too old to retry", b.Dropped())
	}
	var nilBuffer *excluded.Buffer
	nilBuffer.Add("a.com", excluded.Bot, "x", noon) // a handler without a buffer
	if err := nilBuffer.Drain(context.Background(), noon); err != nil {
		t.Fatal(err)
	}
}

// TestExclusionsOfUnkeptSitesAreOneRow: a flood of beacons for hosts the write model does not
// keep (refused by --max-sites, or never counted) makes one "(other sites)" row per day and
// reason, their bots one "(other)" token; a site with a counted view, or one the owner listed,
// keeps its own rows.
func TestExclusionsOfUnkeptSitesAreOneRow(t *testing.T) {
	w := storetest.Write(t, bolt.Options{})
	if err := w.Record(context.Background(), item.View{Item: item.Item{Site: "counted.example", Type: "home"}}); err != nil {
		t.Fatal(err)
	}
	b := excluded.New(w, listed("listed.example"))
	for i := range 5000 {
		b.Add(fmt.Sprintf("junk%d.example", i), excluded.RateLimit, "", noon)
		b.Add(fmt.Sprintf("junk%d.example", i), excluded.Bot, fmt.Sprintf("Bot%d", i), noon)
	}
	b.Add("counted.example", excluded.Prefetch, "", noon)
	b.Add("listed.example", excluded.Bot, "Googlebot", noon)
	if err := b.Drain(context.Background(), noon); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"(other sites) 2026-11-24 reason rate_limit": 5000,
		"(other sites) 2026-11-24 reason bot":        5000,
		"(other sites) 2026-11-24 bot (other)":       5000,
		"counted.example 2026-11-24 reason prefetch": 1,
		"listed.example 2026-11-24 reason bot":       1,
		"listed.example 2026-11-24 bot Googlebot":    1,
	}
	if got := rows(t, w); !maps.Equal(got, want) {
		t.Errorf("rows = %v\nwant %v", got, want)
	}
}
