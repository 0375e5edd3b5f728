// Package oidctest is an OpenID Connect provider for tests: discovery,
// JWKS, an authorization endpoint that signs the person in at once, a
// token endpoint that checks the client's credentials and the PKCE
// verifier, and UserInfo, served over TLS by httptest. ID tokens are
// signed (RS256) with a fixed key. Fields tune its answers, to test
// refusals; set them before the sign-in they concern.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

//go:embed keys/*.pem
var keys embed.FS

// Subject is the "sub" of every ID token.
const Subject = "00u1diego"

// KeyID is the "kid" of the provider's signing key.
const KeyID = "k1"

// Provider is a running test provider. Its issuer is Issuer().
type Provider struct {
	// ClientID, ClientSecret and RedirectURL are the registered client;
	// the endpoints refuse any other.
	ClientID, ClientSecret, RedirectURL string
	// Now is when ID tokens are issued; they expire an hour later.
	Now time.Time

	// Claims are added to every ID token (after iss, sub, aud, iat, exp
	// and nonce, which they may replace).
	Claims map[string]any
	// Tamper makes the last change to an ID token's claims.
	Tamper func(claims map[string]any)
	// SignKey signs ID tokens (default: the key the JWKS publishes).
	SignKey *rsa.PrivateKey
	// Unsigned sends ID tokens with alg "none".
	Unsigned bool
	// UserInfo is the UserInfo answer ("sub" is the token's unless set).
	UserInfo map[string]any
	// UserInfoStatus, when set, is UserInfo's status, with no claims.
	UserInfoStatus int
	// Deny makes the authorization endpoint answer with these parameters
	// (error, error_description) instead of a code.
	Deny url.Values
	// TokenStatus, when set, is the token endpoint's status, with no token.
	TokenStatus int
	// AuthMethods is token_endpoint_auth_methods_supported (default
	// client_secret_basic); the token endpoint accepts both anyway.
	AuthMethods []string
	// DiscoveryDown makes discovery answer 503.
	DiscoveryDown atomic.Bool
	// DiscoveryPadding adds that many bytes to the discovery document.
	DiscoveryPadding int
	// NoUserInfo and NoJWKS leave the endpoint out of discovery.
	NoUserInfo, NoJWKS bool
	// DropJWKS closes the key set's connections unanswered.
	DropJWKS bool
	// OnToken sees each token request.
	OnToken func(r *http.Request, form url.Values)

	t         testing.TB
	srv       *httptest.Server
	key       *rsa.PrivateKey
	discoHits atomic.Int32
	mu        sync.Mutex
	grants    map[string]grant // by code
	access    map[string]string
}

type grant struct {
	clientID, redirectURI, challenge, nonce string
}

// New starts a provider for one client; it stops at the end of the test.
func New(t testing.TB, clientID, clientSecret, redirectURL string) *Provider {
	p := &Provider{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Now:          time.Now(),
		AuthMethods:  []string{"client_secret_basic"},
		t:            t,
		key:          readKey(t, "keys/provider-key.pem"),
		grants:       map[string]grant{},
		access:       map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userInfo)
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// OtherKey is a fixed RSA key the provider does not publish.
func OtherKey(t testing.TB) *rsa.PrivateKey { return readKey(t, "keys/other-key.pem") }

func readKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := keys.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Issuer is the provider's issuer URL (https://127.0.0.1:port).
func (p *Provider) Issuer() string { return p.srv.URL }

// Client is an HTTP client that trusts the provider's certificate.
func (p *Provider) Client() *http.Client { return p.srv.Client() }

// Close stops the provider, as if it went down.
func (p *Provider) Close() { p.srv.Close() }

// DiscoveryHits counts the discovery requests so far.
func (p *Provider) DiscoveryHits() int { return int(p.discoHits.Load()) }

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.discoHits.Add(1)
	if p.DiscoveryDown.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	doc := map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                p.Issuer() + "/authorize",
		"token_endpoint":                        p.Issuer() + "/token",
		"jwks_uri":                              p.Issuer() + "/jwks",
		"userinfo_endpoint":                     p.Issuer() + "/userinfo",
		"response_types_supported":              []string{"code"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": p.AuthMethods,
	}
	if p.NoUserInfo {
		delete(doc, "userinfo_endpoint")
	}
	if p.NoJWKS {
		delete(doc, "jwks_uri")
	}
	if p.DiscoveryPadding > 0 {
		doc["padding"] = strings.Repeat("x", p.DiscoveryPadding)
	}
	writeJSON(w, http.StatusOK, doc)
}

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	if p.DropJWKS {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			p.t.Error(err)
			return
		}
		conn.Close()
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &p.key.PublicKey, KeyID: KeyID, Algorithm: "RS256", Use: "sig",
	}}})
}

