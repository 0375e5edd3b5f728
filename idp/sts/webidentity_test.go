package sts

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
)

const (
	webRoleARN   = "arn:aws:iam::123456789012:role/WebIdentityRole"
	webAdminARN  = "arn:aws:iam::123456789012:role/WebAdminRole"
	xyzIssuer    = "https://xyz.com"
	xyzClientID  = "ac_oic_client"
	xyzProvider  = "arn:aws:iam::123456789012:oidc-provider/xyz.com"
	webAccountID = "123456789012"
)

const webConfig = `
accounts:
  - id: "123456789012"
    oidc_providers:
      - {url: https://xyz.com, client_ids: [ac_oic_client], jwks_file: JWKS_FILE}
      - {url: REMOTE_ISSUER, client_ids: [remote_client]}
    roles:
      - name: WebIdentityRole
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::123456789012:oidc-provider/xyz.com"}
              Action: [sts:AssumeRoleWithWebIdentity, sts:SetSourceIdentity, sts:TagSession]
              Condition:
                StringEquals: {xyz.com:aud: ac_oic_client}
                StringLike: {sts:SourceIdentity: [Saanvi, Diego]}
      - name: WebAdminRole
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: ["arn:aws:iam::123456789012:oidc-provider/xyz.com", "REMOTE_PROVIDER_ARN"]}
              Action: [sts:AssumeRoleWithWebIdentity, sts:SetSourceIdentity, sts:TagSession]
              Condition: {StringEquals: {xyz.com:sub: johndoe}}
            - Effect: Allow
              Principal: {Federated: "REMOTE_PROVIDER_ARN"}
              Action: sts:AssumeRoleWithWebIdentity
`

// jwtKey is the test OIDC provider's RS256 key.
type jwtKey struct {
	key *rsa.PrivateKey
	kid string
}

func newJWTKey(t testing.TB, kid string) *jwtKey {
	k := testSAMLKey(t, "jwt-"+kid)
	return &jwtKey{key: k.key, kid: kid}
}

func (k *jwtKey) jwks() []byte {
	b, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": k.kid,
		"n": base64.RawURLEncoding.EncodeToString(k.key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.key.E)).Bytes()),
	}}})
	return b
}

// sign returns a compact RS256 JWS of claims.
func (k *jwtKey) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": k.kid})
	p, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// seedToken is seed scenario 4's token, with source identity si.
func seedToken(si string) map[string]any {
	return map[string]any{
		"sub": "johndoe", "aud": xyzClientID, "iss": xyzIssuer,
		"iat": testNow.Add(-time.Minute).Unix(), "exp": testNow.Add(time.Hour).Unix(),
		ClaimSourceIdentity: si,
	}
}

// webEnv is a test environment with webConfig and a remote provider served
// by an httptest server (discovery and JWKS), whose availability the test
// can switch.
type webEnv struct {
	*testEnv
	key, remoteKey *jwtKey
	remoteURL      string
	remoteDown     *atomic.Bool
	jwksFetches    *atomic.Int32
}

