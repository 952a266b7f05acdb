package report

import (
	"fmt"
	"testing"
	"time"
)

func TestDailyMoveKeep(t *testing.T) {
	views := DailyMove{Old: Totals{1, 2}, New: Totals{2, 3}}
	likes := DailyMove{Old: Totals{1, 2}, New: Totals{1, 2}}
	tests := []struct {
		name   string
		m      DailyMove
		oldDay int64
		ok     bool
		want   bool
	}{
		{"views changed", views, 9, true, true},
		{"likes only, the row before stands", likes, 9, true, false},
		{"likes only, but a row of the day to overwrite", likes, 10, true, true},
		{"a new item without views", DailyMove{}, 0, false, false},
	}
	for _, tt := range tests {
		if got := tt.m.Keep(tt.oldDay, tt.ok, 10); got != tt.want {
			t.Errorf("%s: Keep = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestCumulate: each day sums every key's latest row on or before it; a row before the first
// day is the baseline; days before any row are unknown.
func TestCumulate(t *testing.T) {
	first := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	d := func(offset int) int64 { return first.AddDate(0, 0, offset).Unix() / 86400 }
	rows := []DayRow{
		{Key: "blog", Day: d(2), Totals: Totals{3, 5}},
		{Key: "page", Day: d(-4), Totals: Totals{1, 1}}, // baseline from before the range
		{Key: "blog", Day: d(0), Totals: Totals{1, 2}},
	}
	var got []string
	for _, p := range Cumulate(rows, first.AddDate(0, 0, -5), first.AddDate(0, 0, 3)) {
		got = append(got, fmt.Sprintf("%v:%d", p.Known, p.Totals.Total))
	}
	want := "[false:0 true:1 true:1 true:1 true:1 true:3 true:3 true:6 true:6]"
	if fmt.Sprint(got) != want {
		t.Errorf("Cumulate = %v, want %s", got, want)
	}
}

// TestGroupMoves: moves sum by site, type and next day; a zero difference still has its group,
// so the site gets its row for the day.
func TestGroupMoves(t *testing.T) {
	moves := []DailyMove{
		{Site: "a", Type: "blog", Old: Totals{1, 1}, New: Totals{2, 3}},
		{Site: "a", Type: "blog", Old: Totals{0, 0}, New: Totals{1, 1}},
		{Site: "a", Type: "blog", Old: Totals{1, 1}, New: Totals{1, 2}, Next: 7, HasNext: true},
		{Site: "b", Type: "page", Old: Totals{4, 4}, New: Totals{4, 4}},
	}
	got := fmt.Sprint(GroupMoves(moves))
	want := "[{a blog {0 1} 7 true} {a blog {2 3} 0 false} {b page {0 0} 0 false}]"
	if got != want {
		t.Errorf("GroupMoves = %s, want %s", got, want)
	}
}
