package web

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"idpbridge/attributes"
	"idpbridge/idp/signing"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres/pgtest"
	"idpbridge/idp/ui"
	"idpbridge/templates"
)

// These tests run the SAML IdP (idp/sso) on the same server as the login
// form and the portal, with this package's sessions and CSRF protection:
// the flows a browser goes through, end to end.

const (
	flowSPEntity = "https://sp.test/saml/metadata"
	flowSPACS    = "https://sp.test/saml/acs"
)

// fixedKeys is an sso.KeySource with one active key.
type fixedKeys struct{ set sso.KeySet }

func (k fixedKeys) SigningKeys(context.Context) (sso.KeySet, error) { return k.set, nil }

// samlIdP is a testIdP with the SAML IdP mounted beside it and on its portal.
type samlIdP struct {
	*testIdP
	sso    *sso.IdP
	events *fakeEvents // the SAML IdP's records
}

// newSAMLIdP serves the IdP over SQLite with the SAML IdP: service
// providers "app" (sp.test), "aws" (preset aws) and "builtin" (preset
// builtin, "Built-in STS"), all mapping AWS-<account>-<role> groups to
// roles (alice has one).
func newSAMLIdP(t *testing.T) *samlIdP {
	t.Helper()
	return newSAMLIdPOn(t, sqliteStore(t))
}

// newSAMLIdPOn is newSAMLIdP over s.
func newSAMLIdPOn(t *testing.T, s store.Store) *samlIdP {
	t.Helper()
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	key, err := signing.Generate(rand.Reader, "idp.test", ti.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	pages, err := ui.Load(templates.FS, sso.Pages...)
	if err != nil {
		t.Fatal(err)
	}
	si := &samlIdP{testIdP: ti, events: &fakeEvents{}}
	si.sso, err = sso.New(context.Background(), sso.Options{
		BaseURL: ti.url,
		ServiceProviders: []sso.ServiceProviderConfig{
			{Name: "app", Mapping: "m", EntityID: flowSPEntity, ACSURL: flowSPACS},
			{Name: "aws", Preset: sso.PresetAWS, Mapping: "m"},
			{Name: "builtin", Preset: sso.PresetBuiltin, Mapping: "m", DisplayName: "Built-in STS"},
		},
		Mappings: []attributes.MappingConfig{{
			Name:            "m",
			SourceIdentity:  &attributes.ValueRule{From: "username"},
			RoleSessionName: &attributes.ValueRule{From: "username"},
			Roles: []attributes.RoleRule{{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2",
				ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"}},
		}},
		Sessions: ti.IdP,
		Pages:    pages,
		Events:   si.events,
		Keys:     fixedKeys{sso.KeySet{Active: key}},
		Now:      ti.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	si.sso.Routes(ti.srv.Config.Handler.(*Server))
	ti.SetApps(si.sso)
	return si
}

func (si *samlIdP) issued() int {
	n := 0
	for _, r := range si.events.records() {
		if r.EventName == "IssueAssertion" {
			n++
		}
	}
	return n
}

// authnRequest is an AuthnRequest of sp.test issued now.
func (si *samlIdP) authnRequest(force, passive bool) []byte {
	si.t.Helper()
	req := saml.AuthnRequest{
		ID:                          "id-" + base64.RawURLEncoding.EncodeToString([]byte(si.clock.Now().String()))[:20],
		Version:                     "2.0",
		IssueInstant:                si.clock.Now(),
		Destination:                 si.url + sso.SSOPath,
		AssertionConsumerServiceURL: flowSPACS,
		ProtocolBinding:             saml.HTTPPostBinding,
		Issuer:                      &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: flowSPEntity},
	}
	if force {
		req.ForceAuthn = &force
	}
	if passive {
		req.IsPassive = &passive
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		si.t.Fatal(err)
	}
	return b
}

// send carries an AuthnRequest from sp.test to the IdP with binding, as a
// browser does, and returns the IdP's answer once the HTTP-POST binding's
// continuation as a GET is followed.
func (si *samlIdP) send(b *browser, binding string, req []byte, relay string) response {
	si.t.Helper()
	if binding == saml.HTTPRedirectBinding {
		var buf bytes.Buffer
		fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		fw.Write(req)
		fw.Close()
		q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}, "RelayState": {relay}}
		return b.get(sso.SSOPath + "?" + q.Encode())
	}
	origin := b.Origin
	b.Origin = "https://sp.test"
	res := b.post(sso.SSOPath, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(req)}, "RelayState": {relay}}, nil)
	b.Origin = origin
	loc := res.header.Get("Location")
	if res.code != http.StatusSeeOther || !strings.HasPrefix(loc, sso.SSOPath+"?") {
		si.t.Fatalf("POST binding: %d to %q, want 303 to %s", res.code, loc, sso.SSOPath)
	}
	return b.get(loc)
}

