package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"idpbridge/attributes"
	"idpbridge/idp"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"gopkg.in/yaml.v3"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/sts"
	"idpbridge/idp/sts/samlverify"
	"idpbridge/idp/ui"
	"idpbridge/templates"
)

// Fixed inputs of the sign-in tests.
const (
	signinBase     = "https://idp.example.com"
	signinEntityID = signinBase + "/saml/metadata"
	signinACS      = signinBase + STSSignInPath
	signinProvider = "arn:aws:iam::111111111111:saml-provider/idpbridge"
	signinDevRole  = "arn:aws:iam::111111111111:role/Developer"
	signinOpsRole  = "arn:aws:iam::111111111111:role/ops/Operator"
	signinNoTrust  = "arn:aws:iam::111111111111:role/NoTrust"
	signinOther    = "arn:aws:iam::111111111111:role/NotInTheAssertion"
)

var signinNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// signinSTSConfig: idpbridge's own SAML provider (metadata: self) in
// account 111111111111, two roles it may assume with a source identity,
// and one whose trust policy names someone else.
const signinSTSConfig = `
accounts:
  - id: "111111111111"
    saml_providers:
      - {name: idpbridge, metadata: self}
    roles:
      - name: Developer
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::111111111111:saml-provider/idpbridge"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
      - name: Operator
        path: /ops/
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::111111111111:saml-provider/idpbridge"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
      - name: NoTrust
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::111111111111:root"}, Action: sts:AssumeRole}
`

// signinKey is the IdP's signing key, made once per test binary.
var signinKey = sync.OnceValues(func() (*rsa.PrivateKey, *x509.Certificate) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idpbridge test IdP"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return priv, cert
})

// memTrail keeps the STS's audit records.
type memTrail struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (m *memTrail) Append(_ context.Context, _ store.Tx, recs ...audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memTrail) all() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Record(nil), m.recs...)
}

// countingSTS counts the calls that reach the STS.
type countingSTS struct {
	next  SAMLRoleAssumer
	calls atomic.Int32
}

func (c *countingSTS) AssumeRoleWithSAML(ctx context.Context, in sts.SAMLRequest) (*sts.SAMLSession, error) {
	c.calls.Add(1)
	return c.next.AssumeRoleWithSAML(ctx, in)
}

// syncBuffer is a log sink safe for concurrent writes.
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

// signinEnv is the sign-in endpoint over a real STS on SQLite.
type signinEnv struct {
	h     *STSSignIn
	sts   *countingSTS
	trail *memTrail
	logs  *syncBuffer
}

func newSigninEnv(t *testing.T) *signinEnv {
	t.Helper()
	return newSigninEnvWith(t, signinSTSConfig)
}

