package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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
	var revoked *time.Time
	if !s.RevokedAt.IsZero() {
		revoked = &s.RevokedAt
	}
	// The parent's row is locked (FOR SHARE) until the end of the
	// transaction: a revocation of the parent waits for this session to
	// commit and then revokes it too, or has committed first and this
	// insert finds the parent revoked.
	tag, err := o.q.Exec(ctx, `WITH parent AS (
			SELECT 1 FROM sts_sessions WHERE access_key_id = $13 AND revoked_at IS NULL FOR SHARE)
		INSERT INTO sts_sessions (`+stsSessionColumns+`)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::jsonb, $8::text, $9::bytea,
			$10::timestamptz, $11::timestamptz, $12::timestamptz, $13::text
		WHERE $13::text = '' OR EXISTS (SELECT 1 FROM parent)`,
		s.AccessKeyID, s.AccountID, s.RoleARN, s.SessionName, s.SourceIdentity, tags, keys, s.CallerARN,
		s.TokenSHA256, s.IssuedAt, s.ExpiresAt, revoked, s.ParentAccessKeyID)
	if isConflict(err) {
		return fmt.Errorf("sts session %q: %w", s.AccessKeyID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create sts session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("sts session %q chained from %q: %w", s.AccessKeyID, s.ParentAccessKeyID, store.ErrRevoked)
	}
	return nil
}

// chainedLiveSessions selects the live sessions chained from $1 at any
// depth, for revocation at $2.
const chainedLiveSessions = `WITH RECURSIVE chain(access_key_id) AS (
		SELECT access_key_id FROM sts_sessions WHERE parent_access_key_id = $1
		UNION
		SELECT s.access_key_id FROM sts_sessions s JOIN chain c ON s.parent_access_key_id = c.access_key_id)
	UPDATE sts_sessions SET revoked_at = $2
	WHERE access_key_id IN (SELECT access_key_id FROM chain) AND revoked_at IS NULL AND expires_at > $2
	RETURNING ` + stsSessionColumns

func (o ops) RevokeSTSSessionChain(ctx context.Context, accessKeyID string, at time.Time) ([]store.STSSession, error) {
	out, err := o.revokeUntilNone(ctx, `UPDATE sts_sessions SET revoked_at = $2
		WHERE access_key_id = $1 AND revoked_at IS NULL RETURNING `+stsSessionColumns, accessKeyID, at)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := o.GetSTSSession(ctx, accessKeyID); err != nil {
			return nil, err
		}
	}
	chained, err := o.revokeUntilNone(ctx, chainedLiveSessions, accessKeyID, at)
	if err != nil {
		return nil, err
	}
	return append(out, chained...), nil
}

func (o ops) RevokeSTSSessionsBySourceIdentity(ctx context.Context, sourceIdentity string, at time.Time) ([]store.STSSession, error) {
	if sourceIdentity == "" {
		return nil, fmt.Errorf("revoke sts sessions: empty source identity")
	}
	return o.revokeUntilNone(ctx, `UPDATE sts_sessions SET revoked_at = $2
		WHERE source_identity = $1 AND revoked_at IS NULL AND expires_at > $2 RETURNING `+stsSessionColumns,
		sourceIdentity, at)
}

// revokeUntilNone runs a revoking UPDATE ... RETURNING until it revokes
// nothing more. Each run sees the sessions committed before it started: a
// session chained while an earlier run waited for its parent's row lock
// is caught by the next.
func (o ops) revokeUntilNone(ctx context.Context, sql string, args ...any) ([]store.STSSession, error) {
	var out []store.STSSession
	for {
		rows, err := o.q.Query(ctx, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("revoke sts sessions: %w", err)
		}
		n := 0
		for rows.Next() {
			s, err := scanSTSSession(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("revoke sts sessions: %w", err)
			}
			out = append(out, s)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("revoke sts sessions: %w", err)
		}
		if n == 0 {
			return out, nil
		}
	}
}

