package session

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRotatingSaltAcrossADay(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	d, err := NewRotating(context.Background(), dir, clk.now)
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
	d, err = NewRotating(context.Background(), dir, clk.now)
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

	// 00:30: yesterday's ids are refused at once; the node's next Rotate (each minute)
	// destroys its salt on disk and in memory.
	clk.t = time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	if d.ID(ip, ua, yesterday) == day1 {
		t.Error("yesterday's id can still be computed after the grace period")
	}
	if err := d.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
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
	if _, err := NewRotating(context.Background(), dir, clk.now); err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(filepath.Join(dir, SaltDir))
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if !slices.Equal(left, []string{"2026-11-28", "2026-11-29"}) {
		t.Errorf("salts after a start-up days later: %v, want only today's and tomorrow's", left)
	}
}

// TestRotationFailureIsReported: a rotation that cannot keep a salt says so (RotationError), ids
// go on from the salts held in memory, and the next rotation that can keeps them.
func TestRotationFailureIsReported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := &fakeClock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	d, err := NewRotating(ctx, dir, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	const ip, ua = "203.0.113.7", "Mozilla/5.0 Test"
	today := d.ID(ip, ua, clk.t)
	if _, err := os.Stat(filepath.Join(dir, SaltDir, "2026-11-25")); err != nil {
		t.Fatalf("tomorrow's salt was not made ahead of midnight: %v", err)
	}
	// The day after tomorrow's salt cannot be kept: a directory stands where its file goes.
	blocker := filepath.Join(dir, SaltDir, "2026-11-26")
	if err := os.Mkdir(blocker, 0o700); err != nil {
		t.Fatal(err)
	}
	clk.t = time.Date(2026, 11, 25, 0, 40, 0, 0, time.UTC)
	if err := d.Rotate(ctx); err == nil || d.RotationError() == nil {
		t.Fatalf("a rotation that could not keep the next day's salt reported nothing: %v", err)
	}
	tomorrow := d.ID(ip, ua, clk.t)
	if tomorrow == today || d.ID(ip, ua, clk.t.Add(time.Hour)) != tomorrow {
		t.Error("the day's ids are not steady")
	}
	next := d.ID(ip, ua, clk.t.Add(24*time.Hour)) // from the salt held in memory only
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if err := d.Rotate(ctx); err != nil || d.RotationError() != nil {
		t.Fatalf("rotation with the store back: %v / %v", err, d.RotationError())
	}
	if _, err := os.Stat(blocker); err != nil {
		t.Errorf("the next day's salt is not kept once the store takes it: %v", err)
	}
	if d.ID(ip, ua, clk.t.Add(24*time.Hour)) != next {
		t.Error("the salt held in memory changed when it was kept")
	}
	if d2, err := NewRotating(ctx, dir, clk.now); err != nil || d2.ID(ip, ua, clk.t) != tomorrow {
		t.Errorf("a restart the same day changed the day's id (%v)", err)
	}
}
