package sso

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
	"idpbridge/templates"
)

// testNow is the fixed clock of these tests.
var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testBase     = "https://idp.test"
	testEntityID = testBase + "/saml/metadata"
	spEntityID   = "https://sp.test/saml/metadata"
	spACS        = "https://sp.test/saml/acs"
	spSLO        = "https://sp.test/saml/slo"
	spMetaPath   = "/etc/idpbridge/sp.xml"
	csrfOK       = "csrf-ok"
	cookieName   = "test_sid"
)

// fixedKey loads testdata/<name>.{key,cert}.pem.
func fixedKey(t testing.TB, name string) *signing.Key {
	t.Helper()
	certPEM, err := os.ReadFile("testdata/" + name + ".cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	k, err := signing.Open(store.SigningKey{ID: name, State: store.KeyActive, CertPEM: certPEM, KeyFile: "testdata/" + name + ".key.pem"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// staticKeys is a KeySource with a fixed set.
type staticKeys struct {
	set KeySet
	err error
}

func (s staticKeys) SigningKeys(context.Context) (KeySet, error) { return s.set, s.err }

// fakeSessions is a Sessions over an in-memory map keyed by the value of
// the cookie test_sid. Its CSRF token is always csrfOK.
type fakeSessions struct {
	mu       sync.Mutex
	sessions map[string]idp.Session
	ended    []string
	err      error // returned by Current when set
}

func newFakeSessions() *fakeSessions { return &fakeSessions{sessions: map[string]idp.Session{}} }

// signIn creates a session for id and returns its cookie.
func (f *fakeSessions) signIn(id idp.Identity) *http.Cookie {
	f.mu.Lock()
	defer f.mu.Unlock()
	sid := "sid-" + id.Username
	f.sessions[sid] = idp.Session{ID: "session-" + id.Username, Identity: id, AuthnInstant: testNow.Add(-10 * time.Minute), ExpiresAt: testNow.Add(8 * time.Hour)}
	return &http.Cookie{Name: cookieName, Value: sid}
}

func (f *fakeSessions) Current(r *http.Request) (idp.Session, bool, error) {
	if f.err != nil {
		return idp.Session{}, false, f.err
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return idp.Session{}, false, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[c.Value]
	return s, ok, nil
}

func (f *fakeSessions) LoginURL(next string) string { return "/login?next=" + url.QueryEscape(next) }

func (f *fakeSessions) End(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", MaxAge: -1})
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[c.Value]; ok {
		delete(f.sessions, c.Value)
		f.ended = append(f.ended, c.Value)
	}
	return nil
}

func (f *fakeSessions) CSRFToken(http.ResponseWriter, *http.Request) string { return csrfOK }

func (f *fakeSessions) CheckCSRF(r *http.Request) error {
	if r.PostFormValue("csrf_token") != csrfOK {
		return errors.New("csrf token mismatch")
	}
	return nil
}

// fakeEvents records what is logged; LogFunc, when set, decides the error.
type fakeEvents struct {
	mu      sync.Mutex
	recs    []audit.Record
	LogFunc func(recs ...audit.Record) error
}

func (f *fakeEvents) Log(_ context.Context, recs ...audit.Record) error {
	if f.LogFunc != nil {
		if err := f.LogFunc(recs...); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = append(f.recs, recs...)
	return nil
}

func (f *fakeEvents) records() []audit.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Record(nil), f.recs...)
}

// alice has two AWS roles (by group), a department and an email.
var alice = idp.Identity{
	Username:    "alice",
	Email:       "alice@example.com",
	DisplayName: "Alice Liddell",
	Groups:      []string{"AWS-123456789012-Admin", "AWS-111122223333-Dev", "staff"},
	Attributes:  map[string][]string{"department": {"Engineering"}},
	Connector:   "local",
}

// testMappings: "aws-map" maps groups to roles; "one-role" gives one static
// role; "strict" requires an employeeID nobody has.
func testMappings() []attributes.MappingConfig {
	return []attributes.MappingConfig{
		{
			Name:            "aws-map",
			SourceIdentity:  &attributes.ValueRule{From: "username", Required: true},
			RoleSessionName: &attributes.ValueRule{From: "email"},
			SessionDuration: 7200,
			Roles: []attributes.RoleRule{{
				Group:       `AWS-(\d{12})-(.+)`,
				RoleARN:     "arn:aws:iam::$1:role/$2",
				ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge",
			}},
			PrincipalTags:     map[string]attributes.ValueRule{"Department": {From: "department"}},
			TransitiveTagKeys: []string{"Department"},
		},
		{
			Name:            "one-role",
			SourceIdentity:  &attributes.ValueRule{From: "username"},
			RoleSessionName: &attributes.ValueRule{From: "username"},
			Roles: []attributes.RoleRule{{
				RoleARN:     "arn:aws:iam::123456789012:role/ReadOnly",
				ProviderARN: "arn:aws:iam::123456789012:saml-provider/idpbridge",
			}},
		},
		{
			Name:            "strict",
			SourceIdentity:  &attributes.ValueRule{From: "employeeID", Required: true},
			RoleSessionName: &attributes.ValueRule{From: "displayName"},
			Roles: []attributes.RoleRule{{
				RoleARN:     "arn:aws:iam::123456789012:role/ReadOnly",
				ProviderARN: "arn:aws:iam::123456789012:saml-provider/idpbridge",
			}},
		},
	}
}

// testSP is a crewjam ServiceProvider standing for a real SP: it makes
// requests and verifies what the IdP sends.
type testSP struct {
	*saml.ServiceProvider
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	spKeyOnce sync.Once
	spKey     *rsa.PrivateKey
	spCert    *x509.Certificate
)

func spKeyPair(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	spKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "sp.test"},
			NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
			KeyUsage: x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			panic(err)
		}
		spKey = k
		spCert, _ = x509.ParseCertificate(der)
	})
	return spKey, spCert
}

