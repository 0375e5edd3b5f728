package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// KeySource gives the public keys that may sign an OIDC provider's tokens.
type KeySource interface {
	// Keys returns the provider's signing keys. refresh asks for a fresh
	// copy (a token named a key not in the last one). An error means the
	// keys could not be obtained: the STS answers IDPCommunicationError.
	Keys(ctx context.Context, refresh bool) ([]crypto.PublicKey, error)
}

// StaticKeys is a KeySource with fixed keys, for providers configured with
// a jwks_file (offline installations).
type StaticKeys []crypto.PublicKey

// Keys implements KeySource.
func (s StaticKeys) Keys(context.Context, bool) ([]crypto.PublicKey, error) { return s, nil }

// ParseJWKS reads a JSON Web Key Set ({"keys":[...]}) and returns its
// signature keys: RSA (at least 2048 bits), EC P-256/P-384/P-521 and Ed25519.
// Keys marked for encryption ("use":"enc") and unknown key types are
// skipped; a set with no usable key is an error.
func ParseJWKS(raw []byte) ([]crypto.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var out []crypto.PublicKey
	for i, k := range set.Keys {
		pub, err := parseJWK(k)
		if err != nil {
			return nil, fmt.Errorf("jwks: keys[%d]: %w", i, err)
		}
		if pub != nil {
			out = append(out, pub)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: no signature key")
	}
	return out, nil
}

func parseJWK(raw json.RawMessage) (crypto.PublicKey, error) {
	var k struct {
		Kty, Use, Crv, N, E, X, Y string
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, err
	}
	if k.Use == "enc" {
		return nil, nil
	}
	b64 := func(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")) }
	switch k.Kty {
	case "RSA":
		n, err := b64(k.N)
		if err != nil {
			return nil, fmt.Errorf("n: %w", err)
		}
		e, err := b64(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("e: not a small base64url integer")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048 are required", pub.N.BitLen())
		}
		return pub, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", k.Crv)
		}
		x, err1 := b64(k.X)
		y, err2 := b64(k.Y)
		if err1 != nil || err2 != nil {
			return nil, errors.New("x, y: not base64url")
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, errors.New("x, y: wrong length for the curve")
		}
		uncompressed := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, uncompressed)
		if err != nil {
			return nil, fmt.Errorf("EC point: %w", err)
		}
		return pub, nil
	case "OKP":
		if k.Crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported curve %q", k.Crv)
		}
		x, err := b64(k.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("x: not an Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, nil
}

// RemoteKeys is a KeySource that discovers a provider's jwks_uri
// (<issuer>/.well-known/openid-configuration) and fetches its key set,
// keeping it for TTL and fetching again when asked to refresh (at most once
// per MinRefresh).
type RemoteKeys struct {
	Issuer string
	Client *http.Client
	Now    func() time.Time
	// TTL is how long fetched keys are used; default 1 hour.
	TTL time.Duration
	// MinRefresh spaces forced refreshes; default 1 minute.
	MinRefresh time.Duration

	mu      sync.Mutex
	keys    []crypto.PublicKey
	fetched time.Time
}

// maxDocument caps discovery documents and key sets.
const maxDocument = 1 << 20

// Keys implements KeySource.
func (r *RemoteKeys) Keys(ctx context.Context, refresh bool) ([]crypto.PublicKey, error) {
	ttl, minRefresh := r.TTL, r.MinRefresh
	if ttl <= 0 {
		ttl = time.Hour
	}
	if minRefresh <= 0 {
		minRefresh = time.Minute
	}
	now := r.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	age := now.Sub(r.fetched)
	if r.keys != nil && age < ttl && (!refresh || age < minRefresh) {
		return r.keys, nil
	}
	keys, err := r.fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.keys, r.fetched = keys, now
	return keys, nil
}

func (r *RemoteKeys) fetch(ctx context.Context) ([]crypto.PublicKey, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	raw, err := r.get(ctx, strings.TrimSuffix(r.Issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &disc); err != nil {
		return nil, fmt.Errorf("oidc discovery of %s: %w", r.Issuer, err)
	}
	if strings.TrimSuffix(disc.Issuer, "/") != strings.TrimSuffix(r.Issuer, "/") {
		return nil, fmt.Errorf("oidc discovery of %s: the document names issuer %q", r.Issuer, disc.Issuer)
	}
	if disc.JWKSURI == "" {
		return nil, fmt.Errorf("oidc discovery of %s: no jwks_uri", r.Issuer)
	}
	raw, err = r.get(ctx, disc.JWKSURI)
	if err != nil {
		return nil, err
	}
	return ParseJWKS(raw)
}

func (r *RemoteKeys) get(ctx context.Context, url string) ([]byte, error) {
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if len(body) > maxDocument {
		return nil, fmt.Errorf("fetch %s: larger than %d bytes", url, maxDocument)
	}
	return body, nil
}