var (
	samlResponseRe = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	formActionRe   = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
)

// samlResponse reads the auto-submitting form of res: where it posts and
// the Response it carries.
func samlResponse(t *testing.T, res response) (string, *saml.Response) {
	t.Helper()
	m, a := samlResponseRe.FindStringSubmatch(res.body), formActionRe.FindStringSubmatch(res.body)
	if res.code != http.StatusOK || m == nil || a == nil {
		t.Fatalf("status %d, want a SAMLResponse form:\n%s", res.code, res.body)
	}
	raw, err := base64.StdEncoding.DecodeString(htmlUnescape(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	var r saml.Response
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response: %v\n%s", err, raw)
	}
	return htmlUnescape(a[1]), &r
}

// TestForceAuthnThroughLoginPage: alice signed in five minutes ago; the
// SP asks with ForceAuthn. The IdP shows the login page for alice (CSRF
// token, her name, the note) instead of answering from the session;
// coming back without the password gets the same, and so does a wrong
// password; after the password the assertion's AuthnInstant is the new
// sign-in's. On both stores, with a sign-in in the same millisecond as
// the request (the stores keep microseconds).
func TestForceAuthnThroughLoginPage(t *testing.T) {
	t.Parallel()
	stores := map[string]func(*testing.T) store.Store{
		"sqlite":   sqliteStore,
		"postgres": func(t *testing.T) store.Store { return postgresStore(t, pgtest.Schema(t)) },
	}
	for storeName, open := range stores {
		for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
			t.Run(storeName+"/"+binding[strings.LastIndexByte(binding, ':')+1:], func(t *testing.T) {
				t.Parallel()
				testForceAuthnThroughLoginPage(t, newSAMLIdPOn(t, open(t)), binding)
			})
		}
	}
}

func testForceAuthnThroughLoginPage(t *testing.T, si *samlIdP, binding string) {
	b := si.browser()
	firstAuthn := si.clock.Now()
	if res := b.login("alice", alicePassword, ""); res.code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.code)
	}
	si.clock.Add(5*time.Minute + 123456789*time.Nanosecond)

	res := si.send(b, binding, si.authnRequest(true, false), "rs-1")
	loc := res.header.Get("Location")
	if res.code != http.StatusFound || !strings.HasPrefix(loc, "/login?reauth=1&next=") {
		t.Fatalf("status %d to %q, want the login page again:\n%s", res.code, loc, res.body)
	}
	if si.issued() != 0 {
		t.Fatal("an assertion was issued from the old session")
	}
	page := b.get(loc)
	for _, want := range []string{`name="csrf_token"`, `id="reauth-note"`, `name="username" value="alice"`, ` readonly`, `name="next"`, `name="reauth" value="1"`} {
		if page.code != http.StatusOK || !strings.Contains(page.body, want) {
			t.Fatalf("the login page (%d) lacks %s:\n%s", page.code, want, page.body)
		}
	}
	next := htmlUnescape(regexpNext.FindStringSubmatch(page.body)[1])
	if back := b.get(next); back.code != http.StatusFound || !strings.HasPrefix(back.header.Get("Location"), "/login?reauth=1&") {
		t.Fatalf("back without the password: %d to %q", back.code, back.header.Get("Location"))
	}

	tok := csrfRe.FindStringSubmatch(page.body)[1]
	// A wrong password: the same page again, still for alice.
	res = b.post("/login", url.Values{"csrf_token": {tok}, "username": {"alice"}, "password": {"wrong"}, "next": {next}, "reauth": {"1"}}, nil)
	for _, want := range []string{`id="reauth-note"`, `name="username" value="alice"`, ` readonly`, `name="reauth" value="1"`} {
		if res.code != http.StatusUnauthorized || !strings.Contains(res.body, want) {
			t.Fatalf("wrong password (%d): the page lacks %s:\n%s", res.code, want, res.body)
		}
	}

	secondAuthn := si.clock.Now().Truncate(time.Microsecond)
	tok = csrfRe.FindStringSubmatch(res.body)[1]
	res = b.post("/login", url.Values{"csrf_token": {tok}, "username": {"alice"}, "password": {alicePassword}, "next": {next}, "reauth": {"1"}}, nil)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != next {
		t.Fatalf("POST /login: %d to %q, want %q", res.code, res.header.Get("Location"), next)
	}
	action, resp := samlResponse(t, b.get(next))
	if action != flowSPACS || resp.Status.StatusCode.Value != saml.StatusSuccess || resp.Assertion == nil {
		t.Fatalf("response to %q, status %s", action, resp.Status.StatusCode.Value)
	}
	got := resp.Assertion.AuthnStatements[0].AuthnInstant
	if got.Sub(secondAuthn).Abs() >= time.Millisecond || !got.After(firstAuthn) {
		t.Fatalf("AuthnInstant %s, want the second sign-in's %s (the first was %s)", got, secondAuthn, firstAuthn)
	}
	if si.issued() != 1 {
		t.Fatalf("%d IssueAssertion records, want 1", si.issued())
	}
}