func newWebEnv(t testing.TB) *webEnv {
	t.Helper()
	w := &webEnv{key: newJWTKey(t, "k1"), remoteKey: newJWTKey(t, "r1"), remoteDown: &atomic.Bool{}, jwksFetches: &atomic.Int32{}}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, w.key.jwks(), 0o600); err != nil {
		t.Fatal(err)
	}
	var remote *httptest.Server
	remote = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.remoteDown.Load() {
			http.Error(rw, "down", http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(rw).Encode(map[string]string{"issuer": remote.URL, "jwks_uri": remote.URL + "/jwks"})
		case "/jwks":
			w.jwksFetches.Add(1)
			rw.Write(w.remoteKey.jwks())
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(remote.Close)
	w.remoteURL = remote.URL
	remoteARN := "arn:aws:iam::123456789012:oidc-provider/" + strings.TrimPrefix(remote.URL, "http://")
	cfg := strings.NewReplacer("JWKS_FILE", jwks, "REMOTE_ISSUER", remote.URL, "REMOTE_PROVIDER_ARN", remoteARN).Replace(webConfig)
	clk := &clock{t: testNow}
	w.testEnv = newEnv(t, cfg, withBuild(func(b *BuildOptions) { b.Now = clk.Now }), withOptions(func(o *Options) { o.Now = clk.Now }))
	w.testEnv.clock = clk
	return w
}

func webForm(role, token string, kv ...string) map[string][]string {
	return form("AssumeRoleWithWebIdentity", append([]string{"RoleArn", role, "RoleSessionName", "johndoe-session", "WebIdentityToken", token}, kv...)...)
}

// TestVector11_AssumeRoleWithWebIdentity: the web identity cases of
// vector 11, and the other §5 errors.
func TestVector11_AssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	w := newWebEnv(t)
	with := func(edit func(map[string]any)) string {
		c := seedToken("Saanvi")
		edit(c)
		return w.key.sign(t, c)
	}
	tests := []struct {
		name, role, token string
		status            int
		code, message     string
	}{
		{"unknown aud", webRoleARN, with(func(c map[string]any) { c["aud"] = "other_client" }), 400, CodeInvalidIdentityToken, msgIncorrectAud},
		{"unknown iss", webRoleARN, with(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), 400, CodeInvalidIdentityToken,
			"No OpenIDConnect provider found in your account for https://evil.example.com"},
		{"source identity Admin vs trust allowing Saanvi/Diego", webRoleARN, w.key.sign(t, seedToken("Admin")), 403, CodeAccessDenied, msgWebNotAuthorized},
		{"expired", webRoleARN, with(func(c map[string]any) { c["exp"] = testNow.Add(-time.Second).Unix() }), 400, CodeExpiredTokenException,
			"Token expired: current date/time 1772366400 must be before the expiration date/time1772366399"},
		{"signed by another key", webRoleARN, newJWTKey(t, "k1-attacker").sign(t, seedToken("Saanvi")), 400, CodeInvalidIdentityToken, msgBadSignature},
		{"not a JWT", webRoleARN, "not.a.jwt", 400, CodeInvalidIdentityToken, msgNotAJWT},
		{"source identity aws:x", webRoleARN, w.key.sign(t, seedToken("aws:x")), 400, CodeInvalidIdentityToken, msgTokenSourceID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := w.do(nil, webForm(tc.role, tc.token))
			wantError(t, r, tc.status, tc.code, tc.message)
			rec := w.trail.last(1)[0]
			if rec.EventName != audit.EventAssumeRoleWithWebIdentity || rec.ErrorCode != tc.code {
				t.Fatalf("audit record %s %s", rec.EventName, rec.ErrorCode)
			}
		})
	}
	t.Run("Saanvi succeeds", func(t *testing.T) {
		var res AssumeRoleWithWebIdentityResult
		w.do(nil, webForm(webRoleARN, w.key.sign(t, seedToken("Saanvi")))).result(t, &res)
		if res.SourceIdentity != "Saanvi" || res.SubjectFromWebIdentityToken != "johndoe" || res.Audience != xyzClientID ||
			res.Provider != xyzIssuer || res.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/WebIdentityRole/johndoe-session" {
			t.Fatalf("result = %+v", res)
		}
		rec := w.trail.last(1)[0]
		if rec.UserIdentity.Type != audit.TypeWebIdentityUser || rec.UserIdentity.PrincipalID != "https://xyz.com:ac_oic_client:johndoe" {
			t.Fatalf("userIdentity %+v", rec.UserIdentity)
		}
		// A later call with the session names the provider in
		// webIdFederationData and carries the source identity.
		s := creds{key: res.Credentials.AccessKeyID, secret: res.Credentials.SecretAccessKey, token: res.Credentials.SessionToken}
		if r := w.do(&s, form("GetCallerIdentity")); r.status != http.StatusOK {
			t.Fatalf("GetCallerIdentity: %s", r.body)
		}
		sc := w.trail.last(1)[0].UserIdentity.SessionContext
		if sc == nil || sc.WebIDFederationData.FederatedProvider != xyzProvider || sc.SourceIdentity != "Saanvi" {
			t.Fatalf("sessionContext %+v", sc)
		}
	})
	t.Run("tags claim", func(t *testing.T) {
		c := seedToken("Diego")
		c[ClaimTags] = map[string]any{"principal_tags": map[string][]string{"Project": {"Unicorn"}}, "transitive_tag_keys": []string{"Project"}}
		var res AssumeRoleWithWebIdentityResult
		w.do(nil, webForm(webRoleARN, w.key.sign(t, c))).result(t, &res)
		cl, err := w.svc.sealer.open(res.Credentials.SessionToken, res.Credentials.AccessKeyID)
		if err != nil || len(cl.Tags) != 1 || cl.Tags[0] != (idp.Tag{Key: "Project", Value: "Unicorn"}) || len(cl.TransitiveKeys) != 1 {
			t.Fatalf("claims %+v, %v", cl, err)
		}
	})
}

// TestWebIdentityRemoteKeys: keys by discovery, refetched for an unknown
// key, and IDPCommunicationError when the provider is unreachable.
func TestWebIdentityRemoteKeys(t *testing.T) {
	t.Parallel()
	w := newWebEnv(t)
	tok := func(k *jwtKey) string {
		return k.sign(t, map[string]any{"sub": "svc", "aud": "remote_client", "iss": w.remoteURL, "exp": testNow.Add(time.Hour).Unix()})
	}
	if r := w.do(nil, webForm(webAdminARN, tok(w.remoteKey))); r.status != http.StatusOK {
		t.Fatalf("remote provider: %s", r.body)
	}
	if r := w.do(nil, webForm(webAdminARN, tok(w.remoteKey))); r.status != http.StatusOK || w.jwksFetches.Load() != 1 {
		t.Fatalf("second call: %d, %d JWKS fetches (want 1, cached)", r.status, w.jwksFetches.Load())
	}
	w.remoteKey = newJWTKey(t, "r2")
	w.clock.Set(testNow.Add(2 * time.Minute))
	if r := w.do(nil, webForm(webAdminARN, tok(w.remoteKey))); r.status != http.StatusOK || w.jwksFetches.Load() != 2 {
		t.Fatalf("rotated key: %d, %d JWKS fetches (want a refetch)", r.status, w.jwksFetches.Load())
	}
	w.remoteDown.Store(true)
	// Keys are cached for an hour, then kept while the provider is down
	// (stale while error, see oidckeys_test.go): a token that needs fresh
	// keys finds the provider unreachable.
	w.clock.Set(testNow.Add(2 * time.Hour))
	r := w.do(nil, webForm(webAdminARN, newJWTKey(t, "r3").sign(t, map[string]any{"sub": "svc", "aud": "remote_client", "iss": w.remoteURL,
		"exp": testNow.Add(3 * time.Hour).Unix()})))
	wantError(t, r, http.StatusBadRequest, CodeIDPCommunicationError, msgKeysUnreachable)
}