// newSigninEnvWith is newSigninEnv with stsConfig as the sts section.
func newSigninEnvWith(t *testing.T, stsConfig string) *signinEnv {
	t.Helper()
	_, cert := signinKey()
	var cfg sts.Config
	dec := yaml.NewDecoder(strings.NewReader(stsConfig))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: signinNow}
	dir, err := sts.Build(&cfg, sts.BuildOptions{BaseURL: signinBase, Now: clk.Now,
		SelfCerts: func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{cert}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	e := &signinEnv{trail: &memTrail{}, logs: &syncBuffer{}}
	log := testLogger(e.logs)
	svc, err := sts.New(sts.Options{Directory: dir, Store: sqliteStore(t), Trail: e.trail, KeyEncryptionKey: testSecret,
		Now: clk.Now, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.sts = &countingSTS{next: svc}
	pages, err := ui.Load(templates.FS, "error", "sts_roles", "sts_session")
	if err != nil {
		t.Fatal(err)
	}
	e.h, err = NewSTSSignIn(STSSignInOptions{STS: e.sts, Pages: pages, Secret: testSecret, BaseURL: signinBase + "/",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Logger: log, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// post sends form to the endpoint from 192.0.2.10.
func (e *signinEnv) post(form url.Values) *httptest.ResponseRecorder {
	return e.postRaw(form.Encode(), "application/x-www-form-urlencoded", nil)
}

func (e *signinEnv) postRaw(body, contentType string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, STSSignInPath, strings.NewReader(body))
	r.RemoteAddr = "192.0.2.10:40000"
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("User-Agent", "signin-test/1.0")
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// assertionSpec describes a SAML Response for signinResponse.
type signinSpec struct {
	ID             string
	NameID         string
	Roles          []string
	SessionName    string
	SourceIdentity string // none when empty
}

var signinTmpl = template.Must(template.New("r").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") },
	"x": func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	},
}).Parse(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r{{.ID}}" Version="2.0" IssueInstant="{{t .Issued}}" Destination="{{.ACS}}">
<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{{.Issuer}}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{{.ID}}" Version="2.0" IssueInstant="{{t .Issued}}">
<saml:Issuer>{{.Issuer}}</saml:Issuer>
<saml:Subject>
<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{{x .S.NameID}}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{{t .Until}}" Recipient="{{.ACS}}"/></saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{{t .Issued}}" NotOnOrAfter="{{t .Until}}"><saml:AudienceRestriction><saml:Audience>{{.ACS}}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{{t .Issued}}" SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>{{range .Attrs}}<saml:Attribute Name="{{x .Name}}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{{range .Values}}<saml:AttributeValue xsi:type="xs:string">{{x .}}</saml:AttributeValue>{{end}}</saml:Attribute>{{end}}</saml:AttributeStatement>
</saml:Assertion>
</samlp:Response>`))

var signinSerial atomic.Int64

// signinResponse returns a SAML Response of idpbridge's IdP for the
// sign-in endpoint, its Assertion signed (RSA-SHA256, exclusive c14n),
// base64-encoded.
func signinResponse(t *testing.T, s signinSpec) string {
	t.Helper()
	if s.ID == "" {
		s.ID = fmt.Sprintf("_a%08d", signinSerial.Add(1))
	}
	if s.NameID == "" {
		s.NameID = "saanvi"
	}
	if s.SessionName == "" {
		s.SessionName = "saanvi"
	}
	attrs := []attributes.Attribute{{Name: idp.AttrRoleSessionName, Values: []string{s.SessionName}}}
	if len(s.Roles) > 0 {
		attrs = append(attrs, attributes.Attribute{Name: idp.AttrRole, Values: s.Roles})
	}
	if s.SourceIdentity != "" {
		attrs = append(attrs, attributes.Attribute{Name: idp.AttrSourceIdentity, Values: []string{s.SourceIdentity}})
	}
	var buf bytes.Buffer
	err := signinTmpl.Execute(&buf, map[string]any{"ID": s.ID, "S": s, "Attrs": attrs, "Issuer": signinEntityID,
		"ACS": signinACS, "Issued": signinNow.Add(-10 * time.Second), "Until": signinNow.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	assertion := doc.Root().SelectElement("Assertion")
	key, cert := signinKey()
	ctx, err := dsig.NewSigningContext(key, [][]byte{cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	sig, err := ctx.ConstructSignature(assertion, true)
	if err != nil {
		t.Fatal(err)
	}
	assertion.InsertChildAt(assertion.SelectElement("Issuer").Index()+1, sig)
	out, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString([]byte(out))
}

func pair(role string) string { return role + "," + signinProvider }

// page is the text of a response body as a person reads it.
func page(w *httptest.ResponseRecorder) string { return htmlUnescape(w.Body.String()) }

var (
	reHidden = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	reRadio  = regexp.MustCompile(`<input type="radio" name="role" value="([^"]*)"`)
	reExport = regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(\S+)\nexport AWS_SECRET_ACCESS_KEY=(\S+)\nexport AWS_SESSION_TOKEN=(\S+)`)
)

// chooserForm reads the hidden fields and role values of a chooser page.
func chooserForm(t *testing.T, w *httptest.ResponseRecorder) (url.Values, []string) {
	t.Helper()
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Choose a role") {
		t.Fatalf("want the chooser, got %d:\n%s", w.Code, w.Body.String())
	}
	form := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(w.Body.String(), -1) {
		form.Set(htmlUnescape(m[1]), htmlUnescape(m[2]))
	}
	var roles []string
	for _, m := range reRadio.FindAllStringSubmatch(w.Body.String(), -1) {
		roles = append(roles, htmlUnescape(m[1]))
	}
	return form, roles
}

// sessionCreds checks a session page and returns its secret access key
// and session token, read inside <details>.
func sessionCreds(t *testing.T, w *httptest.ResponseRecorder) (secret, token string) {
	t.Helper()
	body := page(w)
	if w.Code != http.StatusOK {
		t.Fatalf("want the session page, got %d:\n%s", w.Code, body)
	}
	start, end := strings.Index(body, "<details>"), strings.Index(body, "</details>")
	if start < 0 || end < start || !strings.Contains(body[start:end], "<summary>Show credentials</summary>") {
		t.Fatalf("no <details> with Show credentials:\n%s", body)
	}
	inside := body[start:end]
	m := reExport.FindStringSubmatch(inside)
	if m == nil {
		t.Fatalf("no export lines inside <details>:\n%s", inside)
	}
	wantProfile := "[idpbridge]\naws_access_key_id = " + m[1] + "\naws_secret_access_key = " + m[2] + "\naws_session_token = " + m[3]
	if !strings.Contains(inside, wantProfile) {
		t.Fatalf("no ~/.aws/credentials block inside <details>:\n%s", inside)
	}
	if strings.Contains(body[:start], m[2]) || strings.Contains(body[end:], m[2]) {
		t.Fatal("the secret access key appears outside <details>")
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	return m[2], m[3]
}

// TestSTSSignInOneRole: an assertion with one role gets credentials at
// once: the page shows the role, the assumed role, the source identity,
// the session name, the expiry and the request ID, and the credentials
// inside <details>; the STS's audit record has the client address behind
// the trusted proxy; no credential reaches the log.
func TestSTSSignInOneRole(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	resp := signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}, SourceIdentity: "Saanvi"})
	w := e.postRaw(url.Values{"SAMLResponse": {resp}, "RelayState": {"ignored"}}.Encode(), "application/x-www-form-urlencoded",
		map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", w.Code, page(w))
	}
	// The peer is not a trusted proxy: its X-Forwarded-For is not believed.
	recs := e.trail.all()
	if len(recs) != 1 || recs[0].EventName != "AssumeRoleWithSAML" || recs[0].SourceIPAddress != "192.0.2.10" ||
		recs[0].UserAgent != "signin-test/1.0" || recs[0].ErrorCode != "" {
		t.Fatalf("audit records: %+v", recs)
	}
	secret, token := sessionCreds(t, w)
	body := page(w)
	for _, want := range []string{
		"<code>" + signinDevRole + "</code>",
		"<code>arn:aws:sts::111111111111:assumed-role/Developer/saanvi</code>",
		"<dt>Source identity</dt><dd><code>Saanvi</code></dd>",
		"<dt>Session name</dt><dd><code>saanvi</code></dd>",
		`<time datetime="2026-03-01T13:00:00Z">2026-03-01T13:00:00Z</time> (in 1 hour)`,
		"aws sts get-caller-identity --endpoint-url https://idp.example.com/sts/",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("session page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<dt>Request ID</dt><dd><code>[0-9a-f-]{36}</code></dd>`).MatchString(body) {
		t.Error("session page lacks the request ID")
	}
	if e.sts.calls.Load() != 1 {
		t.Fatalf("%d STS calls", e.sts.calls.Load())
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "sts sign-in: credentials issued") {
		t.Fatalf("no log line of the sign-in:\n%s", logs)
	}
	for name, s := range map[string]string{"secret access key": secret, "session token": token, "SAMLResponse": resp} {
		if strings.Contains(logs, s) {
			t.Errorf("the %s appears in the log:\n%s", name, logs)
		}
	}

	// Behind a trusted proxy the client is the forwarded address.
	resp = signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}})
	r := httptest.NewRequest(http.MethodPost, STSSignInPath, strings.NewReader(url.Values{"SAMLResponse": {resp}}.Encode()))
	r.RemoteAddr = "10.0.0.5:443"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	w = httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	sessionCreds(t, w)
	if !strings.Contains(page(w), "<dt>Source identity</dt><dd>none</dd>") {
		t.Error(`a session without source identity does not say "none"`)
	}
	if recs := e.trail.all(); len(recs) != 2 || recs[1].SourceIPAddress != "203.0.113.7" {
		t.Fatalf("audit record behind the proxy: %+v", recs[len(recs)-1])
	}
}

