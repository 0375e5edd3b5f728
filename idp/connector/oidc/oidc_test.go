package oidc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/connector/oidc/oidctest"
)

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func testChallenge() connector.Challenge {
	return connector.Challenge{State: "state-4f1c9a", Nonce: "nonce-7d2e0b", Verifier: testVerifier}
}

// newTestConnector returns a connector for fp, with edit applied to its
// configuration, fp's TLS client and the fixed clock.
func newTestConnector(t testing.TB, fp *oidctest.Provider, edit func(*Config)) *Connector {
	t.Helper()
	cfg := testConfig(fp)
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(context.Background(), "okta", cfg, Options{
		HTTPClient: fp.Client(),
		Now:        func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn runs the whole flow: login URL, the provider's page, callback.
func signIn(t testing.TB, c *Connector, fp *oidctest.Provider, ch connector.Challenge, alter func(*connector.Challenge, url.Values)) (idp.Identity, error) {
	t.Helper()
	ctx := context.Background()
	u, err := c.LoginURL(ctx, ch)
	if err != nil {
		t.Fatalf("LoginURL: %v", err)
	}
	q := fp.Browse(t, u)
	if alter != nil {
		alter(&ch, q)
	}
	return c.HandleCallback(ctx, ch, q)
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.Claims = map[string]any{
		"preferred_username": "diego.ramirez",
		"email":              "diego@corp.example",
		"email_verified":     true,
		"name":               "Diego Ramirez",
		"groups":             []any{"AWS-123456789012-Developer", "everyone"},
		"upn":                "diego.ramirez@corp.example",
		"department":         "Platform",
		"amr":                []any{"pwd", "mfa"},
		"employee_number":    4711, // not a string: not kept
	}
	c := newTestConnector(t, fp, func(c *Config) {
		c.ClaimMapping = map[string]string{"upn": "userPrincipalName", "department": "dept"}
	})
	got, err := signIn(t, c, fp, testChallenge(), nil)
	if err != nil {
		t.Fatalf("HandleCallback: %v", err)
	}
	want := idp.Identity{
		Username:    "diego.ramirez",
		Email:       "diego@corp.example",
		DisplayName: "Diego Ramirez",
		Groups:      []string{"AWS-123456789012-Developer", "everyone"},
		Connector:   "okta",
		Attributes: map[string][]string{
			"sub":                {"00u1diego"},
			"preferred_username": {"diego.ramirez"},
			"email":              {"diego@corp.example"},
			"name":               {"Diego Ramirez"},
			"groups":             {"AWS-123456789012-Developer", "everyone"},
			"userPrincipalName":  {"diego.ramirez@corp.example"},
			"dept":               {"Platform"},
			"amr":                {"pwd", "mfa"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("identity\n got %#v\nwant %#v", got, want)
	}
	if v := got.Values("userPrincipalName"); !reflect.DeepEqual(v, []string{"diego.ramirez@corp.example"}) {
		t.Errorf("Values(userPrincipalName) = %q", v)
	}
	if !got.InGroup("AWS-123456789012-Developer") {
		t.Error("the groups claim did not become groups")
	}
}

func TestLoginURL(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	c := newTestConnector(t, fp, nil)
	ch := testChallenge()
	raw, err := c.LoginURL(context.Background(), ch)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(ch.Verifier))
	q := u.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             testClientID,
		"redirect_uri":          testRedirect,
		"scope":                 "openid profile email groups",
		"state":                 ch.State,
		"nonce":                 ch.Nonce,
		"code_challenge_method": "S256",
		"code_challenge":        base64.RawURLEncoding.EncodeToString(sum[:]),
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if q.Has("code_verifier") {
		t.Error("the verifier itself is in the login URL")
	}

	for name, bad := range map[string]connector.Challenge{
		"no state":       {Nonce: "n", Verifier: testVerifier},
		"no nonce":       {State: "s", Verifier: testVerifier},
		"short verifier": {State: "s", Nonce: "n", Verifier: "abc"},
		"bad character":  {State: "s", Nonce: "n", Verifier: testVerifier[:42] + "+"},
	} {
		if _, err := c.LoginURL(context.Background(), bad); err == nil {
			t.Errorf("%s: LoginURL accepted %+v", name, bad)
		}
	}
}

func TestSignInRefused(t *testing.T) {
	t.Parallel()
	other := oidctest.OtherKey(t)
	tests := []struct {
		name     string
		provider func(*oidctest.Provider)
		config   func(*Config)
		alter    func(*connector.Challenge, url.Values)
		code     string // ProviderError.Code
	}{
		{name: "wrong state", alter: func(_ *connector.Challenge, q url.Values) { q.Set("state", "state-of-another-browser") }, code: "invalid_state"},
		{name: "no state in the answer", alter: func(_ *connector.Challenge, q url.Values) { q.Del("state") }, code: "invalid_state"},
		{name: "empty state on both sides", alter: func(ch *connector.Challenge, q url.Values) { ch.State = ""; q.Set("state", "") }, code: "invalid_state"},
		{name: "wrong nonce", provider: func(fp *oidctest.Provider) {
			fp.Tamper = func(c map[string]any) { c["nonce"] = "nonce-of-another-browser" }
		}, code: "invalid_id_token"},
		{name: "no nonce", provider: func(fp *oidctest.Provider) { fp.Tamper = func(c map[string]any) { delete(c, "nonce") } }, code: "invalid_id_token"},
		{name: "challenge nonce differs", alter: func(ch *connector.Challenge, _ url.Values) { ch.Nonce = "nonce-other" }, code: "invalid_id_token"},
		{name: "wrong audience", provider: func(fp *oidctest.Provider) { fp.Tamper = func(c map[string]any) { c["aud"] = "another-client" } }, code: "invalid_id_token"},
		{name: "expired", provider: func(fp *oidctest.Provider) {
			fp.Tamper = func(c map[string]any) { c["exp"] = t0.Add(-time.Second).Unix() }
		}, code: "invalid_id_token"},
		{name: "several audiences without azp", provider: func(fp *oidctest.Provider) {
			fp.Tamper = func(c map[string]any) { c["aud"] = []string{testClientID, "another-client"} }
		}, code: "invalid_id_token"},
		{name: "azp of another party", provider: func(fp *oidctest.Provider) {
			fp.Tamper = func(c map[string]any) {
				c["aud"] = []string{testClientID, "another-client"}
				c["azp"] = "another-client"
			}
		}, code: "invalid_id_token"},
		{name: "wrong issuer", provider: func(fp *oidctest.Provider) { fp.Tamper = func(c map[string]any) { c["iss"] = "https://evil.example" } }, code: "invalid_id_token"},
		{name: "bad signature", provider: func(fp *oidctest.Provider) { fp.SignKey = other }, code: "invalid_id_token"},
		{name: "unsigned token", provider: func(fp *oidctest.Provider) { fp.Unsigned = true }, code: "invalid_id_token"},
		{name: "PKCE verifier mismatch", alter: func(ch *connector.Challenge, _ url.Values) {
			ch.Verifier = strings.Repeat("x", 43)
		}, code: "invalid_grant"},
		{name: "no PKCE verifier", alter: func(ch *connector.Challenge, _ url.Values) { ch.Verifier = "" }, code: "invalid_grant"},
		{name: "wrong client secret", config: func(c *Config) { c.ClientSecret = "not-the-secret" }, code: "invalid_client"},
		{name: "forged code", alter: func(_ *connector.Challenge, q url.Values) { q.Set("code", "forged-code") }, code: "invalid_grant"},
		{name: "no code", alter: func(_ *connector.Challenge, q url.Values) { q.Del("code") }, code: "invalid_request"},
		{name: "iss parameter of another provider", alter: func(_ *connector.Challenge, q url.Values) { q.Set("iss", "https://evil.example") }, code: "invalid_issuer"},
		{name: "username claim missing", config: func(c *Config) { c.UsernameClaim = "upn" }, code: "invalid_claims"},
		{name: "userinfo names another subject", config: func(c *Config) { c.UserInfo = true }, provider: func(fp *oidctest.Provider) {
			fp.UserInfo = map[string]any{"sub": "00u1mallory"}
		}, code: "invalid_userinfo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp := newFakeProvider(t)
			fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
			if tc.provider != nil {
				tc.provider(fp)
			}
			c := newTestConnector(t, fp, tc.config)
			id, err := signIn(t, c, fp, testChallenge(), tc.alter)
			var pe *connector.ProviderError
			if !errors.As(err, &pe) {
				t.Fatalf("got %+v, %v; want a ProviderError", id, err)
			}
			if pe.Code != tc.code {
				t.Errorf("code %q (%v), want %q", pe.Code, pe, tc.code)
			}
			if errors.Is(err, connector.ErrUnavailable) {
				t.Errorf("%v is reported as unavailability", err)
			}
			if !reflect.DeepEqual(id, idp.Identity{}) {
				t.Errorf("refused sign-in returned %+v", id)
			}
		})
	}
}

func TestProviderErrorRedirect(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.Deny = url.Values{"error": {"access_denied"}, "error_description": {"User is not assigned to the client application."}}
	tokenCalls := 0
	fp.OnToken = func(*http.Request, url.Values) { tokenCalls++ }
	c := newTestConnector(t, fp, nil)
	_, err := signIn(t, c, fp, testChallenge(), nil)
	var pe *connector.ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a ProviderError", err)
	}
	want := connector.ProviderError{Code: "access_denied", Description: "User is not assigned to the client application."}
	if *pe != want {
		t.Errorf("got %+v, want %+v", *pe, want)
	}
	if tokenCalls != 0 {
		t.Errorf("the token endpoint was called %d times after an error answer", tokenCalls)
	}

	// Provider text goes to pages, logs and the audit trail: control
	// characters are dropped and the length is bounded.
	fp.Deny = url.Values{"error": {"access_denied\r\nforged: log line"}, "error_description": {strings.Repeat("é", 1000)}}
	_, err = signIn(t, c, fp, testChallenge(), nil)
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want a ProviderError", err)
	}
	if pe.Code != "access_deniedforged: log line" || len(pe.Description) > 512 || !strings.HasPrefix(pe.Description, "éé") {
		t.Errorf("unclean provider text: %q / %d bytes", pe.Code, len(pe.Description))
	}
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
	fp.UserInfo = map[string]any{
		"email":          "diego@corp.example",
		"email_verified": "true", // some providers send a string
		"groups":         []any{"admins"},
		"iss":            "https://evil.example", // protocol claims are not taken from UserInfo
	}
	c := newTestConnector(t, fp, func(c *Config) { c.UserInfo = true })
	id, err := signIn(t, c, fp, testChallenge(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "diego@corp.example" || !reflect.DeepEqual(id.Groups, []string{"admins"}) {
		t.Errorf("UserInfo claims did not arrive: %+v", id)
	}
	if _, ok := id.Attributes["iss"]; ok {
		t.Errorf("a protocol claim became an attribute: %v", id.Attributes)
	}
}

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		meths  []string
		header bool
	}{
		{"basic by default", nil, true},
		{"basic", []string{"client_secret_basic", "client_secret_post"}, true},
		{"post only", []string{"client_secret_post"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp := newFakeProvider(t)
			fp.AuthMethods = tc.meths
			fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
			var mu sync.Mutex
			var header bool
			var secretInForm bool
			fp.OnToken = func(r *http.Request, form url.Values) {
				mu.Lock()
				defer mu.Unlock()
				_, _, header = r.BasicAuth()
				secretInForm = form.Has("client_secret")
			}
			c := newTestConnector(t, fp, nil)
			if _, err := signIn(t, c, fp, testChallenge(), nil); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if header != tc.header || secretInForm == tc.header {
				t.Errorf("basic auth %v, secret in form %v; want basic auth %v", header, secretInForm, tc.header)
			}
		})
	}
}

func TestProviderDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("at discovery", func(t *testing.T) {
		t.Parallel()
		fp := newFakeProvider(t)
		c := newTestConnector(t, fp, nil)
		fp.Close()
		if _, err := c.LoginURL(ctx, testChallenge()); !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("LoginURL: %v, want ErrUnavailable", err)
		}
		if err := c.Check(ctx); !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("Check: %v, want ErrUnavailable", err)
		}
		// A callback that arrives while the provider is down.
		q := url.Values{"state": {testChallenge().State}, "code": {"c"}}
		if _, err := c.HandleCallback(ctx, testChallenge(), q); !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("HandleCallback: %v, want ErrUnavailable", err)
		}
	})

	t.Run("at the token endpoint", func(t *testing.T) {
		t.Parallel()
		fp := newFakeProvider(t)
		c := newTestConnector(t, fp, nil)
		u, err := c.LoginURL(ctx, testChallenge())
		if err != nil {
			t.Fatal(err)
		}
		q := fp.Browse(t, u)
		fp.Close()
		_, err = c.HandleCallback(ctx, testChallenge(), q)
		if !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("HandleCallback: %v, want ErrUnavailable", err)
		}
		var pe *connector.ProviderError
		if errors.As(err, &pe) {
			t.Errorf("unavailability reported as a refusal: %v", err)
		}
	})

	t.Run("token endpoint answers 503", func(t *testing.T) {
		t.Parallel()
		fp := newFakeProvider(t)
		fp.TokenStatus = http.StatusServiceUnavailable
		c := newTestConnector(t, fp, nil)
		if _, err := signIn(t, c, fp, testChallenge(), nil); !errors.Is(err, connector.ErrUnavailable) {
			t.Errorf("HandleCallback: %v, want ErrUnavailable", err)
		}
	})
}