// TestIsPassiveWithoutSession: a passive request without a session gets
// the NoPassive Response at the SP's ACS, never the login page.
func TestIsPassiveWithoutSession(t *testing.T) {
	t.Parallel()
	si := newSAMLIdP(t)
	for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		res := si.send(si.browser(), binding, si.authnRequest(false, true), "rs-2")
		if strings.Contains(res.body, `name="password"`) {
			t.Fatalf("%s: a passive request was shown the login page", binding)
		}
		action, resp := samlResponse(t, res)
		sc := resp.Status.StatusCode
		if action != flowSPACS || sc.Value != saml.StatusResponder || sc.StatusCode == nil || sc.StatusCode.Value != saml.StatusNoPassive || resp.Assertion != nil {
			t.Fatalf("%s: response to %q with status %+v, want %s/%s", binding, action, sc, saml.StatusResponder, saml.StatusNoPassive)
		}
	}
}

// TestCredentialAppOpensWithPost: the portal opens builtin with a form
// that POSTs the CSRF token and aws with a link. A GET of builtin (a link
// on another site, an old bookmark) shows the confirm page and issues
// nothing; POSTs without the token or from another origin are refused;
// the portal's POST issues; aws still issues on a GET.
func TestCredentialAppOpensWithPost(t *testing.T) {
	t.Parallel()
	si := newSAMLIdP(t)
	b := si.browser()
	if res := b.login("alice", alicePassword, ""); res.code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.code)
	}
	portal := b.get("/")
	for _, want := range []string{
		`<form method="post" action="/saml/idp-initiated" class="open-app"><input type="hidden" name="csrf_token" value="`,
		`<button class="app" type="submit" name="sp" value="builtin">Built-in STS</button>`,
		`<a class="app" href="/saml/idp-initiated?sp=aws">`,
	} {
		if !strings.Contains(portal.body, want) {
			t.Fatalf("the portal lacks %s:\n%s", want, portal.body)
		}
	}
	if strings.Contains(portal.body, `href="/saml/idp-initiated?sp=builtin"`) {
		t.Fatal("the portal links to builtin")
	}
	tok := csrfRe.FindStringSubmatch(portal.body)[1]

	get := b.get(sso.IdPInitiatedPath + "?sp=builtin")
	for _, want := range []string{"Open Built-in STS?", "This will issue AWS credentials", `action="/saml/idp-initiated"`, `name="csrf_token" value="` + tok + `"`, `name="sp" value="builtin"`} {
		if get.code != http.StatusOK || !strings.Contains(get.body, want) {
			t.Fatalf("GET builtin (%d) lacks %s:\n%s", get.code, want, get.body)
		}
	}
	if strings.Contains(get.body, "SAMLResponse") || si.issued() != 0 {
		t.Fatalf("GET builtin issued: %d records", si.issued())
	}

	for name, tc := range map[string]struct {
		form   url.Values
		origin string
	}{
		"no token":      {url.Values{"sp": {"builtin"}}, si.url},
		"wrong token":   {url.Values{"sp": {"builtin"}, "csrf_token": {"AAAA"}}, si.url},
		"foreign site":  {url.Values{"sp": {"builtin"}, "csrf_token": {tok}}, "https://evil.test"},
		"no origin":     {url.Values{"sp": {"builtin"}, "csrf_token": {tok}}, "-"},
		"origin null":   {url.Values{"sp": {"builtin"}, "csrf_token": {tok}}, "null"},
		"another's tok": {url.Values{"sp": {"builtin"}, "csrf_token": {si.browser().csrf("/login")}}, si.url},
	} {
		b.Origin = tc.origin
		res := b.post(sso.IdPInitiatedPath, tc.form, nil)
		if res.code != http.StatusForbidden || strings.Contains(res.body, "SAMLResponse") {
			t.Errorf("%s: status %d, want 403 and no response", name, res.code)
		}
	}
	b.Origin = si.url
	if si.issued() != 0 {
		t.Fatalf("refused POSTs issued %d assertions", si.issued())
	}

	action, resp := samlResponse(t, b.post(sso.IdPInitiatedPath, url.Values{"sp": {"builtin"}, "csrf_token": {tok}}, nil))
	if action != si.url+sso.BuiltinPath || resp.Assertion == nil || si.issued() != 1 {
		t.Fatalf("the portal's POST: response to %q, %d records", action, si.issued())
	}

	action, resp = samlResponse(t, b.get(sso.IdPInitiatedPath+"?sp=aws"))
	if action != sso.AWSACSURL || resp.Assertion == nil || si.issued() != 2 {
		t.Fatalf("GET aws: response to %q, %d records", action, si.issued())
	}
}
