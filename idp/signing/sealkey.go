package signing

import (
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
)

// SealPrivateKey seals an RSA private key (PKCS#8) under kek, as Seal
// does a signing key, bound to aad: a sealed key opens only with the
// same aad (for a SAML provider's decryption key, its provider and ID).
func SealPrivateKey(rand io.Reader, kek []byte, k *rsa.PrivateKey, aad string) ([]byte, error) {
	if k == nil {
		return nil, errors.New("seal: no private key")
	}
	plain, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return seal(rand, kek, plain, []byte(aad))
}

// OpenPrivateKey opens what SealPrivateKey sealed with kek and aad.
func OpenPrivateKey(kek, sealed []byte, aad string) (*rsa.PrivateKey, error) {
	der, err := open(kek, sealed, []byte(aad))
	if err != nil {
		return nil, errors.New("sealed private key does not open with the key-encryption key")
	}
	return parsePrivateKey(der)
}
