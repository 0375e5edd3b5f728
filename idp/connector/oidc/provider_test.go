package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// t0 is the fixed time of every test: tokens are issued at t0 and the
// connector's clock reads t0.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const (
	testClientID = "idpbridge"
	testSecret   = "s3cret-of-the-client"
	testRedirect = "https://idp.example.com/oidc/callback"
)

// fakeProvider is an OpenID Connect provider in the test: discovery,
// JWKS, an authorization endpoint that answers at once (the person is
// signed in there), a token endpoint that checks the client's credentials
// and the PKCE verifier, and UserInfo. ID tokens are signed with the
// fixed key of testdata/provider-key.pem.
type fakeProvider struct {
	t   testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey

	// Knobs, set before the flow starts.
	signKey   *rsa.PrivateKey                        // signs ID tokens (default key)
	unsigned  bool                                   // send an alg "none" ID token
	claims    map[string]any                         // added to every ID token
	tamper    func(claims map[string]any)            // last change to the ID token's claims
	userinfo  map[string]any                         // UserInfo answer (sub added unless present)
	deny      url.Values                             // authorization answers with this error
	tokenFail int                                    // token endpoint answers this status
	authMeth  []string                               // token_endpoint_auth_methods_supported
	failDisco atomic.Bool                            // discovery answers 503
	discoPad  int                                    // bytes of padding in the discovery document
	noUI      bool                                   // discovery names no userinfo_endpoint
	noJWKS    bool                                   // discovery names no jwks_uri
	uiStatus  int                                    // UserInfo answers this status
	jwksDrop  bool                                   // the key set's connection is dropped unanswered
	onToken   func(r *http.Request, form url.Values) // sees each token request

	discoHits atomic.Int32
	mu        sync.Mutex
	grants    map[string]grant // by code
	access    map[string]string
}

type grant struct {
	clientID, redirectURI, challenge, nonce string
}

func readKey(t testing.TB, file string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", file)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newFakeProvider(t testing.TB) *fakeProvider {
	fp := &fakeProvider{
		t:        t,
		key:      readKey(t, "testdata/provider-key.pem"),
		grants:   map[string]grant{},
		access:   map[string]string{},
		authMeth: []string{"client_secret_basic"},
	}
	fp.signKey = fp.key
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", fp.discovery)
	mux.HandleFunc("GET /jwks", fp.jwks)
	mux.HandleFunc("GET /authorize", fp.authorize)
	mux.HandleFunc("POST /token", fp.token)
	mux.HandleFunc("GET /userinfo", fp.userInfo)
	fp.srv = httptest.NewTLSServer(mux)
	t.Cleanup(fp.srv.Close)
	return fp
}

func (fp *fakeProvider) issuer() string { return fp.srv.URL }

// config is a valid configuration for this provider.
func (fp *fakeProvider) config() Config {
	return Config{
		Issuer:       fp.issuer(),
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RedirectURL:  testRedirect,
		Scopes:       []string{"openid", "profile", "email", "groups"},
	}
}

func (fp *fakeProvider) discovery(w http.ResponseWriter, r *http.Request) {
	fp.discoHits.Add(1)
	if fp.failDisco.Load() {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
		return
	}
	doc := map[string]any{
		"issuer":                                fp.issuer(),
		"authorization_endpoint":                fp.issuer() + "/authorize",
		"token_endpoint":                        fp.issuer() + "/token",
		"jwks_uri":                              fp.issuer() + "/jwks",
		"userinfo_endpoint":                     fp.issuer() + "/userinfo",
		"response_types_supported":              []string{"code"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": fp.authMeth,
	}
	if fp.noUI {
		delete(doc, "userinfo_endpoint")
	}
	if fp.noJWKS {
		delete(doc, "jwks_uri")
	}
	if fp.discoPad > 0 {
		doc["padding"] = strings.Repeat("x", fp.discoPad)
	}
	writeJSON(w, http.StatusOK, doc)
}

func (fp *fakeProvider) jwks(w http.ResponseWriter, r *http.Request) {
	if fp.jwksDrop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			fp.t.Error(err)
			return
		}
		conn.Close()
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &fp.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig",
	}}})
}

// authorize checks the request as a provider would and answers at once
// with a code (or fp.deny).
func (fp *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	problem := ""
	switch {
	case q.Get("response_type") != "code":
		problem = "response_type"
	case q.Get("client_id") != testClientID:
		problem = "client_id"
	case q.Get("redirect_uri") != testRedirect:
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
	if fp.deny != nil {
		maps.Copy(answer, fp.deny)
	} else {
		code := rand.Text()
		fp.mu.Lock()
		fp.grants[code] = grant{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		fp.mu.Unlock()
		answer.Set("code", code)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+answer.Encode(), http.StatusFound)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (fp *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	if fp.onToken != nil {
		fp.onToken(r, r.PostForm)
	}
	if fp.tokenFail != 0 {
		http.Error(w, "down", fp.tokenFail)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != testClientID || secret != testSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oauthError(w, 400, "unsupported_grant_type", "")
		return
	}
	code := r.PostForm.Get("code")
	fp.mu.Lock()
	g, ok := fp.grants[code]
	delete(fp.grants, code) // a code is good once
	fp.mu.Unlock()
	if !ok || g.clientID != id || g.redirectURI != r.PostForm.Get("redirect_uri") {
		oauthError(w, 400, "invalid_grant", "unknown or used code")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		oauthError(w, 400, "invalid_grant", "PKCE verification failed")
		return
	}
	claims := map[string]any{
		"iss":   fp.issuer(),
		"sub":   "00u1diego",
		"aud":   testClientID,
		"iat":   t0.Unix(),
		"exp":   t0.Add(time.Hour).Unix(),
		"nonce": g.nonce,
	}
	maps.Copy(claims, fp.claims)
	if fp.tamper != nil {
		fp.tamper(claims)
	}
	access := rand.Text()
	fp.mu.Lock()
	fp.access[access] = claims["sub"].(string)
	fp.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
		"expires_in":   3600,
		"id_token":     fp.sign(claims),
	})
}

func (fp *fakeProvider) sign(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		fp.t.Fatal(err)
	}
	if fp.unsigned {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none","kid":"k1"}`)) + "." + enc(payload) + "."
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: fp.signKey, KeyID: "k1"}}, nil)
	if err != nil {
		fp.t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		fp.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		fp.t.Fatal(err)
	}
	return s
}

func (fp *fakeProvider) userInfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	fp.mu.Lock()
	sub, known := fp.access[tok]
	fp.mu.Unlock()
	if fp.uiStatus != 0 {
		http.Error(w, "userinfo failed", fp.uiStatus)
		return
	}
	if !ok || !known {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	answer := map[string]any{"sub": sub}
	maps.Copy(answer, fp.userinfo)
	writeJSON(w, http.StatusOK, answer)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// browse follows loginURL as the browser would, up to the redirect back
// to idpbridge, and returns the query of that callback.
func (fp *fakeProvider) browse(t testing.TB, loginURL string) url.Values {
	t.Helper()
	if !strings.HasPrefix(loginURL, fp.issuer()+"/authorize?") {
		t.Fatalf("login URL %q is not the provider's authorization endpoint", loginURL)
	}
	browser := *fp.srv.Client()
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
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
		t.Fatalf("the provider sent the browser to %s, want %s", got, testRedirect)
	}
	return loc.Query()
}