// authorize checks the request as a provider would and answers at once
// with a code (or Deny).
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	problem := ""
	switch {
	case q.Get("response_type") != "code":
		problem = "response_type"
	case q.Get("client_id") != p.ClientID:
		problem = "client_id"
	case q.Get("redirect_uri") != p.RedirectURL:
		problem = "redirect_uri"
	case !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		problem = "scope"
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		problem = "code_challenge"
	case q.Get("state") == "" || q.Get("nonce") == "":
		problem = "state/nonce"
	}
	if problem != "" {
		http.Error(w, "bad authorization request: "+problem, http.StatusBadRequest)
		return
	}
	answer := url.Values{"state": {q.Get("state")}}
	if p.Deny != nil {
		maps.Copy(answer, p.Deny)
	} else {
		code := rand.Text()
		p.mu.Lock()
		p.grants[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		p.mu.Unlock()
		answer.Set("code", code)
	}
	sep := "?"
	if strings.Contains(p.RedirectURL, "?") {
		sep = "&"
	}
	http.Redirect(w, r, p.RedirectURL+sep+answer.Encode(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if p.OnToken != nil {
		p.OnToken(r, r.PostForm)
	}
	if p.TokenStatus != 0 {
		http.Error(w, "token endpoint failed", p.TokenStatus)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.grants[code]
	delete(p.grants, code) // a code is good once
	p.mu.Unlock()
	if !ok || g.clientID != id || g.redirectURI != r.PostForm.Get("redirect_uri") {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or used code")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed")
		return
	}
	claims := map[string]any{
		"iss":   p.Issuer(),
		"sub":   Subject,
		"aud":   p.ClientID,
		"iat":   p.Now.Unix(),
		"exp":   p.Now.Add(time.Hour).Unix(),
		"nonce": g.nonce,
	}
	maps.Copy(claims, p.Claims)
	if p.Tamper != nil {
		p.Tamper(claims)
	}
	sub, _ := claims["sub"].(string)
	access := rand.Text()
	p.mu.Lock()
	p.access[access] = sub
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     p.sign(claims),
	})
}

func (p *Provider) sign(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		p.t.Error(err)
		return ""
	}
	if p.Unsigned {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none","kid":"`+KeyID+`"}`)) + "." + enc(payload) + "."
	}
	key := p.SignKey
	if key == nil {
		key = p.key
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: KeyID}}, nil)
	if err != nil {
		p.t.Error(err)
		return ""
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return ""
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		p.t.Error(err)
	}
	return s
}

func (p *Provider) userInfo(w http.ResponseWriter, r *http.Request) {
	if p.UserInfoStatus != 0 {
		http.Error(w, "userinfo failed", p.UserInfoStatus)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	sub, known := p.access[tok]
	p.mu.Unlock()
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	answer := map[string]any{"sub": sub}
	maps.Copy(answer, p.UserInfo)
	writeJSON(w, http.StatusOK, answer)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Browse follows loginURL as a browser would, up to the redirect back to
// RedirectURL, and returns the query of that callback.
func (p *Provider) Browse(t testing.TB, loginURL string) url.Values {
	t.Helper()
	if !strings.HasPrefix(loginURL, p.Issuer()+"/authorize?") {
		t.Fatalf("login URL %q is not the provider's authorization endpoint", loginURL)
	}
	browser := *p.srv.Client()
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := browser.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorization: %s %s", resp.Status, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(p.RedirectURL)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, ru.Scheme+"://"+ru.Host+ru.Path; got != want {
		t.Fatalf("the provider sent the browser to %s, want %s", got, want)
	}
	return loc.Query()
}