// TestSTSSignInChooser: several roles show the chooser without calling the
// STS; its form posts back the same response with the chosen role, and
// that role is assumed, the assertion verified once.
func TestSTSSignInChooser(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	resp := signinResponse(t, signinSpec{
		// Either order, and a duplicate listed once.
		Roles:          []string{pair(signinDevRole), signinProvider + "," + signinOpsRole, pair(signinDevRole)},
		SourceIdentity: "Diego",
		SessionName:    "diego",
	})
	w := e.post(url.Values{"SAMLResponse": {resp}})
	form, roles := chooserForm(t, w)
	if e.sts.calls.Load() != 0 {
		t.Fatal("the chooser called the STS")
	}
	if want := []string{pair(signinDevRole), pair(signinOpsRole)}; strings.Join(roles, " ") != strings.Join(want, " ") {
		t.Fatalf("chooser roles %q, want %q", roles, want)
	}
	if form.Get("SAMLResponse") != resp || form.Get("choice_token") == "" {
		t.Fatalf("chooser hidden fields: %v", form)
	}
	body := page(w)
	for _, want := range []string{`action="https://idp.example.com/sts/saml"`, "Operator <span class=\"muted\">account 111111111111</span>"} {
		if !strings.Contains(body, want) {
			t.Errorf("chooser lacks %q:\n%s", want, body)
		}
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Error("the chooser page may be cached")
	}

	form.Set("role", roles[1])
	w = e.post(form)
	sessionCreds(t, w)
	body = page(w)
	for _, want := range []string{"<code>" + signinOpsRole + "</code>", "assumed-role/Operator/diego", "<code>Diego</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("session page lacks %q", want)
		}
	}
	if e.sts.calls.Load() != 1 {
		t.Fatalf("%d STS calls, want 1", e.sts.calls.Load())
	}
}

