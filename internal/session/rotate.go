package session

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
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
	Salts() (map[int64][]byte, error)
	// Keep stores salt as day's unless the day has one already, and returns the day's salt.
	Keep(day int64, salt []byte) ([]byte, error)
	// Destroy deletes day's salt for good.
	Destroy(day int64) error
}

// rotation gives each UTC day its own random salt and destroys it once the day and its grace
// period are over, so that no id stored then can ever be linked to an address again, even by
// someone who holds the data directory.
type rotation struct {
	store   DaySalts
	now     func() time.Time
	mu      sync.RWMutex
	salts   map[int64][]byte // UTC day number (days since 1970-01-01) → salt
	purgeAt atomic.Int64     // unix ns when the next salt must go
}

// NewRotating returns a Deriver whose salt changes every UTC day. Today's salt is kept in
// dir/salts (mode 0600) so a restart the same day does not make every visitor new; salts of
// past days are destroyed at once.
func NewRotating(dir string, now func() time.Time) (*Deriver, error) {
	d := saltDir(filepath.Join(dir, SaltDir))
	if err := os.MkdirAll(string(d), 0o700); err != nil {
		return nil, fmt.Errorf("session: salt directory: %w", err)
	}
	return NewRotatingIn(d, now)
}

// NewRotatingIn is NewRotating with the salts kept in store.
func NewRotatingIn(store DaySalts, now func() time.Time) (*Deriver, error) {
	salts, err := store.Salts()
	if err != nil {
		return nil, err
	}
	r := &rotation{store: store, now: now, salts: salts}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.purge(now().UTC()); err != nil {
		return nil, err
	}
	return &Deriver{rot: r}, nil
}

// saltDir keeps each day's salt in a file named after the day.
type saltDir string

func (d saltDir) Salts() (map[int64][]byte, error) {
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

func (d saltDir) Keep(day int64, salt []byte) ([]byte, error) {
	path := filepath.Join(string(d), dayName(day))
	err := createFile(path, salt)
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	return salt, err
}

func (d saltDir) Destroy(day int64) error {
	err := os.Remove(filepath.Join(string(d), dayName(day)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// saltFor returns the salt of t's UTC day. A day whose salt is gone or was never made gets a
// throwaway salt: its ids match nothing, which is the point.
func (r *rotation) saltFor(t time.Time) []byte {
	if t.UnixNano() >= r.purgeAt.Load() {
		r.mu.Lock()
		r.purge(t.UTC())
		r.mu.Unlock()
	}
	day := DayNumber(t)
	r.mu.RLock()
	s, ok := r.salts[day]
	r.mu.RUnlock()
	if ok {
		return s
	}
	return r.create(day)
}

func (r *rotation) create(day int64) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.salts[day]; ok {
		return s
	}
	salt := make([]byte, 32)
	rand.Read(salt)
	if day < DayNumber(r.now()) {
		return salt // a past day: never kept
	}
	kept, err := r.store.Keep(day, salt)
	if err != nil {
		// Counting goes on with the salt in memory; a restart today would start sessions anew.
		return salt
	}
	r.salts[day] = kept
	return kept
}

// purge destroys every salt older than yesterday, and yesterday's once the grace period after
// midnight is over, then notes when the next one is due. r.mu must be held.
func (r *rotation) purge(now time.Time) error {
	midnight := Day(now)
	keepFrom := DayNumber(midnight) - 1
	next := midnight.Add(PreviousDayGrace)
	if now.Sub(midnight) >= PreviousDayGrace {
		keepFrom = DayNumber(midnight)
		next = midnight.AddDate(0, 0, 1).Add(PreviousDayGrace)
	}
	var errs []error
	for day, salt := range r.salts {
		if day >= keepFrom {
			continue
		}
		clear(salt) // what Go allows: overwrite the bytes before letting go
		delete(r.salts, day)
		if err := r.store.Destroy(day); err != nil {
			errs = append(errs, fmt.Errorf("session: destroy salt %s: %w", dayName(day), err))
		}
	}
	r.purgeAt.Store(next.UnixNano())
	return errors.Join(errs...)
}

// dayName is a day number as YYYY-MM-DD, the salt's file name.
func dayName(day int64) string { return FormatDay(time.Unix(day*86400, 0)) }
