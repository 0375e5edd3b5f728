package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/chromedp"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector/oidc/oidctest"
	"idpbridge/idp/web/browsertest"
)

// oktaSourceIdentity is the e-mail address the test provider vouches for;
// the mapping makes it the source identity.
const oktaSourceIdentity = "diego.ramirez@corp.example"

// oidcServe is a served idpbridge with the local accounts and one oidc
// connector "okta" at a running test provider, whose mapping takes the
// source identity from the verified e-mail claim and the session name
// from a mapped claim (employee_number -> employeeID).
type oidcServe struct {
	c        *cli
	path     string
	base     string
	provider *oidctest.Provider
	// client reaches the provider (and trusts its certificate).
	client *http.Client
}

func newOIDCServe(t *testing.T) *oidcServe {
	t.Helper()
	return newOIDCServeWith(t, "idpbridge-test", func(issuer string) string {
		return fmt.Sprintf(`connectors:
  - {name: local, type: local}
  - name: okta
    type: oidc
    display_name: Okta
    config:
      issuer: %s
      client_id: idpbridge-test
      client_secret_env: OKTA_CLIENT_SECRET
      claim_mapping: {employee_number: employeeID}
mappings:
  - name: people
    source_identity: {from: email, required: true}
    role_session_name: {from: employeeID}
    roles:
      - group: '^AWS-Developers$'
        role_arn: arn:aws:iam::123456789012:role/Developer
        provider_arn: arn:aws:iam::123456789012:saml-provider/idpbridge
service_providers:
  - {name: builtin, preset: builtin, mapping: people, display_name: Built-in STS}
`, issuer)
	})
}

// newOIDCServeWith is newOIDCServe with the provider's client clientID
// and the configuration that config makes of the provider's issuer
// (after server and log).
func newOIDCServeWith(t *testing.T, clientID string, config func(issuer string) string) *oidcServe {
	t.Helper()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	p := oidctest.New(t, clientID, "s3cr3t-client", base+"/login/callback/okta")
	p.Claims = map[string]any{
		"preferred_username": "diego",
		"email":              oktaSourceIdentity,
		"email_verified":     true,
		"name":               "Diego Ramirez",
		"employee_number":    "E1234",
		"groups":             []string{"Everyone", "AWS-Developers", "AWS-123456789012-Developer"},
	}
	c.env["OKTA_CLIENT_SECRET"] = "s3cr3t-client"
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base)+config(p.Issuer()))
	return &oidcServe{c: c, path: path, base: base, provider: p, client: p.Client()}
}

// serve runs serve with an HTTP client that trusts the provider, until
// check returns.
func (o *oidcServe) serve(t *testing.T, check func()) {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return o.c.env[k] }, Now: time.Now, Rand: rand.Reader,
		Started: func(a string) { started <- a }, HTTPClient: o.client}
	done := make(chan int, 1)
	go func() { done <- m.Execute(ctx, []string{"serve", "--config", o.path}) }()
	select {
	case <-started:
		check()
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}
	if strings.Contains(out.String()+errb.String(), "s3cr3t-client") {
		t.Error("the client secret is in serve's output")
	}
}