// TestSTSSignInChoiceRefused: a chooser post whose token does not match
// its response, or whose role the response does not name, is refused
// before the STS is called, so the assertion stays usable.
func TestSTSSignInChoiceRefused(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	resp := signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole), pair(signinOpsRole)}, SourceIdentity: "Saanvi"})
	form, _ := chooserForm(t, e.post(url.Values{"SAMLResponse": {resp}}))
	good := form.Get("choice_token")
	other, _ := chooserForm(t, e.post(url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole), pair(signinOpsRole)}})}}))
	flipped := []byte(good)
	flipped[3] ^= 1
	for _, tc := range []struct {
		name        string
		token, role string
		status      int
		want        string
	}{
		{"tampered token", string(flipped), pair(signinDevRole), http.StatusForbidden, "did not come from idpbridge"},
		{"token of another response", other.Get("choice_token"), pair(signinDevRole), http.StatusForbidden, "did not come from idpbridge"},
		{"token not base64", "!!" + good, pair(signinDevRole), http.StatusForbidden, "did not come from idpbridge"},
		{"no token", "", pair(signinDevRole), http.StatusBadRequest, "Choose a role"},
		{"no role", good, "", http.StatusBadRequest, "Choose a role"},
		{"role not in the assertion", good, pair(signinOther), http.StatusForbidden, "not one the SAML response names"},
		{"role of another provider", good, signinDevRole + ",arn:aws:iam::111111111111:saml-provider/other", http.StatusForbidden, "not one the SAML response names"},
		{"not a role pair", good, "admin", http.StatusForbidden, "not one the SAML response names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{"SAMLResponse": {resp}, "role": {tc.role}, "choice_token": {tc.token}}
			w := e.post(f)
			if w.Code != tc.status || !strings.Contains(page(w), tc.want) {
				t.Fatalf("got %d, want %d with %q:\n%s", w.Code, tc.status, tc.want, page(w))
			}
			if n := e.sts.calls.Load(); n != 0 {
				t.Fatalf("%d STS calls", n)
			}
		})
	}
	// Nothing consumed the assertion: the right choice still works.
	form.Set("role", pair(signinDevRole))
	sessionCreds(t, e.post(form))
}

