package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"idpbridge/idp/internal/fetch"
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

// ParseJWKS reads a JSON Web Key Set ({"keys":[...]}) with go-jose and
// returns its signature verification keys: RSA (2048 to 4096 bits), EC
// P-256/P-384/P-521 and Ed25519. Keys that cannot verify signatures are
// skipped: symmetric ("kty":"oct") and unknown key types, keys marked for
// another use ("use" other than "sig", "key_ops" without "verify", an
// "alg" that is not an asymmetric signature algorithm), and what go-jose
// does not support (other curves, RSA above 4096 bits). A key of a
// supported type that is malformed, too small or carries private
// parameters is an error, and so is a set with no usable key.
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

// jwkSignatureAlgs are the "alg" values of a key that may verify a token.
var jwkSignatureAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// parseJWK returns the verification key of one JWK, nil for a key to skip.
func parseJWK(raw json.RawMessage) (crypto.PublicKey, error) {
	var k struct {
		Kty    string          `json:"kty"`
		Use    string          `json:"use"`
		Alg    string          `json:"alg"`
		KeyOps []string        `json:"key_ops"`
		D      json.RawMessage `json:"d"`
		P      json.RawMessage `json:"p"`
		Q      json.RawMessage `json:"q"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, err
	}
	switch {
	case k.Kty != "RSA" && k.Kty != "EC" && k.Kty != "OKP":
		return nil, nil
	case k.Use != "" && k.Use != "sig":
		return nil, nil
	case k.KeyOps != nil && !slices.Contains(k.KeyOps, "verify"):
		return nil, nil
	case k.Alg != "" && !slices.Contains(jwkSignatureAlgs, k.Alg):
		return nil, nil
	case k.D != nil || k.P != nil || k.Q != nil:
		return nil, errors.New("a private key: a key set publishes public keys only")
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		if errors.Is(err, jose.ErrUnsupportedKeyType) {
			return nil, nil
		}
		return nil, err
	}
	switch pub := jwk.Key.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits: at least 2048 are required", pub.N.BitLen())
		}
		return pub, nil
	case *ecdsa.PublicKey:
		return pub, nil
	case ed25519.PublicKey:
		return pub, nil
	}
	return nil, nil
}

// Defaults of RemoteKeys.
const (
	DefaultKeysTTL        = time.Hour
	DefaultKeysMinRefresh = time.Minute
	DefaultKeysRetryAfter = 5 * time.Second
	DefaultKeysMaxStale   = 24 * time.Hour
	DefaultKeysTimeout    = 10 * time.Second
)

// RemoteKeys is a KeySource that discovers a provider's jwks_uri
// (<issuer>/.well-known/openid-configuration) and fetches its key set.
//
//   - Fetched keys are used for TTL (default 1 hour). A refresh (a token
//     named a key not in the set) fetches again, at most once per
//     MinRefresh (default 1 minute).
//   - One fetch is in flight at a time (idp/internal/fetch): concurrent
//     callers wait for it (each only as long as its own context allows) and
//     share its outcome, but for those that hold a usable key set and ask
//     for no refresh: they use it meanwhile. A fetch is bounded by Timeout
//     (default 10 s) and is not cut short when the caller that started it
//     gives up.
//   - After a failed fetch, no fetch is made for RetryAfter (default 5 s): a
//     provider that is down costs one request per RetryAfter, not one per
//     call.
//   - Stale while error: while fetches fail, the last good key set keeps
//     being used for up to MaxStale (default 24 hours) past the end of its
//     TTL. After that, and for a refresh of keys older than MinRefresh, the
//     failure is the answer (the STS says IDPCommunicationError).
type RemoteKeys struct {
	Issuer string
	Client *http.Client
	Now    func() time.Time
	// TTL is how long fetched keys are used; default 1 hour.
	TTL time.Duration
	// MinRefresh spaces forced refreshes; default 1 minute.
	MinRefresh time.Duration
	// RetryAfter is how long a failed fetch is not tried again; default 5
	// seconds.
	RetryAfter time.Duration
	// MaxStale is how long past its TTL the last good key set is used
	// while fetches fail; default 24 hours.
	MaxStale time.Duration
	// Timeout bounds one fetch (discovery and key set); default 10 seconds.
	Timeout time.Duration
	// Logger gets a warning for each failed fetch, naming when the keys
	// still in use were fetched; default none.
	Logger *slog.Logger

	once    sync.Once
	fetcher *fetch.Fetcher[[]crypto.PublicKey]
}

// maxDocument caps discovery documents and key sets.
const maxDocument = 1 << 20

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Keys implements KeySource.
func (r *RemoteKeys) Keys(ctx context.Context, refresh bool) ([]crypto.PublicKey, error) {
	r.once.Do(r.init)
	keys, err := r.fetcher.Get(ctx, refresh)
	if err != nil {
		return nil, fmt.Errorf("oidc keys of %s: %w", r.Issuer, err)
	}
	return keys, nil
}

// init builds the fetcher from the fields and their defaults.
func (r *RemoteKeys) init() {
	retry := orDefault(r.RetryAfter, DefaultKeysRetryAfter)
	r.fetcher = &fetch.Fetcher[[]crypto.PublicKey]{
		Load:       r.load,
		Client:     r.Client,
		Now:        r.Now,
		TTL:        orDefault(r.TTL, DefaultKeysTTL),
		MinRefresh: orDefault(r.MinRefresh, DefaultKeysMinRefresh),
		RetryAfter: retry,
		MaxStale:   orDefault(r.MaxStale, DefaultKeysMaxStale),
		Timeout:    orDefault(r.Timeout, DefaultKeysTimeout),
		MaxBytes:   maxDocument,
	}
	if r.Logger == nil {
		return
	}
	r.fetcher.OnFailure = func(err error, lastGood time.Time) {
		stale := "none"
		if !lastGood.IsZero() {
			stale = lastGood.UTC().Format(time.RFC3339)
		}
		r.Logger.Warn("sts: OIDC key fetch failed", "issuer", r.Issuer, "err", err, "keys_fetched_at", stale,
			"retry_after", retry.String())
	}
	r.fetcher.OnRecovery = func() { r.Logger.Info("sts: OIDC keys fetched again", "issuer", r.Issuer) }
}

// load discovers the key set's URL and fetches the key set.
func (r *RemoteKeys) load(ctx context.Context, get fetch.Getter) ([]crypto.PublicKey, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	raw, err := get(ctx, strings.TrimSuffix(r.Issuer, "/")+"/.well-known/openid-configuration")
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
	raw, err = get(ctx, disc.JWKSURI)
	if err != nil {
		return nil, err
	}
	return ParseJWKS(raw)
}
