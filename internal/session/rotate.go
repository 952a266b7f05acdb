package session

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// PreviousDayGrace is how long after midnight UTC yesterday's session ids are still honoured:
// as long as the dedup window, so a reader who crosses midnight is not counted twice. In
// rotating mode, yesterday's salt is destroyed when it ends.
const PreviousDayGrace = 30 * time.Minute

// SaltDir holds the daily salts of the rotating mode, inside the data directory.
const SaltDir = "salts"

// DaySalts keeps the salts of the daily rotation: files in the data directory (NewRotating), or
// a store that every node shares, so that all derive the same ids.
type DaySalts interface {
	// Salts returns every salt kept, by UTC day number (days since 1970-01-01).
	Salts(ctx context.Context) (map[int64][]byte, error)
	// Keep stores salt as day's unless the day has one already, and returns the day's salt.
	Keep(ctx context.Context, day int64, salt []byte) ([]byte, error)
	// Destroy deletes day's salt for good.
	Destroy(ctx context.Context, day int64) error
}

// rotation gives each UTC day its own random salt and destroys it once the day and its grace
// period are over, so that no id stored then can ever be linked to an address again, even by
// someone who holds the data directory.
//
// The beacon path only reads salts held in memory: Rotate, run by the node every minute and at
// start, fetches or creates today's and tomorrow's salts ahead of midnight and destroys the
// expired ones, so no lock is held across a round trip to a shared store and a store that is
// away at midnight changes nothing. A salt Rotate could not share is made in memory, used, and
// shared (or replaced by the one another node shared) by the first Rotate that succeeds.
type rotation struct {
	store    DaySalts
	now      func() time.Time
	mu       sync.RWMutex
	salts    map[int64][]byte // UTC day number → salt
	unshared map[int64]bool   // days whose salt is only in memory: the store did not take it
	destroy  []int64          // days whose salt the store has still to destroy
	err      error            // what the last Rotate could not do; nil when all went well
}

// NewRotating returns a Deriver whose salt changes every UTC day. Today's salt is kept in
// dir/salts (mode 0600) so a restart the same day does not make every visitor new; salts of
// past days are destroyed at once.
func NewRotating(ctx context.Context, dir string, now func() time.Time) (*Deriver, error) {
	d := saltDir(filepath.Join(dir, SaltDir))
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("session: salt directory: %w", err)
	}
	return NewRotatingIn(ctx, d, now)
}

// NewRotatingIn is NewRotating with the salts kept in store. It fails when the store cannot
// give today's salt: without one nothing would be counted alike on every node.
func NewRotatingIn(ctx context.Context, store DaySalts, now func() time.Time) (*Deriver, error) {
	salts, err := store.Salts(ctx)
	if err != nil {
		return nil, err
	}
	r := &rotation{store: store, now: now, salts: salts, unshared: map[int64]bool{}}
	if err := r.rotate(ctx); err != nil {
		return nil, err
	}
	return &Deriver{rot: r}, nil
}

// Rotate makes sure today's and tomorrow's salts are held and shared, and destroys the salts
// whose day and grace period are over. Its error says what it could not do; counting goes on
// with the salts held, and the next Rotate tries again. Nil for a Deriver that does not rotate.
func (d *Deriver) Rotate(ctx context.Context) error {
	if d == nil || d.rot == nil {
		return nil
	}
	return d.rot.rotate(ctx)
}

// RotationError returns what the last Rotate could not do, nil when it did everything (or the
// Deriver does not rotate): while it is not nil, the day's salt may not be shared or destroyed.
func (d *Deriver) RotationError() error {
	if d == nil || d.rot == nil {
		return nil
	}
	d.rot.mu.RLock()
	defer d.rot.mu.RUnlock()
	return d.rot.err
}

// keepFrom is the first day whose salt is still needed at now: yesterday's during the grace
// period after midnight, else today's.
func keepFrom(now time.Time) int64 {
	midnight := Day(now)
	if now.Sub(midnight) < PreviousDayGrace {
		return DayNumber(midnight) - 1
	}
	return DayNumber(midnight)
}

func (r *rotation) rotate(ctx context.Context) error {
	now := r.now().UTC()
	today := DayNumber(now)
	var errs []error

	r.mu.Lock()
	from := keepFrom(now)
	for day, salt := range r.salts {
		if day < from {
			clear(salt) // what Go allows: overwrite the bytes before letting go
			delete(r.salts, day)
			delete(r.unshared, day)
			r.destroy = append(r.destroy, day)
		}
	}
	destroy := r.destroy
	r.destroy = nil
	r.mu.Unlock()
	for _, day := range destroy {
		if err := r.store.Destroy(ctx, day); err != nil {
			errs = append(errs, fmt.Errorf("destroy the salt of %s: %w", dayName(day), err))
			r.mu.Lock()
			r.destroy = append(r.destroy, day)
			r.mu.Unlock()
		}
	}

	for _, day := range []int64{today, today + 1} {
		r.mu.RLock()
		salt, held := r.salts[day]
		unshared := r.unshared[day]
		r.mu.RUnlock()
		if held && !unshared {
			continue
		}
		if !held {
			salt = newSalt()
		}
		kept, err := r.store.Keep(ctx, day, salt)
		r.mu.Lock()
		if err != nil {
			errs = append(errs, fmt.Errorf("make the salt of %s: %w", dayName(day), err))
			if _, ok := r.salts[day]; !ok {
				r.salts[day], r.unshared[day] = salt, true
			}
		} else {
			r.salts[day] = kept
			delete(r.unshared, day)
		}
		r.mu.Unlock()
	}
	err := errors.Join(errs...)
	if err != nil {
		err = fmt.Errorf("session: daily salt: %w", err)
	}
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	return err
}

func newSalt() []byte {
	salt := make([]byte, 32)
	rand.Read(salt)
	return salt
}

// saltDir keeps each day's salt in a file named after the day.
type saltDir string

func (d saltDir) Salts(context.Context) (map[int64][]byte, error) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil, fmt.Errorf("session: read salts: %w", err)
	}
	out := map[int64][]byte{}
	for _, e := range entries {
		t, err := ParseDay(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(string(d), e.Name()))
		if err != nil || len(b) < 16 {
			return nil, fmt.Errorf("session: salt %s unreadable or too short", e.Name())
		}
		out[DayNumber(t)] = b
	}
	return out, nil
}

func (d saltDir) Keep(_ context.Context, day int64, salt []byte) ([]byte, error) {
	path := filepath.Join(string(d), dayName(day))
	err := createFile(path, salt)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	return salt, err
}

func (d saltDir) Destroy(_ context.Context, day int64) error {
	err := os.Remove(filepath.Join(string(d), dayName(day)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// saltFor returns the salt of t's UTC day from memory, without a round trip. A day whose
// salt is past its grace period gets a throwaway salt (its ids match nothing, which is the
// point), as does a past day never held; a day Rotate has not prepared (it could not reach
// the store, or the clock jumped) gets a salt made now, held until Rotate shares it.
func (r *rotation) saltFor(t time.Time) []byte {
	day := DayNumber(t)
	r.mu.RLock()
	s, ok := r.salts[day]
	r.mu.RUnlock()
	now := r.now().UTC()
	if ok && day >= keepFrom(now) {
		return s
	}
	if ok || day < DayNumber(now) {
		return newSalt()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.salts[day]; ok {
		return s
	}
	s = newSalt()
	r.salts[day], r.unshared[day] = s, true
	return s
}

// dayName is a day number as YYYY-MM-DD, the salt's file name.
func dayName(day int64) string { return FormatDay(time.Unix(day*86400, 0)) }