// syncBuffer is a log destination for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDiscoveryLazyAndLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fp := newFakeProvider(t)
	fp.DiscoveryDown.Store(true)
	var logs syncBuffer
	c, err := New(ctx, "okta", testConfig(fp), Options{
		HTTPClient: fp.Client(),
		Now:        func() time.Time { return t0 },
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("New with the provider down: %v", err)
	}
	if n := fp.DiscoveryHits(); n != 0 {
		t.Errorf("New contacted the provider %d times", n)
	}
	for range 3 {
		if _, err := c.LoginURL(ctx, testChallenge()); !errors.Is(err, connector.ErrUnavailable) {
			t.Fatalf("LoginURL: %v, want ErrUnavailable", err)
		}
	}
	out := logs.String()
	if n := strings.Count(out, "discovery failed"); n != 1 {
		t.Errorf("%d discovery failure lines for 3 failures, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "connector=okta") || !strings.Contains(out, "503") {
		t.Errorf("the failure line does not name the connector and the cause:\n%s", out)
	}
	if strings.Contains(out, testSecret) {
		t.Errorf("the client secret is in the log:\n%s", out)
	}

	fp.DiscoveryDown.Store(false)
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
	if _, err := signIn(t, c, fp, testChallenge(), nil); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if err := c.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if !strings.Contains(logs.String(), "discovery succeeded again") {
		t.Errorf("the recovery is not logged:\n%s", logs.String())
	}
}

func TestDiscoveryBurst(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	c := newTestConnector(t, fp, nil)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.LoginURL(context.Background(), testChallenge())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := fp.DiscoveryHits(); got != 1 {
		t.Errorf("%d concurrent first sign-ins fetched discovery %d times, want 1", n, got)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	base := Config{Issuer: "https://login.example.com", ClientID: "c", RedirectURL: testRedirect}
	env := map[string]string{"OIDC_SECRET": "from-env"}
	getenv := func(k string) string { return env[k] }

	c, err := New(context.Background(), "corp", func() Config { b := base; b.ClientSecretEnv = "OIDC_SECRET"; return b }(), Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	if c.secret != "from-env" {
		t.Errorf("secret %q, want the environment's", c.secret)
	}
	if !reflect.DeepEqual(c.scopes, DefaultScopes) {
		t.Errorf("scopes %v, want %v", c.scopes, DefaultScopes)
	}

	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"unset environment variable", func(c *Config) { c.ClientSecretEnv = "MISSING" }, "MISSING"},
		{"missing file", func(c *Config) { c.ClientSecretFile = "testdata/no-such-file" }, "client_secret_file"},
		{"invalid config", func(c *Config) { c.Issuer = "" }, "issuer: is required"},
	} {
		cfg := base
		tc.cfg(&cfg)
		if _, err := New(context.Background(), "corp", cfg, Options{Getenv: getenv}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(context.Background(), "", base, Options{}); err == nil {
		t.Error("New accepted an empty name")
	}

	// openid is always requested.
	cfg := base
	cfg.Scopes = []string{"email"}
	c, err = New(context.Background(), "corp", cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.scopes, []string{"openid", "email"}) {
		t.Errorf("scopes %v", c.scopes)
	}
}

func TestKeysUnreachable(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.DropJWKS = true
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
	c := newTestConnector(t, fp, nil)
	_, err := signIn(t, c, fp, testChallenge(), nil)
	if !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestUserInfoFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		provider    func(*oidctest.Provider)
		unavailable bool
		code        string
	}{
		{"server error", func(fp *oidctest.Provider) { fp.UserInfoStatus = http.StatusServiceUnavailable }, true, ""},
		{"refused", func(fp *oidctest.Provider) { fp.UserInfoStatus = http.StatusUnauthorized }, false, "invalid_userinfo"},
		{"no endpoint", func(fp *oidctest.Provider) { fp.NoUserInfo = true }, false, "userinfo_unsupported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fp := newFakeProvider(t)
			fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
			tc.provider(fp)
			c := newTestConnector(t, fp, func(c *Config) { c.UserInfo = true })
			_, err := signIn(t, c, fp, testChallenge(), nil)
			if got := errors.Is(err, connector.ErrUnavailable); got != tc.unavailable {
				t.Fatalf("%v: unavailable %v, want %v", err, got, tc.unavailable)
			}
			var pe *connector.ProviderError
			if tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code) {
				t.Errorf("%v, want ProviderError %q", err, tc.code)
			}
		})
	}
}

