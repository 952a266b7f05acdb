package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/tallyhq/tally/internal/admin"
)

// Owner sessions (internal/admin.Sessions), shared by every node: logging in on one works on
// all. Each is a key holding the password fingerprint and the expiry, compared with tally's
// clock; Redis forgets the key a little after that.

// CreateSession stores an owner session by the hash of its token.
func (s *Store) CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error {
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		return nil
	}
	v := strconv.FormatInt(expires.UnixMilli(), 10) + " " + pw
	if err := s.rdb.Set(ctx, s.p+"sess:"+tokenHash, v, ttl+time.Minute).Err(); err != nil {
		return fmt.Errorf("create session in %s: %w", s.where, err)
	}
	return nil
}

// SessionValid reports whether the session exists and was opened under the password whose
// fingerprint is pw.
func (s *Store) SessionValid(ctx context.Context, tokenHash, pw string) (bool, error) {
	v, err := s.rdb.Get(ctx, s.p+"sess:"+tokenHash).Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check session in %s: %w", s.where, err)
	}
	exp, fp, ok := strings.Cut(v, " ")
	ms, _ := strconv.ParseInt(exp, 10, 64)
	return ok && fp == pw && ms > s.now().UnixMilli(), nil
}

// DeleteSession ends a session (logout).
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if err := s.rdb.Del(ctx, s.p+"sess:"+tokenHash).Err(); err != nil {
		return fmt.Errorf("delete session in %s: %w", s.where, err)
	}
	return nil
}

// PasswordHash returns the admin password's bcrypt hash every node shares, or
// admin.ErrNoPassword when none is set.
func (s *Store) PasswordHash(ctx context.Context) ([]byte, error) {
	v, err := s.rdb.Get(ctx, s.p+"admin.hash").Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, admin.ErrNoPassword
	}
	if err != nil {
		return nil, fmt.Errorf("read admin password in %s: %w", s.where, err)
	}
	return v, nil
}

// SetPasswordHash replaces the shared admin password hash.
func (s *Store) SetPasswordHash(ctx context.Context, hash []byte) error {
	if err := s.rdb.Set(ctx, s.p+"admin.hash", hash, 0).Err(); err != nil {
		return fmt.Errorf("set admin password in %s: %w", s.where, err)
	}
	return nil
}

// LoggedIn reports whether the owner ever logged in on any node.
func (s *Store) LoggedIn(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.p+"admin.used").Result()
	if err != nil {
		return false, fmt.Errorf("read admin state in %s: %w", s.where, err)
	}
	return n > 0, nil
}

// NoteLogin notes that the owner logged in.
func (s *Store) NoteLogin(ctx context.Context) error {
	if err := s.rdb.Set(ctx, s.p+"admin.used", "1", 0).Err(); err != nil {
		return fmt.Errorf("note admin login in %s: %w", s.where, err)
	}
	return nil
}