// spki is the chromium flag value that trusts the certificate the server
// at rawURL presents (the SHA-256 of its public key, base64).
func spki(t *testing.T, client *http.Client, rawURL string) string {
	t.Helper()
	res, err := client.Get(rawURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.TLS == nil || len(res.TLS.PeerCertificates) == 0 {
		t.Fatalf("%s presented no certificate", rawURL)
	}
	leaf := res.TLS.PeerCertificates[0]
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// TestOIDCSignInInBrowser is a person of an upstream OIDC provider in a
// real browser: "Sign in with Okta" on our login page, the provider signs
// them in at once and sends them back, they land on the portal as
// diego@okta, open the built-in STS and get credentials whose source
// identity is their e-mail claim. `audit lookup` shows the SignIn naming
// the connector, the assertion and the AssumeRoleWithSAML.
func TestOIDCSignInInBrowser(t *testing.T) {
	t.Parallel()
	o := newOIDCServe(t)
	o.serve(t, func() {
		ctx := browsertest.New(t, chromedp.Flag("ignore-certificate-errors-spki-list", spki(t, o.client, o.provider.Issuer())))
		if err := chromedp.Do(ctx, chromedp.Navigate(o.base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin-okta"))); err != nil {
			t.Fatalf("the login page: %v", err)
		}
		if label, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#signin-okta"))); err != nil || strings.TrimSpace(label) != "Sign in with Okta" {
			t.Errorf("the button says %q (%v), want \"Sign in with Okta\"", label, err)
		}
		// One click: our server sends the browser to the provider, which
		// signs diego in at once and sends it back to the callback.
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#signin-okta")),
			chromedp.WaitVisible(chromedp.CSS(`button.app[value="builtin"]`)),
		)
		if err != nil {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("sign in at the provider and find the builtin app: %v; the page shows:\n%s", err, page)
		}
		if who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who"))); err != nil || strings.TrimSpace(who) != "Signed in as diego@okta" {
			t.Errorf("the portal's header says %q (%v), want \"Signed in as diego@okta\"", who, err)
		}

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button.app[value="builtin"]`)),
			chromedp.WaitVisible(chromedp.CSS("details summary")),
		)
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		if err != nil {
			t.Fatalf("open builtin: %v; the page shows:\n%s", err, page)
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != o.base+"/sts/saml" {
			t.Errorf("the session page is at %q, want %s/sts/saml", loc, o.base)
		}
		if who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who"))); strings.TrimSpace(who) != "Signed in as diego@okta" {
			t.Errorf("the session page's header says %q, want \"Signed in as diego@okta\"", who)
		}
		for _, want := range []string{"arn:aws:iam::123456789012:role/Developer", "arn:aws:sts::123456789012:assumed-role/Developer/E1234",
			"<dt>Source identity</dt><dd><code>" + oktaSourceIdentity + "</code></dd>"} {
			if !strings.Contains(html.UnescapeString(page), want) {
				t.Errorf("the session page lacks %q:\n%s", want, page)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details summary")), chromedp.WaitVisible(chromedp.CSS("details pre"))); err != nil {
			t.Fatalf("reveal the credentials: %v", err)
		}
		shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		key := regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(ASIA\S+)`).FindStringSubmatch(shown)
		sec := regexp.MustCompile(`export AWS_SECRET_ACCESS_KEY=(\S+)`).FindStringSubmatch(shown)
		tok := regexp.MustCompile(`export AWS_SESSION_TOKEN=(\S+)`).FindStringSubmatch(shown)
		if key == nil || sec == nil || tok == nil {
			t.Fatalf("revealed credentials:\n%s", shown)
		}
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(o.base + "/sts/"), RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key[1], SecretAccessKey: sec[1], SessionToken: tok[1]}, nil
			})})
		id, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity with the page's credentials: %v", err)
		}
		if got := aws.ToString(id.Arn); got != "arn:aws:sts::123456789012:assumed-role/Developer/E1234" {
			t.Errorf("caller = %q", got)
		}
	})

	out, stderr, code := o.c.run("", "audit", "lookup", "--source-identity", oktaSourceIdentity, "--config", o.path)
	si := regexp.QuoteMeta(oktaSourceIdentity)
	if code != 0 || !regexp.MustCompile(`(?m)AssumeRoleWithSAML\s+\S+\s+`+si+`\s+arn:aws:iam::123456789012:role/Developer\s+ok$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)IssueAssertion\s+\S*diego\S*\s+`+si+`\s`).MatchString(out) {
		t.Errorf("audit lookup --source-identity %s = %d:\n%s%s", oktaSourceIdentity, code, out, stderr)
	}
	out, stderr, code = o.c.run("", "audit", "lookup", "--principal", "okta:diego", "--config", o.path)
	if code != 0 || !regexp.MustCompile(`(?m)SignIn\s+okta:diego\s+-\s+-\s+ok$`).MatchString(out) {
		t.Errorf("audit lookup --principal okta:diego = %d:\n%s%s", code, out, stderr)
	}
	recs := signInsOf(t, o)
	if len(recs) != 1 || recs[0].ErrorCode != "" || recs[0].UserIdentity.UserName != "diego@okta" || recs[0].UserIdentity.Connector != "okta" {
		t.Errorf("SignIn records = %+v", recs)
	}
}

// signInsOf returns the SignIn records of the trail, newest first, from
// `audit lookup --event SignIn --json`.
func signInsOf(t *testing.T, o *oidcServe) []audit.Record {
	t.Helper()
	out, stderr, code := o.c.run("", "audit", "lookup", "--event", "SignIn", "--json", "--config", o.path)
	if code != 0 {
		t.Fatalf("audit lookup --event SignIn = %d: %s", code, stderr)
	}
	var page struct{ Events []audit.Record }
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("audit lookup --json: %v\n%s", err, out)
	}
	return page.Events
}

// oidcBrowser is a cookie-keeping HTTP client that follows no redirects:
// the test walks each hop itself.
type oidcBrowser struct {
	t      *testing.T
	client *http.Client
}

func (o *oidcServe) browser(t *testing.T) *oidcBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *o.client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &oidcBrowser{t: t, client: &c}
}

// get returns the status, body and Location of GET rawURL.
func (b *oidcBrowser) get(rawURL string) (int, string, string) {
	b.t.Helper()
	res, err := b.client.Get(rawURL)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body), res.Header.Get("Location")
}

// start clicks "Sign in with Okta" and returns the provider's
// authorization URL.
func (b *oidcBrowser) start(o *oidcServe) string {
	b.t.Helper()
	code, body, loc := b.get(o.base + "/login/oidc/okta")
	if code != http.StatusFound && code != http.StatusSeeOther {
		b.t.Fatalf("GET /login/oidc/okta = %d:\n%s", code, body)
	}
	return loc
}

