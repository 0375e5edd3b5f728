package postgres

import (
	"context"
	"fmt"

	"idpbridge/idp/store"
)

func (o ops) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	var keyFile *string
	if k.KeyFile != "" {
		keyFile = &k.KeyFile
	}
	_, err := o.q.Exec(ctx, `INSERT INTO signing_keys (id, state, cert_pem, encrypted_key, key_file, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, string(k.State), string(k.CertPEM), k.EncryptedKey, keyFile, k.CreatedAt)
	if isConflict(err) {
		return fmt.Errorf("signing key %q: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return nil
}

func (o ops) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := o.q.Query(ctx, `SELECT id, state, cert_pem, encrypted_key, key_file, created_at
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
			keyFile *string
		)
		if err := rows.Scan(&k.ID, &state, &cert, &k.EncryptedKey, &keyFile, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.State, k.CertPEM, k.CreatedAt = store.KeyState(state), []byte(cert), k.CreatedAt.UTC()
		if keyFile != nil {
			k.KeyFile = *keyFile
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (o ops) SetSigningKeyState(ctx context.Context, id string, state store.KeyState) error {
	tag, err := o.q.Exec(ctx, `UPDATE signing_keys SET state = $1 WHERE id = $2`, string(state), id)
	if isConflict(err) {
		return fmt.Errorf("signing key %q: another key is already active: %w", id, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("set signing key state: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("signing key %q: %w", id, store.ErrNotFound)
	}
	return nil
}
