package postgres

import (
	"context"
	"fmt"

	"idpbridge/idp/store"
)

func (o ops) PutSAMLProviderKey(ctx context.Context, k store.SAMLProviderKey) (bool, error) {
	tag, err := o.q.Exec(ctx, `INSERT INTO saml_provider_keys (provider_arn, id, encrypted_key, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (provider_arn, id) DO NOTHING`, k.ProviderARN, k.ID, k.EncryptedKey, k.CreatedAt)
	if err != nil {
		return false, fmt.Errorf("put SAML provider key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (o ops) ListSAMLProviderKeys(ctx context.Context, providerARN string) ([]store.SAMLProviderKey, error) {
	rows, err := o.q.Query(ctx, `SELECT provider_arn, id, encrypted_key, created_at
		FROM saml_provider_keys WHERE provider_arn = $1 ORDER BY created_at, id`, providerARN)
	if err != nil {
		return nil, fmt.Errorf("list SAML provider keys: %w", err)
	}
	defer rows.Close()
	var out []store.SAMLProviderKey
	for rows.Next() {
		var k store.SAMLProviderKey
		if err := rows.Scan(&k.ProviderARN, &k.ID, &k.EncryptedKey, &k.CreatedAt); err != nil {
			return nil, err
		}
		k.CreatedAt = k.CreatedAt.UTC()
		out = append(out, k)
	}
	return out, rows.Err()
}