// TestSTSSignInBadInput: what is not a usable SAML response gets an error
// page that names the problem, never a panic, and the STS is not called.
func TestSTSSignInBadInput(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	raw, err := base64.StdEncoding.DecodeString(signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}}))
	if err != nil {
		t.Fatal(err)
	}
	valid := string(raw)
	// open is the Response's start tag, rest what follows it.
	i := strings.Index(valid, "<samlp:Status")
	open, rest := valid[:i], valid[i:]
	form := func(v string) string { return url.Values{"SAMLResponse": {v}}.Encode() }
	for _, tc := range []struct {
		name, body, contentType string
		status                  int
		want                    string
	}{
		{"not base64", form("this is not base64!"), "", http.StatusBadRequest, "The SAMLResponse is not base64-encoded."},
		{"not XML", form(b64("hello, world")), "", http.StatusBadRequest, "The SAMLResponse is not a well-formed SAML 2.0 Response of the shape the STS accepts."},
		{"truncated XML", form(b64(open + "<saml:Assertion")), "", http.StatusBadRequest, "not a well-formed SAML 2.0 Response"},
		{"not UTF-8", form(b64("<a>\xff\xfe</a>")), "", http.StatusBadRequest, "not an XML document in UTF-8"},
		{"not a Response", form(b64(`<html><body>hi</body></html>`)), "", http.StatusBadRequest, "Its root element is html."},
		{"DOCTYPE", form(b64(`<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>` + valid)), "", http.StatusBadRequest, "DOCTYPE"},
		{"undeclared entity", form(b64(open + `&xxe;` + rest)), "", http.StatusBadRequest, "undeclared entity &xxe;"},
		{"processing instruction", form(b64(`<?xml-stylesheet href="x"?>` + valid)), "", http.StatusBadRequest, "processing instruction"},
		{"two roots", form(b64(valid + valid)), "", http.StatusBadRequest, "more than one root element"},
		{"3000-deep nesting", form(b64(open + strings.Repeat("<a>", 3000) + strings.Repeat("</a>", 3000) + rest)), "", http.StatusBadRequest, "unexpected element {}a"},
		{"5000 siblings", form(b64(open + strings.Repeat("<a/>", 5000) + rest)), "", http.StatusBadRequest, "unexpected element {}a"},
		{"more than the STS accepts", form(strings.Repeat("A", samlverify.MaxEncodedLen+4)), "", http.StatusRequestEntityTooLarge, "The SAMLResponse is too large: at most 100000 characters"},
		{"EncryptedAssertion", form(b64(strings.NewReplacer("<saml:Assertion ", "<saml:EncryptedAssertion ", "</saml:Assertion>", "</saml:EncryptedAssertion>").Replace(valid))), "",
			http.StatusBadRequest, "EncryptedAssertion: unexpected attribute ID"},
		{"too large", form(strings.Repeat("A", MaxSAMLResponseLen+4)), "", http.StatusRequestEntityTooLarge, "The SAMLResponse is too large"},
		{"10 MB body", form(strings.Repeat("A", 10<<20)), "", http.StatusRequestEntityTooLarge, "The sign-in form is too large"},
		{"empty", form(""), "", http.StatusBadRequest, "The sign-in form has no SAMLResponse."},
		{"missing", "RelayState=x", "", http.StatusBadRequest, "The sign-in form has no SAMLResponse."},
		{"twice", "SAMLResponse=AAAA&SAMLResponse=BBBB", "", http.StatusBadRequest, "SAMLResponse more than once"},
		{"bad form encoding", "SAMLResponse=%zz", "", http.StatusBadRequest, "could not be read"},
		{"JSON", `{"SAMLResponse":"x"}`, "application/json", http.StatusUnsupportedMediaType, "HTML form post"},
		{"no content type", form("AAAA"), "-", http.StatusUnsupportedMediaType, "HTML form post"},
		{"no role attribute", form(signinResponse(t, signinSpec{})), "", http.StatusBadRequest, "The assertion names no role"},
		{"role values that are no pair", form(signinResponse(t, signinSpec{Roles: []string{signinDevRole, "a,b", signinDevRole + "," + signinOpsRole}})), "",
			http.StatusBadRequest, "Not a role and SAML provider pair: a,b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/x-www-form-urlencoded"
			case "-":
				ct = ""
			}
			w := e.postRaw(tc.body, ct, nil)
			body := page(w)
			if w.Code != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, `class="card error"`) {
				t.Fatalf("got %d, want %d with %q:\n%.2000s", w.Code, tc.status, tc.want, body)
			}
			if n := e.sts.calls.Load(); n != 0 {
				t.Fatalf("%d STS calls", n)
			}
		})
	}

	r := httptest.NewRequest(http.MethodGet, STSSignInPath, nil)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != http.MethodPost {
		t.Fatalf("GET = %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

// TestSTSSignInSTSRefusals: the STS's refusals show AWS's code and message
// with its status: the same assertion a second time is a replay; a role
// whose trust policy does not name the provider is denied; an assertion
// whose signature broke is an invalid token.
func TestSTSSignInSTSRefusals(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	resp := signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}, SourceIdentity: "Saanvi"})
	sessionCreds(t, e.post(url.Values{"SAMLResponse": {resp}}))
	w := e.post(url.Values{"SAMLResponse": {resp}})
	if w.Code != http.StatusBadRequest || !strings.Contains(page(w), "InvalidIdentityToken: Assertion has already been used") {
		t.Fatalf("replay: %d\n%s", w.Code, page(w))
	}

	w = e.post(url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{pair(signinNoTrust)}})}})
	if w.Code != http.StatusForbidden || !strings.Contains(page(w), "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML") {
		t.Fatalf("no trust: %d\n%s", w.Code, page(w))
	}

	raw, _ := base64.StdEncoding.DecodeString(signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}, SourceIdentity: "Saanvi"}))
	forged := base64.StdEncoding.EncodeToString(bytes.Replace(raw, []byte(">Saanvi<"), []byte(">Mallory<"), 1))
	w = e.post(url.Values{"SAMLResponse": {forged}})
	if w.Code != http.StatusBadRequest || !strings.Contains(page(w), "InvalidIdentityToken: ") {
		t.Fatalf("forged: %d\n%s", w.Code, page(w))
	}
	if n := e.sts.calls.Load(); n != 4 {
		t.Fatalf("%d STS calls, want 4", n)
	}
	var codes []string
	for _, r := range e.trail.all() {
		codes = append(codes, r.ErrorCode)
	}
	if got := strings.Join(codes, ","); got != ",InvalidIdentityToken,AccessDenied,InvalidIdentityToken" {
		t.Fatalf("audit error codes %q", got)
	}
}