func newTestSP(t testing.TB) *testSP {
	k, c := spKeyPair(t)
	mustURL := func(s string) url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return *u
	}
	sp := &saml.ServiceProvider{
		EntityID:          spEntityID,
		Key:               k,
		Certificate:       c,
		MetadataURL:       mustURL(spEntityID),
		AcsURL:            mustURL(spACS),
		SloURL:            mustURL(spSLO),
		AllowIDPInitiated: true,
		Clock:             dsig.NewFakeClockAt(testNow),
		SignatureMethod:   dsig.RSASHA256SignatureMethod,
		LogoutBindings:    []string{saml.HTTPRedirectBinding},
	}
	return &testSP{ServiceProvider: sp, key: k, cert: c}
}

// metadataXML is the SP's metadata, without an encryption key (so that
// assertions to it stay readable in tests).
func (sp *testSP) metadataXML(t testing.TB) []byte {
	md := sp.Metadata()
	for i := range md.SPSSODescriptors {
		d := &md.SPSSODescriptors[i]
		kept := d.KeyDescriptors[:0]
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "encryption" {
				kept = append(kept, kd)
			}
		}
		d.KeyDescriptors = kept
	}
	b, err := xml.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testEnv is an IdP with fake sessions and events on a mux.
type testEnv struct {
	t        testing.TB
	idp      *IdP
	mux      *http.ServeMux
	sessions *fakeSessions
	events   *fakeEvents
	sp       *testSP
	keys     KeySet
	files    map[string][]byte
	logs     *syncBuffer
}

