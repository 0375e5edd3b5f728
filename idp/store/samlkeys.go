package store

import (
	"context"
	"time"
)

// SAMLProviderKeyStore keeps the private keys the built-in STS decrypts
// a SAML provider's encrypted assertions with, sealed with the
// key-encryption key.
type SAMLProviderKeyStore interface {
	// PutSAMLProviderKey stores k unless a key with its ProviderARN and ID
	// is already stored, which is left as it is; stored reports whether k
	// was stored.
	PutSAMLProviderKey(ctx context.Context, k SAMLProviderKey) (stored bool, err error)
	// ListSAMLProviderKeys returns the keys of the provider, oldest first.
	ListSAMLProviderKeys(ctx context.Context, providerARN string) ([]SAMLProviderKey, error)
}

// SAMLProviderKey is one sealed decryption key of a SAML provider.
type SAMLProviderKey struct {
	ProviderARN string
	// ID identifies the key: the first 16 hex digits of the SHA-256 of its
	// public key (PKIX DER).
	ID string
	// EncryptedKey is the PKCS#8 private key sealed with the
	// key-encryption key.
	EncryptedKey []byte
	CreatedAt    time.Time
}