func (o ops) GetSTSSession(ctx context.Context, accessKeyID string) (store.STSSession, error) {
	row := o.q.QueryRow(ctx, `SELECT `+stsSessionColumns+` FROM sts_sessions WHERE access_key_id = $1`, accessKeyID)
	s, err := scanSTSSession(row)
	if err != nil {
		return store.STSSession{}, notFound(err, fmt.Sprintf("sts session %q", accessKeyID))
	}
	return s, nil
}

func (o ops) RevokeSTSSession(ctx context.Context, accessKeyID string, at time.Time) error {
	tag, err := o.q.Exec(ctx, `UPDATE sts_sessions SET revoked_at = coalesce(revoked_at, $1) WHERE access_key_id = $2`,
		at, accessKeyID)
	if err != nil {
		return fmt.Errorf("revoke sts session: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("sts session %q: %w", accessKeyID, store.ErrNotFound)
	}
	return nil
}

func (o ops) ListSTSSessions(ctx context.Context, f store.STSSessionFilter) ([]store.STSSession, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.RoleARN != "" {
		where = append(where, "role_arn = "+arg(f.RoleARN))
	}
	if f.SourceIdentity != "" {
		where = append(where, "source_identity = "+arg(f.SourceIdentity))
	}
	if !f.ActiveAt.IsZero() {
		where = append(where, "revoked_at IS NULL AND expires_at > "+arg(f.ActiveAt))
	}
	q := `SELECT ` + stsSessionColumns + ` FROM sts_sessions`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = store.DefaultSTSSessionLimit
	}
	q += ` ORDER BY issued_at DESC, access_key_id LIMIT ` + arg(limit)
	rows, err := o.q.Query(ctx, q, args...)
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
	tag, err := o.q.Exec(ctx, `DELETE FROM sts_sessions WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("delete expired sts sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func (o ops) RememberSAMLAssertion(ctx context.Context, issuer, assertionID string, until, now time.Time) (bool, error) {
	tag, err := o.q.Exec(ctx, `INSERT INTO saml_replay (issuer, assertion_id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (issuer, assertion_id) DO UPDATE SET expires_at = excluded.expires_at
		WHERE saml_replay.expires_at < $4`, issuer, assertionID, until, now)
	if err != nil {
		return false, fmt.Errorf("remember saml assertion: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (o ops) DeleteExpiredSAMLAssertions(ctx context.Context, now time.Time) (int, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	tag, err := o.q.Exec(ctx, `DELETE FROM saml_replay WHERE expires_at < $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired saml assertions: %w", err)
	}
	return int(tag.RowsAffected()), nil
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
		s          store.STSSession
		tags, keys []byte
		revoked    *time.Time
	)
	if err := r.Scan(&s.AccessKeyID, &s.AccountID, &s.RoleARN, &s.SessionName, &s.SourceIdentity, &tags, &keys,
		&s.CallerARN, &s.TokenSHA256, &s.IssuedAt, &s.ExpiresAt, &revoked, &s.ParentAccessKeyID); err != nil {
		return store.STSSession{}, err
	}
	if err := json.Unmarshal(tags, &s.Tags); err != nil {
		return store.STSSession{}, fmt.Errorf("sts session %q: tags: %w", s.AccessKeyID, err)
	}
	if err := json.Unmarshal(keys, &s.TransitiveTagKeys); err != nil {
		return store.STSSession{}, fmt.Errorf("sts session %q: transitive tag keys: %w", s.AccessKeyID, err)
	}
	if len(s.Tags) == 0 {
		s.Tags = nil
	}
	if len(s.TransitiveTagKeys) == 0 {
		s.TransitiveTagKeys = nil
	}
	s.IssuedAt, s.ExpiresAt = s.IssuedAt.UTC(), s.ExpiresAt.UTC()
	if revoked != nil {
		s.RevokedAt = revoked.UTC()
	}
	return s, nil
}
