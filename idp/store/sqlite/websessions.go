package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"idpbridge/idp/store"
)

var _ store.WebSessionStore = ops{}

const sessionColumns = `id_hash, username, connector, identity, created_at, authn_instant, expires_at, revoked_at`

func (o ops) CreateBrowserSession(ctx context.Context, s store.BrowserSession) error {
	if len(s.IDHash) != 32 {
		return fmt.Errorf("browser session: id hash must be 32 bytes, got %d", len(s.IDHash))
	}
	var revoked any
	if !s.RevokedAt.IsZero() {
		revoked = micros(s.RevokedAt)
	}
	_, err := o.q.ExecContext(ctx, `INSERT INTO browser_sessions (id_hash, username, username_key, connector, identity,
		created_at, authn_instant, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IDHash, s.Username, strings.ToLower(s.Username), s.Connector, string(s.Identity),
		micros(s.CreatedAt), micros(s.AuthnInstant), micros(s.ExpiresAt), revoked)
	if isConflict(err) {
		return fmt.Errorf("browser session: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create browser session: %w", err)
	}
	return nil
}

func (o ops) GetBrowserSession(ctx context.Context, idHash []byte) (store.BrowserSession, error) {
	var (
		s                       store.BrowserSession
		identity                string
		created, authn, expires int64
		revoked                 sql.NullInt64
	)
	err := o.q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM browser_sessions WHERE id_hash = ?`, idHash).
		Scan(&s.IDHash, &s.Username, &s.Connector, &identity, &created, &authn, &expires, &revoked)
	if err != nil {
		return store.BrowserSession{}, notFound(err, "browser session")
	}
	s.Identity = []byte(identity)
	s.CreatedAt, s.AuthnInstant, s.ExpiresAt = fromMicros(created), fromMicros(authn), fromMicros(expires)
	if revoked.Valid {
		s.RevokedAt = fromMicros(revoked.Int64)
	}
	return s, nil
}

func (o ops) RevokeBrowserSession(ctx context.Context, idHash []byte, at time.Time) error {
	res, err := o.q.ExecContext(ctx, `UPDATE browser_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id_hash = ?`,
		micros(at), idHash)
	if err != nil {
		return fmt.Errorf("revoke browser session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("browser session: %w", store.ErrNotFound)
	}
	return nil
}

func (o ops) RevokeUserBrowserSessions(ctx context.Context, connector, username string, at time.Time) (int, error) {
	res, err := o.q.ExecContext(ctx, `UPDATE browser_sessions SET revoked_at = ?
		WHERE connector = ? AND username_key = ? AND revoked_at IS NULL`, micros(at), connector, strings.ToLower(username))
	if err != nil {
		return 0, fmt.Errorf("revoke browser sessions of %q: %w", username, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (o ops) DeleteBrowserSessions(ctx context.Context, before time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	res, err := o.q.ExecContext(ctx, `DELETE FROM browser_sessions WHERE expires_at < ?1 OR revoked_at < ?1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete browser sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

func (o ops) ListBrowserSessions(ctx context.Context, f store.BrowserSessionFilter) ([]store.BrowserSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM browser_sessions WHERE 1=1`
	var args []any
	if f.Connector != "" {
		q += ` AND connector = ?`
		args = append(args, f.Connector)
	}
	if f.Username != "" {
		q += ` AND username_key = ?`
		args = append(args, strings.ToLower(f.Username))
	}
	if !f.ActiveAt.IsZero() {
		q += ` AND revoked_at IS NULL AND expires_at > ?`
		args = append(args, micros(f.ActiveAt))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultBrowserSessionLimit
	}
	q += ` ORDER BY created_at DESC, id_hash LIMIT ?`
	args = append(args, limit)
	rows, err := o.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list browser sessions: %w", err)
	}
	defer rows.Close()
	var out []store.BrowserSession
	for rows.Next() {
		var (
			s                       store.BrowserSession
			identity                string
			created, authn, expires int64
			revoked                 sql.NullInt64
		)
		if err := rows.Scan(&s.IDHash, &s.Username, &s.Connector, &identity, &created, &authn, &expires, &revoked); err != nil {
			return nil, fmt.Errorf("list browser sessions: %w", err)
		}
		s.Identity = []byte(identity)
		s.CreatedAt, s.AuthnInstant, s.ExpiresAt = fromMicros(created), fromMicros(authn), fromMicros(expires)
		if revoked.Valid {
			s.RevokedAt = fromMicros(revoked.Int64)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list browser sessions: %w", err)
	}
	return out, nil
}

func (o ops) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	if _, err := o.q.ExecContext(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, key, micros(at)); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

func (o ops) RecentLoginFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := o.q.QueryContext(ctx, `SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT ?`,
		key, micros(since), limit)
	if err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out = append(out, fromMicros(at))
	}
	return out, rows.Err()
}

func (o ops) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := o.q.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

func (o ops) DeleteLoginFailures(ctx context.Context, before time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	res, err := o.q.ExecContext(ctx, `DELETE FROM login_failures WHERE at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete login failures: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReserveLoginAttempt implements store.WebSessionStore in a write
// transaction of its own: SQLite's one write lock orders every reservation,
// in this process and in any other on the same file.
func (d *DB) ReserveLoginAttempt(ctx context.Context, limits []store.LoginLimit, since, at time.Time) (store.LoginReservation, error) {
	var res store.LoginReservation
	err := d.InTx(ctx, func(tx store.Tx) error {
		var err error
		res, err = tx.ReserveLoginAttempt(ctx, limits, since, at)
		return err
	})
	if err != nil {
		return store.LoginReservation{}, err
	}
	return res, nil
}

// ReserveLoginAttempt, inside a write transaction (begun IMMEDIATE), counts
// and records.
func (o ops) ReserveLoginAttempt(ctx context.Context, limits []store.LoginLimit, since, at time.Time) (store.LoginReservation, error) {
	if err := store.CheckLoginLimits(limits); err != nil {
		return store.LoginReservation{}, err
	}
	return store.CountAndRecordLogin(ctx, o, limits, since, at)
}

func (o ops) ReleaseLoginAttempt(ctx context.Context, key string, at time.Time) error {
	if _, err := o.q.ExecContext(ctx, `DELETE FROM login_failures WHERE id = (SELECT id FROM login_failures
		WHERE key = ? AND at = ? ORDER BY id DESC LIMIT 1)`, key, micros(at)); err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}
