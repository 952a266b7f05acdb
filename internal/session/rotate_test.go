package session

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRotatingSaltAcrossADay(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	d, err := NewRotating(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	const ip, ua = "203.0.113.7", "Mozilla/5.0 Test"
	day1 := d.ID(ip, ua, clk.t)
	if d.ID(ip, ua, clk.t.Add(time.Hour)) != day1 {
		t.Fatal("the id changed within the day")
	}
	saltFile := filepath.Join(dir, SaltDir, "2026-11-24")
	if fi, err := os.Stat(saltFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("today's salt file: %v %v", fi, err)
	}

	// A restart the same day keeps the visitors.
	d, err = NewRotating(dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID(ip, ua, clk.t) != day1 {
		t.Error("a restart the same day changed the id")
	}

	// 00:10 the next day: a new salt, yesterday's ids still recognised.
	clk.t = time.Date(2026, 11, 25, 0, 10, 0, 0, time.UTC)
	day2 := d.ID(ip, ua, clk.t)
	if day2 == day1 {
		t.Error("the id did not change at midnight")
	}
	yesterday := time.Date(2026, 11, 24, 23, 59, 0, 0, time.UTC)
	if d.ID(ip, ua, yesterday) != day1 {
		t.Error("yesterday's id is not recognised during the grace period")
	}

	// 00:30: yesterday's salt is destroyed, on disk and in memory.
	clk.t = time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	d.ID(ip, ua, clk.t)
	if _, err := os.Stat(saltFile); !os.IsNotExist(err) {
		t.Errorf("yesterday's salt file still exists after the grace period: %v", err)
	}
	if d.ID(ip, ua, yesterday) == day1 {
		t.Error("yesterday's id can still be computed after its salt was destroyed")
	}
	if d.ID(ip, ua, clk.t) != day2 {
		t.Error("today's id changed when yesterday's salt went")
	}

	// Starting days later destroys stale salts at once.
	clk.t = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	if _, err := NewRotating(dir, clk.now); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, SaltDir))
	if len(left) != 0 {
		t.Errorf("salts of past days survived a start-up: %v", left)
	}
}