// TestSTSSignInLineBreaks: a SAMLResponse wrapped in lines (some IdPs do)
// is read, and the chooser's token survives a browser turning LF into CRLF.
func TestSTSSignInLineBreaks(t *testing.T) {
	t.Parallel()
	e := newSigninEnv(t)
	resp := signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole), pair(signinOpsRole)}})
	var wrapped strings.Builder
	for i := 0; i < len(resp); i += 76 {
		wrapped.WriteString(resp[i:min(i+76, len(resp))] + "\n")
	}
	form, roles := chooserForm(t, e.post(url.Values{"SAMLResponse": {wrapped.String()}}))
	if form.Get("SAMLResponse") != resp {
		t.Fatal("the chooser does not carry the response without line breaks")
	}
	form.Set("SAMLResponse", strings.ReplaceAll(wrapped.String(), "\n", "\r\n"))
	form.Set("role", roles[0])
	sessionCreds(t, e.post(form))
}

func TestNewSTSSignInOptions(t *testing.T) {
	t.Parallel()
	pages, err := ui.Load(templates.FS, "error")
	if err != nil {
		t.Fatal(err)
	}
	ok := STSSignInOptions{STS: &countingSTS{}, Pages: pages, Secret: testSecret, BaseURL: signinBase}
	for _, tc := range []struct {
		name string
		edit func(*STSSignInOptions)
		want string
	}{
		{"no STS", func(o *STSSignInOptions) { o.STS = nil }, "missing: STS"},
		{"no pages", func(o *STSSignInOptions) { o.Pages = nil }, "missing: Pages"},
		{"short secret", func(o *STSSignInOptions) { o.Secret = o.Secret[:31] }, "at least 32 bytes"},
		{"relative base URL", func(o *STSSignInOptions) { o.BaseURL = "/idp" }, "absolute http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			if _, err := NewSTSSignIn(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewSTSSignIn(ok); err != nil {
		t.Fatal(err)
	}
}

func TestExpiresIn(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                    "already expired",
		0:                               "already expired",
		20 * time.Second:                "in less than a minute",
		time.Minute:                     "in 1 minute",
		59*time.Minute + 10*time.Second: "in 59 minutes",
		59*time.Minute + 59*time.Second: "in 1 hour",
		90 * time.Minute:                "in 1 hour 30 minutes",
		12 * time.Hour:                  "in 12 hours",
		2*time.Hour + time.Minute:       "in 2 hours 1 minute",
	} {
		if got := expiresIn(d); got != want {
			t.Errorf("expiresIn(%v) = %q, want %q", d, got, want)
		}
	}
}