// TestOIDCSignInRefusals: the real oidc connector at the test provider
// refuses an answer with the wrong state, an ID token with the wrong
// nonce, for another audience, expired, or signed by a key the provider
// does not publish; and shows the provider's own refusal
// (?error=access_denied). Each is a clear page, no session, and a failed
// SignIn record naming the connector.
func TestOIDCSignInRefusals(t *testing.T) {
	t.Parallel()
	o := newOIDCServe(t)
	p := o.provider
	cases := []struct {
		name string
		// tamper changes the provider's answers (run before the sign-in).
		tamper func()
		// callback changes the query the browser brings back.
		callback func(q url.Values)
		status   int
		code     string // the SignIn record's errorCode
		page     []string
	}{
		{name: "wrong state", callback: func(q url.Values) { q.Set("state", q.Get("state")+"x") },
			status: http.StatusBadRequest, code: "InvalidSignInState", page: []string{"not started in this browser", "start again"}},
		{name: "wrong nonce", tamper: func() { p.Tamper = func(c map[string]any) { c["nonce"] = "a-nonce-of-another-sign-in" } },
			status: http.StatusUnauthorized, code: "invalid_id_token", page: []string{"Okta refused the sign-in", "nonce does not match"}},
		{name: "wrong audience", tamper: func() { p.Tamper = func(c map[string]any) { c["aud"] = "another-client" } },
			status: http.StatusUnauthorized, code: "invalid_id_token", page: []string{"Okta refused the sign-in", "invalid_id_token", "audience"}},
		{name: "expired", tamper: func() { p.Now = time.Now().Add(-2 * time.Hour) },
			status: http.StatusUnauthorized, code: "invalid_id_token", page: []string{"Okta refused the sign-in", "invalid_id_token", "expired"}},
		{name: "unknown signing key", tamper: func() { p.SignKey = oidctest.OtherKey(t) },
			status: http.StatusUnauthorized, code: "invalid_id_token", page: []string{"Okta refused the sign-in", "invalid_id_token"}},
		{name: "provider refuses", tamper: func() {
			p.Deny = url.Values{"error": {"access_denied"}, "error_description": {"User is not assigned to the client application."}}
		}, status: http.StatusUnauthorized, code: "access_denied",
			page: []string{"Okta refused the sign-in", "access_denied", "User is not assigned to the client application."}},
	}
	o.serve(t, func() {
		for _, tc := range cases {
			// The provider's knobs are shared: one case at a time.
			p.Tamper, p.Now, p.SignKey, p.Deny = nil, time.Now(), nil, nil
			if tc.tamper != nil {
				tc.tamper()
			}
			b := o.browser(t)
			q := p.Browse(t, b.start(o))
			if tc.callback != nil {
				tc.callback(q)
			}
			code, body, _ := b.get(o.base + "/login/callback/okta?" + q.Encode())
			text := html.UnescapeString(body)
			if code != tc.status {
				t.Errorf("%s: callback = %d, want %d:\n%s", tc.name, code, tc.status, body)
			}
			for _, want := range tc.page {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the page lacks %q:\n%s", tc.name, want, body)
				}
			}
			if strings.Contains(text, "s3cr3t-client") {
				t.Errorf("%s: the page shows the client secret", tc.name)
			}
			if code, _, loc := b.get(o.base + "/"); code == http.StatusOK || !strings.HasPrefix(loc, "/login") {
				t.Errorf("%s: the portal after a refused sign-in = %d to %q, want a redirect to /login", tc.name, code, loc)
			}
		}
		// A good sign-in still works after all that.
		p.Tamper, p.Now, p.SignKey, p.Deny = nil, time.Now(), nil, nil
		b := o.browser(t)
		q := p.Browse(t, b.start(o))
		if code, body, loc := b.get(o.base + "/login/callback/okta?" + q.Encode()); code != http.StatusSeeOther || loc != "/" {
			t.Fatalf("a good callback = %d to %q:\n%s", code, loc, body)
		}
		if code, body, _ := b.get(o.base + "/"); code != http.StatusOK || !strings.Contains(body, "diego@okta") {
			t.Errorf("portal after a good sign-in = %d:\n%s", code, body)
		}
	})

	recs := signInsOf(t, o)
	if len(recs) != len(cases)+1 {
		t.Fatalf("%d SignIn records for %d refusals and one sign-in: %+v", len(recs), len(cases), recs)
	}
	// Newest first: the good sign-in, then the cases in reverse.
	if recs[0].ErrorCode != "" || recs[0].UserIdentity.UserName != "diego@okta" {
		t.Errorf("the good sign-in's record = %+v", recs[0])
	}
	for i, tc := range cases {
		r := recs[len(cases)-i]
		var params audit.SignInParams
		if err := json.Unmarshal(r.RequestParameters, &params); err != nil {
			t.Fatalf("%s: requestParameters %s: %v", tc.name, r.RequestParameters, err)
		}
		if r.ErrorCode != tc.code || params.Connector != "okta" || r.ErrorMessage == "" {
			t.Errorf("%s: SignIn record errorCode %q, connector %q, message %q; want %s, okta", tc.name, r.ErrorCode, params.Connector, r.ErrorMessage, tc.code)
		}
		if bytes.Contains(r.RequestParameters, []byte("s3cr3t")) || strings.Contains(r.ErrorMessage, "s3cr3t") {
			t.Errorf("%s: the record carries the client secret", tc.name)
		}
	}
}
