package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"idpbridge/idp"
	"idpbridge/idp/connector"
)

// DefaultTimeout bounds each request to the provider when Options.HTTPClient
// is nil, and discovery always.
const DefaultTimeout = 10 * time.Second

// maxResponseBytes bounds what the connector reads of one answer of the
// provider (discovery, keys, token, UserInfo).
const maxResponseBytes = 1 << 20

// Options tune New. The zero value is the production setting.
type Options struct {
	// HTTPClient talks to the provider (default: a client with
	// DefaultTimeout). The connector uses a copy that follows no
	// redirects and reads at most 1 MiB of each answer.
	HTTPClient *http.Client
	// Now is the clock that ID token expiry is checked against (default
	// time.Now).
	Now func() time.Time
	// Logger receives discovery failures and recoveries (default: discard).
	Logger *slog.Logger
	// Getenv resolves client_secret_env (default os.Getenv).
	Getenv func(string) string
}

// Connector signs people in at one upstream OpenID Connect provider. It
// is safe for concurrent use.
type Connector struct {
	name   string
	cfg    Config
	secret string
	scopes []string
	rules  claimRules
	client *http.Client
	now    func() time.Time
	log    *slog.Logger

	group singleflight.Group
	mu    sync.Mutex
	p     *provider // nil until discovery succeeded
	down  bool      // the last discovery failed (logged once)
}

// provider is what discovery found.
type provider struct {
	p        *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

var _ connector.RedirectConnector = (*Connector)(nil)

// New returns the connector called name (idp.Identity.Connector). It
// validates cfg and resolves the client secret, but does not contact the
// provider: discovery happens at first use (or Check), so that a provider
// that is down does not stop the server from starting; a failed discovery
// is logged and retried at the next use.
func New(ctx context.Context, name string, cfg Config, opt Options) (*Connector, error) {
	if name == "" {
		return nil, errors.New("oidc connector: the name is empty")
	}
	if probs := cfg.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("oidc connector %s: %s", name, strings.Join(probs, "; "))
	}
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	secret, err := resolveSecret(cfg, opt.Getenv)
	if err != nil {
		return nil, fmt.Errorf("oidc connector %s: client_secret: %w", name, err)
	}
	client := &http.Client{Timeout: DefaultTimeout}
	if opt.HTTPClient != nil {
		c := *opt.HTTPClient
		client = &c
	}
	client.Transport = limitedTransport{base: client.Transport}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &Connector{
		name:   name,
		cfg:    cfg,
		secret: secret,
		scopes: slices.Clone(scopes),
		rules:  newClaimRules(name, cfg),
		client: client,
		now:    opt.Now,
		log:    opt.Logger.With("connector", name, "issuer", cfg.Issuer),
	}, nil
}

func resolveSecret(c Config, getenv func(string) string) (string, error) {
	switch {
	case c.ClientSecretEnv != "":
		v := getenv(c.ClientSecretEnv)
		if v == "" {
			return "", fmt.Errorf("environment variable %s (client_secret_env) is empty or unset", c.ClientSecretEnv)
		}
		return v, nil
	case c.ClientSecretFile != "":
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("client_secret_file: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("client_secret_file %s is empty", c.ClientSecretFile)
		}
		return v, nil
	}
	return c.ClientSecret, nil
}

// Name is the connector's name.
func (c *Connector) Name() string { return c.name }

// Check reports whether the provider's discovery document can be read
// now, for /readyz; the error wraps connector.ErrUnavailable.
func (c *Connector) Check(ctx context.Context) error {
	if _, err := c.discover(ctx, true); err != nil {
		return err
	}
	return nil
}

// provider returns the discovered provider, discovering it first if
// needed. Concurrent callers share one discovery.
func (c *Connector) provider(ctx context.Context) (*provider, error) {
	return c.discover(ctx, false)
}

