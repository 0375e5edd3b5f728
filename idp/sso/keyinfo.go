package sso

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"time"

	"idpbridge/idp/store"
)

// KeyInfo describes a stored signing key for a listing (keys list, the
// console's signing keys page): never the key itself.
type KeyInfo struct {
	ID      string
	State   store.KeyState
	Created time.Time
	// Expires is the certificate's NotAfter; zero when the certificate
	// cannot be read.
	Expires time.Time
	// KeyFile is the file the private key is read from, "" when it is
	// sealed in the database.
	KeyFile string
}

// Storage says where the private key lives.
func (k KeyInfo) Storage() string {
	if k.KeyFile != "" {
		return "file " + k.KeyFile
	}
	return "sealed in database"
}

// ListKeyInfo lists the stored signing keys in the store's order.
func ListKeyInfo(ctx context.Context, s store.SigningKeyStore) ([]KeyInfo, error) {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = KeyInfo{ID: k.ID, State: k.State, Created: k.CreatedAt, KeyFile: k.KeyFile}
		if b, _ := pem.Decode(k.CertPEM); b != nil {
			if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
				out[i].Expires = cert.NotAfter.UTC()
			}
		}
	}
	return out, nil
}
