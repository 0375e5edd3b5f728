package sqlite

import (
	"context"
	"fmt"

	"idpbridge/idp/store"
)

func (o ops) PutSAMLProviderKey(ctx context.Context, k store.SAMLProviderKey) (bool, error) {
	res, err := o.q.ExecContext(ctx, `INSERT INTO saml_provider_keys (provider_arn, id, encrypted_key, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (provider_arn, id) DO NOTHING`, k.ProviderARN, k.ID, k.EncryptedKey, micros(k.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("put SAML provider key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (o ops) ListSAMLProviderKeys(ctx context.Context, providerARN string) ([]store.SAMLProviderKey, error) {
	rows, err := o.q.QueryContext(ctx, `SELECT provider_arn, id, encrypted_key, created_at
		FROM saml_provider_keys WHERE provider_arn = ? ORDER BY created_at, id`, providerARN)
	if err != nil {
		return nil, fmt.Errorf("list SAML provider keys: %w", err)
	}
	defer rows.Close()
	var out []store.SAMLProviderKey
	for rows.Next() {
		var (
			k       store.SAMLProviderKey
			created int64
		)
		if err := rows.Scan(&k.ProviderARN, &k.ID, &k.EncryptedKey, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMicros(created)
		out = append(out, k)
	}
	return out, rows.Err()
}