func (c *Connector) discover(ctx context.Context, fresh bool) (*provider, error) {
	c.mu.Lock()
	p := c.p
	c.mu.Unlock()
	if p != nil && !fresh {
		return p, nil
	}
	key := "discover"
	if fresh {
		key = "check"
	}
	ch := c.group.DoChan(key, func() (any, error) {
		if !fresh {
			// A discovery that finished since the check above counts.
			c.mu.Lock()
			p := c.p
			c.mu.Unlock()
			if p != nil {
				return p, nil
			}
		}
		// The shared discovery must not fail because the first caller
		// went away; DefaultTimeout bounds it.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultTimeout)
		defer cancel()
		dctx = oidc.ClientContext(dctx, c.client)
		var p *provider
		np, err := oidc.NewProvider(dctx, c.cfg.Issuer)
		if err == nil {
			p, err = c.newProvider(np)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if err != nil {
			if !c.down {
				c.log.Error("oidc connector: discovery failed; sign-ins with this connector fail until the provider answers", "err", err)
			}
			c.down = true
			return nil, fmt.Errorf("%w: oidc connector %s: discovery at %s: %v", connector.ErrUnavailable, c.name, c.cfg.Issuer, err)
		}
		if c.down {
			c.log.Info("oidc connector: discovery succeeded again")
		}
		c.down = false
		if c.p == nil {
			c.p = p
		}
		return c.p, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: oidc connector %s: %w", connector.ErrUnavailable, c.name, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*provider), nil
	}
}

// signingAlgs are the ID token signatures accepted when the provider
// lists them in discovery; with none listed, RS256 (OpenID Connect's
// default). Never "none" or HMAC.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.EdDSA}

func (c *Connector) newProvider(np *oidc.Provider) (*provider, error) {
	var meta struct {
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
		JWKSURL     string   `json:"jwks_uri"`
		Algs        []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := np.Claims(&meta); err != nil {
		return nil, err
	}
	if meta.JWKSURL == "" || np.Endpoint().AuthURL == "" || np.Endpoint().TokenURL == "" {
		return nil, errors.New("the discovery document lacks jwks_uri, authorization_endpoint or token_endpoint")
	}
	ep := np.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	// client_secret_basic is the default of OpenID Connect Discovery.
	if c.secret != "" && (len(meta.AuthMethods) == 0 || slices.Contains(meta.AuthMethods, "client_secret_basic")) {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	var algs []string
	for _, a := range meta.Algs {
		if slices.Contains(signingAlgs, a) {
			algs = append(algs, a)
		}
	}
	keys := keySet{oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), c.client), meta.JWKSURL)}
	return &provider{
		p: np,
		oauth: oauth2.Config{
			ClientID:     c.cfg.ClientID,
			ClientSecret: c.secret,
			Endpoint:     ep,
			RedirectURL:  c.cfg.RedirectURL,
			Scopes:       c.scopes,
		},
		verifier: oidc.NewVerifier(c.cfg.Issuer, keys, &oidc.Config{
			ClientID:             c.cfg.ClientID,
			SupportedSigningAlgs: algs,
			Now:                  c.now,
		}),
	}, nil
}

// keySet is the provider's key set, noting in the context (keyFetchKey)
// a key fetch that got no answer: go-oidc's verifier does not keep that
// error's type, and such a failure is unavailability, not a bad token.
type keySet struct{ oidc.KeySet }

type keyFetchKey struct{}

func (k keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.KeySet.VerifySignature(ctx, jwt)
	if err != nil && unreachable(err) {
		if p, ok := ctx.Value(keyFetchKey{}).(*error); ok {
			*p = err
		}
	}
	return payload, err
}

// LoginURL returns the provider's authorization URL for ch: the code flow
// with ch.State, ch.Nonce and the S256 challenge of ch.Verifier. It fails
// wrapping connector.ErrUnavailable when discovery fails, and with a plain
// error when ch is incomplete.
func (c *Connector) LoginURL(ctx context.Context, ch connector.Challenge) (string, error) {
	if err := checkChallenge(ch); err != nil {
		return "", err
	}
	p, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth.AuthCodeURL(ch.State, oidc.Nonce(ch.Nonce), oauth2.S256ChallengeOption(ch.Verifier)), nil
}

func checkChallenge(ch connector.Challenge) error {
	switch {
	case ch.State == "":
		return errors.New("oidc connector: the challenge has no state")
	case ch.Nonce == "":
		return errors.New("oidc connector: the challenge has no nonce")
	case !validVerifier(ch.Verifier):
		return errors.New("oidc connector: the PKCE verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)")
	}
	return nil
}

func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, r := range v {
		if !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
			return false
		}
	}
	return true
}

