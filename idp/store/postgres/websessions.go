package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
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
	var revoked *time.Time
	if !s.RevokedAt.IsZero() {
		revoked = &s.RevokedAt
	}
	_, err := o.q.Exec(ctx, `INSERT INTO browser_sessions (id_hash, username, username_key, connector, identity,
		created_at, authn_instant, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.IDHash, s.Username, strings.ToLower(s.Username), s.Connector, string(s.Identity),
		s.CreatedAt, s.AuthnInstant, s.ExpiresAt, revoked)
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
		s        store.BrowserSession
		identity string
		revoked  *time.Time
	)
	err := o.q.QueryRow(ctx, `SELECT `+sessionColumns+` FROM browser_sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.Username, &s.Connector, &identity, &s.CreatedAt, &s.AuthnInstant, &s.ExpiresAt, &revoked)
	if err != nil {
		return store.BrowserSession{}, notFound(err, "browser session")
	}
	s.Identity = []byte(identity)
	s.CreatedAt, s.AuthnInstant, s.ExpiresAt = s.CreatedAt.UTC(), s.AuthnInstant.UTC(), s.ExpiresAt.UTC()
	if revoked != nil {
		s.RevokedAt = revoked.UTC()
	}
	return s, nil
}

func (o ops) RevokeBrowserSession(ctx context.Context, idHash []byte, at time.Time) error {
	tag, err := o.q.Exec(ctx, `UPDATE browser_sessions SET revoked_at = coalesce(revoked_at, $1) WHERE id_hash = $2`, at, idHash)
	if err != nil {
		return fmt.Errorf("revoke browser session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("browser session: %w", store.ErrNotFound)
	}
	return nil
}

func (o ops) RevokeUserBrowserSessions(ctx context.Context, connector, username string, at time.Time) (int, error) {
	tag, err := o.q.Exec(ctx, `UPDATE browser_sessions SET revoked_at = $1
		WHERE connector = $2 AND username_key = $3 AND revoked_at IS NULL`, at, connector, strings.ToLower(username))
	if err != nil {
		return 0, fmt.Errorf("revoke browser sessions of %q: %w", username, err)
	}
	return int(tag.RowsAffected()), nil
}

func (o ops) DeleteBrowserSessions(ctx context.Context, before time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	tag, err := o.q.Exec(ctx, `DELETE FROM browser_sessions WHERE expires_at < $1 OR revoked_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("delete browser sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func (o ops) ListBrowserSessions(ctx context.Context, f store.BrowserSessionFilter) ([]store.BrowserSession, error) {
	q := `SELECT ` + sessionColumns + ` FROM browser_sessions WHERE true`
	var args []any
	if f.Connector != "" {
		args = append(args, f.Connector)
		q += fmt.Sprintf(` AND connector = $%d`, len(args))
	}
	if f.Username != "" {
		args = append(args, strings.ToLower(f.Username))
		q += fmt.Sprintf(` AND username_key = $%d`, len(args))
	}
	if !f.ActiveAt.IsZero() {
		args = append(args, f.ActiveAt)
		q += fmt.Sprintf(` AND revoked_at IS NULL AND expires_at > $%d`, len(args))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultBrowserSessionLimit
	}
	args = append(args, limit)
	q += fmt.Sprintf(` ORDER BY created_at DESC, id_hash LIMIT $%d`, len(args))
	rows, err := o.q.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list browser sessions: %w", err)
	}
	defer rows.Close()
	var out []store.BrowserSession
	for rows.Next() {
		var (
			s        store.BrowserSession
			identity string
			revoked  *time.Time
		)
		if err := rows.Scan(&s.IDHash, &s.Username, &s.Connector, &identity, &s.CreatedAt, &s.AuthnInstant, &s.ExpiresAt, &revoked); err != nil {
			return nil, fmt.Errorf("list browser sessions: %w", err)
		}
		s.Identity = []byte(identity)
		s.CreatedAt, s.AuthnInstant, s.ExpiresAt = s.CreatedAt.UTC(), s.AuthnInstant.UTC(), s.ExpiresAt.UTC()
		if revoked != nil {
			s.RevokedAt = revoked.UTC()
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list browser sessions: %w", err)
	}
	return out, nil
}

func (o ops) RecordLoginFailure(ctx context.Context, key string, at time.Time) error {
	if _, err := o.q.Exec(ctx, `INSERT INTO login_failures (key, at) VALUES ($1, $2)`, key, at); err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

func (o ops) RecentLoginFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := o.q.Query(ctx, `SELECT at FROM login_failures WHERE key = $1 AND at > $2 ORDER BY at DESC LIMIT $3`,
		key, since, limit)
	if err != nil {
		return nil, fmt.Errorf("read login failures: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out = append(out, at.UTC())
	}
	return out, rows.Err()
}

func (o ops) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := o.q.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

func (o ops) DeleteLoginFailures(ctx context.Context, before time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	tag, err := o.q.Exec(ctx, `DELETE FROM login_failures WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("delete login failures: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ReserveLoginAttempt implements store.WebSessionStore in a transaction of
// its own.
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

// ReserveLoginAttempt, inside a transaction, takes a transaction-scoped
// advisory lock per key (in one order, so two callers never wait on each
// other), then counts and records: every replica's reservations of a key
// run one after the other.
func (o ops) ReserveLoginAttempt(ctx context.Context, limits []store.LoginLimit, since, at time.Time) (store.LoginReservation, error) {
	if err := store.CheckLoginLimits(limits); err != nil {
		return store.LoginReservation{}, err
	}
	locks := make([]int64, 0, len(limits))
	for _, l := range limits {
		locks = append(locks, loginLock(l.Key))
	}
	slices.Sort(locks)
	for _, id := range slices.Compact(locks) {
		if _, err := o.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, id); err != nil {
			return store.LoginReservation{}, fmt.Errorf("reserve login attempt: lock: %w", err)
		}
	}
	return store.CountAndRecordLogin(ctx, o, limits, since, at)
}

// loginLock is the advisory lock key of a rate-limit key.
func loginLock(key string) int64 {
	h := sha256.Sum256([]byte("idpbridge login limit\x00" + key))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

func (o ops) ReleaseLoginAttempt(ctx context.Context, key string, at time.Time) error {
	// SKIP LOCKED: two releases of equal reservations delete one row each.
	if _, err := o.q.Exec(ctx, `DELETE FROM login_failures WHERE id = (SELECT id FROM login_failures
		WHERE key = $1 AND at = $2 ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED)`, key, at); err != nil {
		return fmt.Errorf("release login attempt: %w", err)
	}
	return nil
}
