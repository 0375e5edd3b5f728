package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"idpbridge/idp/store"
)

func (o ops) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	var keyFile sql.NullString
	if k.KeyFile != "" {
		keyFile = sql.NullString{String: k.KeyFile, Valid: true}
	}
	var enc any
	if k.EncryptedKey != nil {
		enc = k.EncryptedKey
	}
	_, err := o.q.ExecContext(ctx, `INSERT INTO signing_keys (id, state, cert_pem, encrypted_key, key_file, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, k.ID, string(k.State), string(k.CertPEM), enc, keyFile, micros(k.CreatedAt))
	if isConflict(err) {
		return fmt.Errorf("signing key %q: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

func (o ops) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := o.q.QueryContext(ctx, `SELECT id, state, cert_pem, encrypted_key, key_file, created_at
		FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k       store.SigningKey
			state   string
			cert    string
			keyFile sql.NullString
			created int64
		)
		if err := rows.Scan(&k.ID, &state, &cert, &k.EncryptedKey, &keyFile, &created); err != nil {
			return nil, err
		}
		k.State, k.CertPEM, k.KeyFile, k.CreatedAt = store.KeyState(state), []byte(cert), keyFile.String, fromMicros(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (o ops) SetSigningKeyState(ctx context.Context, id string, state store.KeyState) error {
	res, err := o.q.ExecContext(ctx, `UPDATE signing_keys SET state = ? WHERE id = ?`, string(state), id)
	if isConflict(err) {
		return fmt.Errorf("signing key %q: another key is already active: %w", id, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set signing key state: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("signing key %q: %w", id, store.ErrNotFound)
	}
	return nil
}
