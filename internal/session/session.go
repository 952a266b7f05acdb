// Package session derives tally's anonymous, daily-rotating session id.
//
// The id is the first 128 bits of SHA-256("ip|user-agent|YYYY-MM-DD|salt"), with the date in UTC.
// Because the date is hashed in, the same visitor gets an unrelated id after midnight UTC, and
// because the salt is secret, a stored id cannot be walked back to an IP address. The inputs are
// never kept: callers pass them in, get an ID back, and drop them.
//
// In the rotating mode each UTC day has its own random salt, destroyed half an hour after the
// day ends; then not even the owner can link a stored id to an address.
//
// This package imports nothing else of tally's, so it can be read and tested alone.
package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"time"
)

// ID is a session id: 128 bits, printed as 32 lower-case hex digits.
type ID [16]byte

// String returns the id as 32 hex digits.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is the zero ID, which no derivation produces in practice.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses 32 hex digits into an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return ID{}, errors.New("session: id must be 32 hex digits")
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, errors.New("session: id must be 32 hex digits")
	}
	return id, nil
}

// Deriver computes session ids: with one secret salt (NewDeriver), or with a fresh salt each
// UTC day that is destroyed soon after (NewRotating).
type Deriver struct {
	salt []byte
	rot  *rotation
}

// NewDeriver returns a Deriver for salt. An empty salt is refused: without a secret the id could
// be recomputed by anyone who knows an IP address, so tally counts nothing instead.
func NewDeriver(salt []byte) (*Deriver, error) {
	if len(salt) == 0 {
		return nil, errors.New("session: empty salt")
	}
	return &Deriver{salt: append([]byte(nil), salt...)}, nil
}

// IDAddr derives the session id of a visitor at address ip with userAgent at time t (taken in
// UTC), without allocating for the common User-Agent.
func (d *Deriver) IDAddr(ip netip.Addr, userAgent string, t time.Time) ID {
	var buf [512]byte
	return d.sum(ip.AppendTo(buf[:0]), userAgent, t)
}

// sum hashes b (the address, already in it), the User-Agent, the date and the salt. The caller's
// stack buffer keeps the common case free of allocations; long User-Agents spill to the heap.
func (d *Deriver) sum(b []byte, userAgent string, t time.Time) ID {
	salt := d.salt
	if d.rot != nil {
		salt = d.rot.saltFor(t)
	}
	b = append(b, '|')
	b = append(b, userAgent...)
	b = append(b, '|')
	b = t.UTC().AppendFormat(b, time.DateOnly)
	b = append(b, '|')
	b = append(b, salt...)
	sum := sha256.Sum256(b)
	var id ID
	copy(id[:], sum[:len(id)])
	return id
}
