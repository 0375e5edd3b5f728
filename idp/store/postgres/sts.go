package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp/store"
)

const stsSessionColumns = `access_key_id, account_id, role_arn, session_name, source_identity, tags,
	transitive_tag_keys, caller_arn, token_sha256, issued_at, expires_at, revoked_at`

func (o ops) CreateSTSSession(ctx context.Context, s store.STSSession) error {
	tags, keys, err := encodeSTSTags(s)
	if err != nil {
		return err
	}
	var revoked *time.Time
	if !s.RevokedAt.IsZero() {
		revoked = &s.RevokedAt
	}
	_, err = o.q.Exec(ctx, `INSERT INTO sts_sessions (`+stsSessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		s.AccessKeyID, s.AccountID, s.RoleARN, s.SessionName, s.SourceIdentity, tags, keys, s.CallerARN,
		s.TokenSHA256, s.IssuedAt, s.ExpiresAt, revoked)
	if isConflict(err) {
		return fmt.Errorf("sts session %q: %w", s.AccessKeyID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create sts session: %w", err)
	}
	return nil
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
		t = []store.STSTag{}
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
		&s.CallerARN, &s.TokenSHA256, &s.IssuedAt, &s.ExpiresAt, &revoked); err != nil {
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
