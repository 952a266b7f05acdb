package bolt

import (
	"context"
	"testing"
	"time"

	"github.com/tallyhq/tally/internal/clock"
	"github.com/tallyhq/tally/internal/item"
)

// TestDimensionsSurviveRestart: the row changes of acknowledged views wait in the log until a
// fold; a process that stops before one (kill -9 included) finds them in the log at start, and
// still knows today's visitors and values.
func TestDimensionsSurviveRestart(t *testing.T) {
	clk := clock.NewFake(noon)
	ctx := context.Background()
	opts := Options{Now: clk.Now, MaxDimValues: 1, FoldEvery: time.Hour} // no fold but the flush's
	s, path := openTestStore(t, opts)
	view := func(s *Store, who, ref string) {
		t.Helper()
		v := item.View{Item: hello, Session: sid(who, noon), Page: true}
		v.Dims[item.DimReferrer] = ref
		if err := s.Record(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	view(s, "a", "news.example.org")
	s.Close()

	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	view(s, "a", "other.example.org") // the same visitor, and a value past the cap of 1
	changes, err := s.DimsDirty(ctx, item.DimChange{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, ch := range changes {
		for _, r := range ch.Rows {
			if r.Owner.Type == "" {
				got[r.Dim.String()+"="+r.Value] = [2]int64{r.Views, r.Visitors}
			}
		}
	}
	want := map[string][2]int64{"=": {2, 1}, "referrer=news.example.org": {1, 1}, "referrer=(other)": {1, 0}}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("site row %s = %v, want %v (all rows: %v)", k, got[k], w, got)
		}
	}
}
