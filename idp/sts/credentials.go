package sts

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"idpbridge/idp"
)

// tokenKeyInfo is the HKDF info that separates the session-token key from
// every other key derived from the key-encryption key.
const tokenKeyInfo = "idpbridge sts session token v1"

// tokenVersion is the first byte of every session token.
const tokenVersion = 1

// sessionClaims is what a session token carries, sealed: everything needed
// to authenticate a later call made with the session's credentials and to
// evaluate it, so that any replica can verify the session without a shared
// cache. The store record adds revocation.
type sessionClaims struct {
	AccessKeyID    string    `json:"k"`
	Secret         string    `json:"s"`
	Account        string    `json:"a"`
	RoleARN        string    `json:"r"`
	RoleID         string    `json:"ri"`
	SessionName    string    `json:"n"`
	SourceIdentity string    `json:"si,omitempty"`
	Tags           []idp.Tag `json:"t,omitempty"`
	TransitiveKeys []string  `json:"tk,omitempty"`
	Issued         int64     `json:"iat"` // Unix seconds
	Expires        int64     `json:"exp"` // Unix seconds
	MFA            bool      `json:"mfa,omitempty"`
	// FederatedProvider is the SAML or OIDC provider ARN of a session from
	// AssumeRoleWithSAML or AssumeRoleWithWebIdentity.
	FederatedProvider string `json:"fp,omitempty"`
	WebIdentity       bool   `json:"wi,omitempty"`
	// Policy and PolicyARNs are the session policies the session was
	// created with; they restrict what it may do.
	Policy     string   `json:"p,omitempty"`
	PolicyARNs []string `json:"pa,omitempty"`
}

func (c *sessionClaims) issued() time.Time  { return time.Unix(c.Issued, 0).UTC() }
func (c *sessionClaims) expires() time.Time { return time.Unix(c.Expires, 0).UTC() }

// sessionARN is the assumed-role ARN (role path removed).
func (c *sessionClaims) sessionARN() string {
	return assumedRoleARN(c.Account, roleNameOf(c.RoleARN), c.SessionName)
}

// sealer seals and opens session tokens with AES-256-GCM under a key
// derived from the key-encryption key; the access key ID is the additional
// data, so a token only opens for its own key.
type sealer struct{ aead cipher.AEAD }

func newSealer(kek []byte) (*sealer, error) {
	if len(kek) < 32 {
		return nil, errors.New("sts: the key-encryption key must be at least 32 bytes")
	}
	key, err := hkdf.Key(sha256.New, kek, nil, tokenKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("sts: derive the session token key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(rand io.Reader, c *sessionClaims) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode session claims: %w", err)
	}
	ns := s.aead.NonceSize()
	buf := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	buf[0] = tokenVersion
	if _, err := io.ReadFull(rand, buf[1:]); err != nil {
		return "", fmt.Errorf("session token nonce: %w", err)
	}
	buf = s.aead.Seal(buf, buf[1:], plain, []byte(c.AccessKeyID))
	return base64.StdEncoding.EncodeToString(buf), nil
}

// errBadToken: the token is not one this service sealed for the key.
var errBadToken = errors.New("session token does not open")

func (s *sealer) open(token, accessKeyID string) (*sessionClaims, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	ns := s.aead.NonceSize()
	if err != nil || len(raw) < 1+ns+s.aead.Overhead() || raw[0] != tokenVersion {
		return nil, errBadToken
	}
	plain, err := s.aead.Open(nil, raw[1:1+ns], raw[1+ns:], []byte(accessKeyID))
	if err != nil {
		return nil, errBadToken
	}
	var c sessionClaims
	if err := json.Unmarshal(plain, &c); err != nil || c.AccessKeyID != accessKeyID {
		return nil, errBadToken
	}
	return &c, nil
}

var keyIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newAccessKeyID returns ASIA followed by 16 random characters of [A-Z2-7].
func newAccessKeyID(rand io.Reader) (string, error) {
	b := make([]byte, 10)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("access key ID: %w", err)
	}
	return "ASIA" + keyIDEncoding.EncodeToString(b), nil
}

// newSecret returns a 40-character secret access key.
func newSecret(rand io.Reader) (string, error) {
	b := make([]byte, 30)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("secret access key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