// HandleCallback turns the query of the callback request into the person,
// as connector.RedirectConnector says. A state that does not match ch, an
// error the provider reports, a code it refuses to redeem (wrong PKCE
// verifier, wrong client credentials), an ID token that does not verify
// (signature, issuer, audience, expiry, nonce) and claims that name no
// one are *connector.ProviderError; a provider that cannot be reached or
// answers with a server error wraps connector.ErrUnavailable.
func (c *Connector) HandleCallback(ctx context.Context, ch connector.Challenge, q url.Values) (idp.Identity, error) {
	// The state first: an answer that does not belong to this browser's
	// sign-in is refused whatever it says.
	state := q.Get("state")
	if ch.State == "" || state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(ch.State)) != 1 {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_state", Description: "the answer does not belong to the sign-in this browser started"}
	}
	if code := q.Get("error"); code != "" || q.Has("error") {
		return idp.Identity{}, &connector.ProviderError{Code: cleanText(code, 64, "error"), Description: cleanText(q.Get("error_description"), 512, "")}
	}
	p, err := c.provider(ctx)
	if err != nil {
		return idp.Identity{}, err
	}
	// RFC 9207: an iss parameter, when sent, names the provider that answered.
	if q.Has("iss") && q.Get("iss") != c.cfg.Issuer {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_issuer", Description: "the answer comes from another provider than " + c.cfg.Issuer}
	}
	code := q.Get("code")
	if code == "" {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_request", Description: "the answer carries no authorization code"}
	}
	hctx := oidc.ClientContext(ctx, c.client)
	tok, err := p.oauth.Exchange(hctx, code, oauth2.VerifierOption(ch.Verifier))
	if err != nil {
		return idp.Identity{}, c.tokenError(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_token", Description: "the token answer carries no ID token"}
	}
	var fetchErr error
	idt, err := p.verifier.Verify(context.WithValue(hctx, keyFetchKey{}, &fetchErr), raw)
	if err != nil {
		if fetchErr != nil {
			return idp.Identity{}, fmt.Errorf("%w: oidc connector %s: fetching the signing keys: %v", connector.ErrUnavailable, c.name, fetchErr)
		}
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_id_token", Description: cleanText(err.Error(), 512, "")}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ch.Nonce)) != 1 || ch.Nonce == "" {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_id_token", Description: "the ID token's nonce does not match this browser's sign-in"}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return idp.Identity{}, &connector.ProviderError{Code: "invalid_id_token", Description: "the ID token's at_hash does not match the access token"}
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_id_token", Description: "the ID token's claims are not a JSON object"}
	}
	// OpenID Connect Core 3.1.3.7: a token for several audiences names
	// the party it was issued to.
	if azp, ok := claims["azp"]; (ok || len(idt.Audience) > 1) && azp != c.cfg.ClientID {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_id_token", Description: "the ID token was issued to another party (azp)"}
	}
	if c.cfg.UserInfo {
		if err := c.userInfo(hctx, p, tok, idt.Subject, claims); err != nil {
			return idp.Identity{}, err
		}
	}
	id, err := c.rules.identity(claims)
	if err != nil {
		return idp.Identity{}, &connector.ProviderError{Code: "invalid_claims", Description: err.Error()}
	}
	return id, nil
}

// userInfo adds the UserInfo answer to claims; it must name subject.
func (c *Connector) userInfo(ctx context.Context, p *provider, tok *oauth2.Token, subject string, claims map[string]any) error {
	if p.p.UserInfoEndpoint() == "" {
		return &connector.ProviderError{Code: "userinfo_unsupported", Description: "userinfo is set but the provider's discovery names no userinfo_endpoint"}
	}
	// The status tells a provider that is down from one that refuses.
	var status int
	rc := *c.client
	rc.Transport = statusRecorder{base: c.client.Transport, status: &status}
	ui, err := p.p.UserInfo(oidc.ClientContext(ctx, &rc), oauth2.StaticTokenSource(tok))
	if err != nil {
		msg := cleanText(err.Error(), 512, "")
		if unreachable(err) || status >= 500 {
			return fmt.Errorf("%w: oidc connector %s: UserInfo: %s", connector.ErrUnavailable, c.name, msg)
		}
		return &connector.ProviderError{Code: "invalid_userinfo", Description: "UserInfo: " + msg}
	}
	if subtle.ConstantTimeCompare([]byte(ui.Subject), []byte(subject)) != 1 {
		return &connector.ProviderError{Code: "invalid_userinfo", Description: "the UserInfo answer names another subject than the ID token"}
	}
	var extra map[string]any
	if err := ui.Claims(&extra); err != nil {
		return &connector.ProviderError{Code: "invalid_userinfo", Description: "the UserInfo answer is not a JSON object"}
	}
	for k, v := range extra {
		if k != "sub" && !protocolClaims[k] {
			claims[k] = v
		}
	}
	return nil
}

// tokenError classifies a failed code redemption.
func (c *Connector) tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return fmt.Errorf("%w: oidc connector %s: the token endpoint answered %s", connector.ErrUnavailable, c.name, re.Response.Status)
		}
		if re.ErrorCode != "" {
			return &connector.ProviderError{Code: cleanText(re.ErrorCode, 64, "error"), Description: cleanText(re.ErrorDescription, 512, "")}
		}
		status := "no status"
		if re.Response != nil {
			status = re.Response.Status
		}
		return &connector.ProviderError{Code: "invalid_grant", Description: "the token endpoint refused the code: " + status}
	}
	if unreachable(err) {
		return fmt.Errorf("%w: oidc connector %s: the token endpoint: %v", connector.ErrUnavailable, c.name, err)
	}
	// A 200 answer that is not a token.
	return &connector.ProviderError{Code: "invalid_token", Description: "the token endpoint's answer is not a token"}
}

// unreachable reports a transport failure: no answer at all.
func unreachable(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, errTooLarge)
}

// cleanText makes provider-sent text fit for a page, a log line and the
// audit trail: printable runes only, at most max bytes; empty becomes def.
func cleanText(s string, max int, def string) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return def
	}
	return b.String()
}

var errTooLarge = fmt.Errorf("the provider's answer is larger than %d bytes", maxResponseBytes)

// statusRecorder notes the status of the last answer.
type statusRecorder struct {
	base   http.RoundTripper
	status *int
}

func (t statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		*t.status = resp.StatusCode
	}
	return resp, err
}

// limitedTransport fails reading an answer past maxResponseBytes.
type limitedTransport struct{ base http.RoundTripper }

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxResponseBytes}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return b.rc.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
