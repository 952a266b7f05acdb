package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CreateSession stores an owner session by the hash of its token, and forgets expired ones.
func (db *DB) CreateSession(ctx context.Context, tokenHash, pw string, expires time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `/* login */ DELETE FROM admin_sessions WHERE expires_at < ?`,
			db.timestamp()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `/* login */
			INSERT INTO admin_sessions (token_hash, pw, expires_at) VALUES (?, ?, ?)`,
			tokenHash, pw, expires.UTC().Format(time.RFC3339))
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionValid reports whether a session with this token hash exists, has not expired, and was
// opened under the password whose fingerprint is pw.
func (db *DB) SessionValid(ctx context.Context, tokenHash, pw string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `/* dashboard auth */
		SELECT COUNT(*) FROM admin_sessions WHERE token_hash = ? AND pw = ? AND expires_at > ?`,
		tokenHash, pw, db.timestamp()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check session: %w", err)
	}
	return n > 0, nil
}

// DeleteSession ends a session (logout).
func (db *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := db.write.ExecContext(ctx, `/* logout */ DELETE FROM admin_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
