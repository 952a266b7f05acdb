package session

import (
	"errors"
	"fmt"
	"time"
)

// The UTC day is the unit of every rule that follows the session id: ids change at midnight
// UTC, and so do dedup across midnight, like caps, daily salts and snapshots. Every package
// takes its days from here, so they cannot disagree about when a day starts.

// Day returns midnight UTC of t's day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Yesterday returns midnight UTC of the day before t's.
func Yesterday(t time.Time) time.Time { return Day(t).AddDate(0, 0, -1) }

// DayNumber returns t's UTC day as days since 1970-01-01.
func DayNumber(t time.Time) int64 { return Day(t).Unix() / 86400 }

// DayOf is midnight UTC of day number n, the inverse of DayNumber.
func DayOf(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// FormatDay writes t's UTC day as YYYY-MM-DD.
func FormatDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// FirstDay is the earliest day tally accepts from people: nothing was counted before it, and
// day numbers stay far from where a 32-bit day field would wrap.
var FirstDay = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ErrDayRange means a well-formed date before FirstDay.
var ErrDayRange = errors.New("dates before 2000-01-01 are not accepted")

// ParseDay parses YYYY-MM-DD as a UTC day, refusing days before FirstDay.
func ParseDay(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	if t.Before(FirstDay) {
		return time.Time{}, fmt.Errorf("date %q: %w", s, ErrDayRange)
	}
	return t, nil
}