func TestAnswerTooLarge(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.DiscoveryPadding = maxResponseBytes
	c := newTestConnector(t, fp, nil)
	_, err := c.LoginURL(context.Background(), testChallenge())
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a discovery document over %d bytes: %v", maxResponseBytes, err)
	}
	fp.DiscoveryPadding = maxResponseBytes / 2
	if _, err := c.LoginURL(context.Background(), testChallenge()); err != nil {
		t.Fatalf("a document under the bound: %v", err)
	}
}

func TestDiscoveryIncomplete(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.NoJWKS = true
	c := newTestConnector(t, fp, nil)
	_, err := c.LoginURL(context.Background(), testChallenge())
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "jwks_uri") {
		t.Fatalf("discovery without jwks_uri: %v", err)
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	c := Config{ClientSecret: "s3cret", ClientSecretEnv: "ENV"}.Redacted()
	if c.ClientSecret != "REDACTED" || c.ClientSecretEnv != "ENV" {
		t.Errorf("Redacted: %+v", c)
	}
	if c := (Config{}).Redacted(); c.ClientSecret != "" {
		t.Errorf("an empty secret became %q", c.ClientSecret)
	}
}

// TestConcurrentSignIns runs many callbacks at once on one connector,
// each bound to its own browser's challenge; a callback presented with
// another browser's challenge is refused.
func TestConcurrentSignIns(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez"}
	c := newTestConnector(t, fp, nil)
	ctx := context.Background()
	const n = 16
	chs := make([]connector.Challenge, n)
	qs := make([]url.Values, n)
	for i := range n {
		chs[i] = connector.Challenge{State: fmt.Sprintf("state-%02d", i), Nonce: fmt.Sprintf("nonce-%02d", i), Verifier: fmt.Sprintf("%s%02d", testVerifier, i)}
		u, err := c.LoginURL(ctx, chs[i])
		if err != nil {
			t.Fatal(err)
		}
		qs[i] = fp.Browse(t, u)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ch := chs[i]
			if i%2 == 1 {
				ch = chs[i-1] // another browser's challenge
			}
			var id idp.Identity
			id, errs[i] = c.HandleCallback(ctx, ch, qs[i])
			if errs[i] == nil && id.Username != "diego.ramirez" {
				errs[i] = fmt.Errorf("identity %+v", id)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		var pe *connector.ProviderError
		switch {
		case i%2 == 0 && err != nil:
			t.Errorf("sign-in %d: %v", i, err)
		case i%2 == 1 && (!errors.As(err, &pe) || pe.Code != "invalid_state"):
			t.Errorf("sign-in %d with another browser's challenge: %v, want invalid_state", i, err)
		}
	}
}

func TestAuthorizedParty(t *testing.T) {
	t.Parallel()
	fp := newFakeProvider(t)
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez", "aud": []string{testClientID, "api"}, "azp": testClientID}
	c := newTestConnector(t, fp, nil)
	if _, err := signIn(t, c, fp, testChallenge(), nil); err != nil {
		t.Fatalf("several audiences with azp naming this client: %v", err)
	}
}
