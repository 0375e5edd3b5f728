// Package signing owns the IdP's signing keys: it generates an RSA key with
// a self-signed certificate, seals private keys at rest with a
// key-encryption key (AES-256-GCM), and loads the stored keys back as
// crypto.Signers.
package signing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"idpbridge/idp/store"
)

// KeyBits is the RSA modulus size of generated keys by default
// (DefaultAlgorithm).
const KeyBits = 3072

// Algorithm is the kind of a newly generated signing key: keys.algorithm.
type Algorithm string

// The algorithms of new signing keys.
const (
	RSA2048 Algorithm = "rsa-2048"
	RSA3072 Algorithm = "rsa-3072"
	RSA4096 Algorithm = "rsa-4096"
	// DefaultAlgorithm is used when none is configured.
	DefaultAlgorithm = RSA3072
)

// Algorithms lists the accepted values of keys.algorithm.
var Algorithms = []Algorithm{RSA2048, RSA3072, RSA4096}

// ParseAlgorithm reads keys.algorithm; "" is DefaultAlgorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	if s == "" {
		return DefaultAlgorithm, nil
	}
	for _, a := range Algorithms {
		if string(a) == s {
			return a, nil
		}
	}
	return "", fmt.Errorf("%q is not one of rsa-2048, rsa-3072, rsa-4096", s)
}

// Bits is the RSA modulus size of a; 0 for an unknown algorithm.
func (a Algorithm) Bits() int {
	switch a {
	case RSA2048:
		return 2048
	case RSA3072:
		return 3072
	case RSA4096:
		return 4096
	}
	return 0
}

// CertValidity is how long a generated certificate is valid.
const CertValidity = 2 * 365 * 24 * time.Hour

// KEKSize is the size of a key-encryption key in bytes.
const KEKSize = 32

// Key is a loaded signing key.
type Key struct {
	ID          string
	State       store.KeyState
	Certificate *x509.Certificate
	PrivateKey  *rsa.PrivateKey
}

// Generate makes a new RSA key and a self-signed certificate for commonName,
// valid from now for CertValidity. The key ID is the hex SHA-256 of the
// certificate's public key, truncated to 16 characters.
func Generate(rand io.Reader, commonName string, now time.Time) (*Key, error) {
	return GenerateAlgorithm(rand, DefaultAlgorithm, commonName, now)
}

// GenerateAlgorithm is Generate with a key of algorithm alg.
func GenerateAlgorithm(rand io.Reader, alg Algorithm, commonName string, now time.Time) (*Key, error) {
	bits := alg.Bits()
	if bits == 0 {
		return nil, fmt.Errorf("generate signing key: algorithm %q is not one of rsa-2048, rsa-3072, rsa-4096", alg)
	}
	priv, err := rsa.GenerateKey(rand, bits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	serial, err := randSerial(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName, Organization: []string{"idpbridge"}},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(CertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Key{ID: KeyID(cert), Certificate: cert, PrivateKey: priv}, nil
}

// KeyID derives a stable identifier from a certificate's public key.
func KeyID(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:8])
}

func randSerial(rand io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand, b); err != nil {
		return nil, fmt.Errorf("read serial: %w", err)
	}
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b), nil
}

// CertPEM encodes the certificate as PEM.
func (k *Key) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate.Raw})
}

// Seal returns a store.SigningKey with the private key encrypted under kek.
func (k *Key) Seal(rand io.Reader, kek []byte, state store.KeyState, now time.Time) (store.SigningKey, error) {
	plain, err := x509.MarshalPKCS8PrivateKey(k.PrivateKey)
	if err != nil {
		return store.SigningKey{}, err
	}
	sealed, err := seal(rand, kek, plain, []byte(k.ID))
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{ID: k.ID, State: state, CertPEM: k.CertPEM(), EncryptedKey: sealed, CreatedAt: now}, nil
}

// Open loads a stored key: it decrypts EncryptedKey with kek, or reads the
// PEM file named by KeyFile, and checks that the private key matches the
// certificate.
func Open(sk store.SigningKey, kek []byte) (*Key, error) {
	block, _ := pem.Decode(sk.CertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("signing key %s: certificate is not PEM", sk.ID)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: certificate: %w", sk.ID, err)
	}
	var der []byte
	switch {
	case sk.EncryptedKey != nil:
		der, err = open(kek, sk.EncryptedKey, []byte(sk.ID))
		if err != nil {
			return nil, fmt.Errorf("signing key %s: cannot decrypt the private key (wrong key-encryption key?): %w", sk.ID, err)
		}
	case sk.KeyFile != "":
		raw, err := os.ReadFile(sk.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		b, _ := pem.Decode(raw)
		if b == nil {
			return nil, fmt.Errorf("signing key %s: %s holds no PEM block", sk.ID, sk.KeyFile)
		}
		der = b.Bytes
	default:
		return nil, fmt.Errorf("signing key %s has no private key", sk.ID)
	}
	priv, err := parsePrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&priv.PublicKey) {
		return nil, fmt.Errorf("signing key %s: private key does not match its certificate", sk.ID)
	}
	return &Key{ID: sk.ID, State: sk.State, Certificate: cert, PrivateKey: priv}, nil
}

func parsePrivateKey(der []byte) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("private key is not RSA")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, errors.New("private key is neither PKCS#8 nor PKCS#1 RSA")
	}
	return k, nil
}

func seal(rand io.Reader, kek, plain, aad []byte) ([]byte, error) {
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, plain, aad), nil
}

func open(kek, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("sealed key too short")
	}
	return gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
}

func newGCM(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("key-encryption key must be %d bytes, got %d", KEKSize, len(kek))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
