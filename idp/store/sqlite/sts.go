package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

const stsSessionColumns = `access_key_id, account_id, role_arn, session_name, source_identity, tags,
	transitive_tag_keys, caller_arn, token_sha256, issued_at, expires_at, revoked_at, parent_access_key_id`

func (o ops) CreateSTSSession(ctx context.Context, s store.STSSession) error {
	tags, keys, err := encodeSTSTags(s)
	if err != nil {
		return err
	}
	var revoked any
	if !s.RevokedAt.IsZero() {
		revoked = micros(s.RevokedAt)
	}
	// Writers are serialised by the database lock: a revocation of the
	// parent runs wholly before or after this insert.
	res, err := o.q.ExecContext(ctx, `INSERT INTO sts_sessions (`+stsSessionColumns+`)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13
		WHERE ?13 = '' OR EXISTS (SELECT 1 FROM sts_sessions WHERE access_key_id = ?13 AND revoked_at IS NULL)`,
		s.AccessKeyID, s.AccountID, s.RoleARN, s.SessionName, s.SourceIdentity, tags, keys, s.CallerARN,
		s.TokenSHA256, micros(s.IssuedAt), micros(s.ExpiresAt), revoked, s.ParentAccessKeyID)
	if isConflict(err) {
		return fmt.Errorf("sts session %q: %w", s.AccessKeyID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create sts session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sts session %q chained from %q: %w", s.AccessKeyID, s.ParentAccessKeyID, store.ErrRevoked)
	}
	return nil
}

func (o ops) RevokeSTSSessionChain(ctx context.Context, accessKeyID string, at time.Time) ([]store.STSSession, error) {
	out, err := o.revoke(ctx, `UPDATE sts_sessions SET revoked_at = ?2
		WHERE access_key_id = ?1 AND revoked_at IS NULL RETURNING `+stsSessionColumns, accessKeyID, micros(at))
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := o.GetSTSSession(ctx, accessKeyID); err != nil {
			return nil, err
		}
	}
	chained, err := o.revoke(ctx, `WITH RECURSIVE chain(access_key_id) AS (
			SELECT access_key_id FROM sts_sessions WHERE parent_access_key_id = ?1
			UNION
			SELECT s.access_key_id FROM sts_sessions s JOIN chain c ON s.parent_access_key_id = c.access_key_id)
		UPDATE sts_sessions SET revoked_at = ?2
		WHERE access_key_id IN (SELECT access_key_id FROM chain) AND revoked_at IS NULL AND expires_at > ?2
		RETURNING `+stsSessionColumns, accessKeyID, micros(at))
	if err != nil {
		return nil, err
	}
	return append(out, chained...), nil
}

func (o ops) RevokeSTSSessionsBySourceIdentity(ctx context.Context, sourceIdentity string, at time.Time) ([]store.STSSession, error) {
	if sourceIdentity == "" {
		return nil, fmt.Errorf("revoke sts sessions: empty source identity")
	}
	return o.revoke(ctx, `UPDATE sts_sessions SET revoked_at = ?2
		WHERE source_identity = ?1 AND revoked_at IS NULL AND expires_at > ?2 RETURNING `+stsSessionColumns,
		sourceIdentity, micros(at))
}

// revoke runs a revoking UPDATE ... RETURNING and reads back the sessions
// it revoked.
func (o ops) revoke(ctx context.Context, query string, args ...any) ([]store.STSSession, error) {
	rows, err := o.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("revoke sts sessions: %w", err)
	}
	defer rows.Close()
	var out []store.STSSession
	for rows.Next() {
		s, err := scanSTSSession(rows)
		if err != nil {
			return nil, fmt.Errorf("revoke sts sessions: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revoke sts sessions: %w", err)
	}
	return out, nil
}

func (o ops) GetSTSSession(ctx context.Context, accessKeyID string) (store.STSSession, error) {
	row := o.q.QueryRowContext(ctx, `SELECT `+stsSessionColumns+` FROM sts_sessions WHERE access_key_id = ?`, accessKeyID)
	s, err := scanSTSSession(row)
	if err != nil {
		return store.STSSession{}, notFound(err, fmt.Sprintf("sts session %q", accessKeyID))
	}
	return s, nil
}

