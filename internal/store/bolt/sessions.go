package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// Owner sessions (internal/admin.Sessions). They are few and written only at login and logout,
// so they go straight to the file, beside the writer goroutine rather than through it.

// CreateSession stores an owner session by the hash of its token, and forgets expired ones.
func (s *Store) CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error {
	now := s.now().UnixMilli()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAdmin)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if exp, _ := decodeSession(v); exp <= now {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		v := binary.BigEndian.AppendUint64(nil, uint64(expires.UnixMilli()))
		return b.Put([]byte(tokenHash), append(v, pw...))
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return ctx.Err()
}

// SessionValid reports whether a session with this token hash exists, has not expired, and was
// opened under the password whose fingerprint is pw.
func (s *Store) SessionValid(ctx context.Context, tokenHash, pw string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		exp, fp := decodeSession(tx.Bucket(bucketAdmin).Get([]byte(tokenHash)))
		ok = exp > s.now().UnixMilli() && fp == pw
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("check session: %w", err)
	}
	return ok, ctx.Err()
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAdmin).Delete([]byte(tokenHash))
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return ctx.Err()
}

// decodeSession splits a session value into its expiry (unix ms) and password fingerprint.
func decodeSession(v []byte) (expMs int64, pw string) {
	if len(v) < 8 {
		return 0, ""
	}
	return int64(binary.BigEndian.Uint64(v)), string(v[8:])
}