// syncBuffer is a log destination tests can read.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// newTestEnv builds the IdP with service providers "aws" (preset aws,
// mapping aws-map), "app" (the test SP's metadata file, aws-map), "sts"
// (preset builtin, aws-map: single role), "one" (entity_id + acs_url,
// one-role) and "strict" (preset aws with another ACS, strict). edit may
// change the options.
func newTestEnv(t testing.TB, edit func(*Options)) *testEnv {
	t.Helper()
	env := &testEnv{
		t:        t,
		sessions: newFakeSessions(),
		events:   &fakeEvents{},
		sp:       newTestSP(t),
		keys:     KeySet{Active: fixedKey(t, "idp-active"), Next: []*x509.Certificate{fixedKey(t, "idp-next").Certificate}},
		files:    map[string][]byte{},
		logs:     &syncBuffer{},
	}
	env.files[spMetaPath] = env.sp.metadataXML(t)
	pages, err := ui.Load(templates.FS, Pages...)
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{
		BaseURL: testBase,
		ServiceProviders: []ServiceProviderConfig{
			{Name: "aws", Preset: PresetAWS, Mapping: "aws-map"},
			{Name: "app", DisplayName: "Test app", Mapping: "aws-map", MetadataFile: spMetaPath},
			{Name: "sts", Preset: PresetBuiltin, Mapping: "aws-map"},
			{Name: "one", Mapping: "one-role", EntityID: "https://one.test", ACSURL: "https://one.test/acs"},
			{Name: "strict", Mapping: "strict", EntityID: "https://strict.test", ACSURL: "https://strict.test/acs"},
		},
		Mappings: testMappings(),
		Sessions: env.sessions,
		Pages:    pages,
		Events:   env.events,
		Keys:     staticKeys{set: env.keys},
		ReadFile: func(name string) ([]byte, error) {
			if b, ok := env.files[name]; ok {
				return b, nil
			}
			return nil, os.ErrNotExist
		},
		Now:    func() time.Time { return testNow },
		Rand:   rand.Reader,
		Logger: slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&opt)
	}
	p, err := New(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	env.idp = p
	env.mux = http.NewServeMux()
	p.Routes(env.mux)
	// Parse the IdP metadata into the test SP.
	if md, err := p.Metadata(context.Background()); err == nil {
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(md, &ed); err != nil {
			t.Fatal(err)
		}
		env.sp.IDPMetadata = &ed
	}
	return env
}

// do sends one request through the IdP's routes, with cookie when set.
func (env *testEnv) do(method, target string, form url.Values, cookie *http.Cookie) *httptest.ResponseRecorder {
	env.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = "192.0.2.10:5555"
	r.Header.Set("User-Agent", "sso-test")
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != nil {
		r.AddCookie(cookie)
	}
	w := httptest.NewRecorder()
	env.mux.ServeHTTP(w, r)
	return w
}

var (
	formActionRe = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenRe     = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// postForm reads the auto-submitting form of a saml_post page.
type postForm struct {
	Action       string
	SAMLResponse []byte // decoded
	RelayState   string
}

func parsePostForm(t testing.TB, body string) postForm {
	t.Helper()
	m := formActionRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form in page:\n%s", body)
	}
	f := postForm{Action: html.UnescapeString(m[1])}
	for _, h := range hiddenRe.FindAllStringSubmatch(body, -1) {
		v := html.UnescapeString(h[2])
		switch h[1] {
		case "SAMLResponse":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatalf("SAMLResponse: %v", err)
			}
			f.SAMLResponse = b
		case "RelayState":
			f.RelayState = v
		}
	}
	if f.SAMLResponse == nil {
		t.Fatalf("no SAMLResponse in page:\n%s", body)
	}
	return f
}

// assertionAttributes returns the attributes of a parsed assertion, name to
// values, in document order.
func assertionAttributes(a *saml.Assertion) []attributes.Attribute {
	var out []attributes.Attribute
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			vs := make([]string, len(at.Values))
			for i, v := range at.Values {
				vs[i] = v.Value
			}
			out = append(out, attributes.Attribute{Name: at.Name, Values: vs})
		}
	}
	return out
}

// aliceAWSAttributes is what aws-map makes of alice, in assertion order.
func aliceAWSAttributes() []attributes.Attribute {
	return []attributes.Attribute{
		{Name: idp.AttrRole, Values: []string{
			"arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/idpbridge",
			"arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/idpbridge",
		}},
		{Name: idp.AttrRoleSessionName, Values: []string{"alice@example.com"}},
		{Name: idp.AttrSessionDuration, Values: []string{"7200"}},
		{Name: idp.AttrSourceIdentity, Values: []string{"alice"}},
		{Name: idp.AttrPrincipalTagPrefix + "Department", Values: []string{"Engineering"}},
		{Name: idp.AttrTransitiveTagKeys, Values: []string{"Department"}},
	}
}

// certPEM encodes a certificate.
func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// noAssertion fails when a page carries a SAML response.
func noAssertion(t testing.TB, body string) {
	t.Helper()
	if strings.Contains(body, "SAMLResponse") || bytes.Contains([]byte(body), []byte("Assertion")) {
		t.Fatalf("page carries a SAML response:\n%s", body)
	}
}

func mustCert(t testing.TB, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// idpIdentity is a local person with only a username.
func idpIdentity(username string) idp.Identity {
	return idp.Identity{Username: username, Connector: "local"}
}
