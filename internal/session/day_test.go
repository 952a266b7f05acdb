package session

import (
	"errors"
	"testing"
	"time"
)

func TestDayBoundaries(t *testing.T) {
	tests := []struct {
		at        time.Time
		day, prev string
	}{
		{time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC), "2026-11-24", "2026-11-23"},
		{time.Date(2026, 11, 24, 23, 59, 59, 999999999, time.UTC), "2026-11-24", "2026-11-23"},
		{time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC), "2026-03-01", "2026-02-28"},
		// 23:30 in New York on the 24th is already the 25th in UTC.
		{time.Date(2026, 11, 24, 23, 30, 0, 0, time.FixedZone("EST", -5*3600)), "2026-11-25", "2026-11-24"},
	}
	for _, tt := range tests {
		if got := FormatDay(Day(tt.at)); got != tt.day {
			t.Errorf("Day(%v) = %s, want %s", tt.at, got, tt.day)
		}
		if got := FormatDay(Yesterday(tt.at)); got != tt.prev {
			t.Errorf("Yesterday(%v) = %s, want %s", tt.at, got, tt.prev)
		}
		if DayNumber(tt.at) != DayNumber(Day(tt.at)) || DayNumber(Yesterday(tt.at)) != DayNumber(tt.at)-1 {
			t.Errorf("DayNumber(%v) disagrees with Day", tt.at)
		}
	}
}

func TestParseDay(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		inRange bool
	}{
		{"2026-11-24", true, true},
		{"2000-01-01", true, true},
		{"1999-12-31", false, false},
		{"0001-01-01", false, false},
		{"", false, true},
		{"2026-13-01", false, true},
		{"24.11.2026", false, true},
		{"2026-11-24T00:00:00Z", false, true},
	}
	for _, tt := range tests {
		d, err := ParseDay(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseDay(%q) = %v, %v", tt.in, d, err)
		}
		if errors.Is(err, ErrDayRange) == tt.inRange {
			t.Errorf("ParseDay(%q): %v; ErrDayRange expected: %v", tt.in, err, !tt.inRange)
		}
		if tt.ok && (d.Location() != time.UTC || FormatDay(d) != tt.in) {
			t.Errorf("ParseDay(%q) = %v", tt.in, d)
		}
	}
}