func (o ops) RevokeSTSSession(ctx context.Context, accessKeyID string, at time.Time) error {
	res, err := o.q.ExecContext(ctx, `UPDATE sts_sessions SET revoked_at = coalesce(revoked_at, ?) WHERE access_key_id = ?`,
		micros(at), accessKeyID)
	if err != nil {
		return fmt.Errorf("revoke sts session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sts session %q: %w", accessKeyID, store.ErrNotFound)
	}
	return nil
}

func (o ops) ListSTSSessions(ctx context.Context, f store.STSSessionFilter) ([]store.STSSession, error) {
	var where []string
	var args []any
	if f.RoleARN != "" {
		where, args = append(where, "role_arn = ?"), append(args, f.RoleARN)
	}
	if f.SourceIdentity != "" {
		where, args = append(where, "source_identity = ?"), append(args, f.SourceIdentity)
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, "revoked_at IS NULL AND expires_at > ?"), append(args, micros(f.ActiveAt))
	}
	q := `SELECT ` + stsSessionColumns + ` FROM sts_sessions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultSTSSessionLimit
	}
	q += ` ORDER BY issued_at DESC, access_key_id LIMIT ?`
	args = append(args, limit)
	rows, err := o.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list sts sessions: %w", err)
	}
	defer rows.Close()
	var out []store.STSSession
	for rows.Next() {
		s, err := scanSTSSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (o ops) DeleteExpiredSTSSessions(ctx context.Context, before time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	res, err := o.q.ExecContext(ctx, `DELETE FROM sts_sessions WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired sts sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func (o ops) RememberSAMLAssertion(ctx context.Context, issuer, assertionID string, until, now time.Time) (bool, error) {
	res, err := o.q.ExecContext(ctx, `INSERT INTO saml_replay (issuer, assertion_id, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (issuer, assertion_id) DO UPDATE SET expires_at = excluded.expires_at
		WHERE saml_replay.expires_at < ?`, issuer, assertionID, micros(until), micros(now))
	if err != nil {
		return false, fmt.Errorf("remember saml assertion: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("remember saml assertion: %w", err)
	}
	return n == 1, nil
}

func (o ops) DeleteExpiredSAMLAssertions(ctx context.Context, now time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	res, err := o.q.ExecContext(ctx, `DELETE FROM saml_replay WHERE expires_at < ?`, micros(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired saml assertions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

func encodeSTSTags(s store.STSSession) (tags, keys string, err error) {
	t := s.Tags
	if t == nil {
		t = []idp.Tag{}
	}
	k := s.TransitiveTagKeys
	if k == nil {
		k = []string{}
	}
	tb, err := json.Marshal(t)
	if err != nil {
		return "", "", fmt.Errorf("encode sts session tags: %w", err)
	}
	kb, err := json.Marshal(k)
	if err != nil {
		return "", "", fmt.Errorf("encode sts session tags: %w", err)
	}
	return string(tb), string(kb), nil
}

func scanSTSSession(r scanner) (store.STSSession, error) {
	var (
		s               store.STSSession
		tags, keys      string
		issued, expires int64
		revoked         sql.NullInt64
	)
	if err := r.Scan(&s.AccessKeyID, &s.AccountID, &s.RoleARN, &s.SessionName, &s.SourceIdentity, &tags, &keys,
		&s.CallerARN, &s.TokenSHA256, &issued, &expires, &revoked, &s.ParentAccessKeyID); err != nil {
		return store.STSSession{}, err
	}
	if err := json.Unmarshal([]byte(tags), &s.Tags); err != nil {
		return store.STSSession{}, fmt.Errorf("sts session %q: tags: %w", s.AccessKeyID, err)
	}
	if err := json.Unmarshal([]byte(keys), &s.TransitiveTagKeys); err != nil {
		return store.STSSession{}, fmt.Errorf("sts session %q: transitive tag keys: %w", s.AccessKeyID, err)
	}
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	if len(s.TransitiveTagKeys) == 0 {
		s.TransitiveTagKeys = nil
	}
	s.IssuedAt, s.ExpiresAt = fromMicros(issued), fromMicros(expires)
	if revoked.Valid {
		s.RevokedAt = fromMicros(revoked.Int64)
	}
	return s, nil
}
