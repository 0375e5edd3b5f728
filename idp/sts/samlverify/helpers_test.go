package samlverify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/beevik/etree"
)

// The fixed clock and the values of the valid response every test starts
// from.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

const (
	testEntityID    = "https://idp.example.test/saml/metadata"
	testOtherEntity = "https://other-idp.example.test/saml/metadata"
	testProviderARN = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	testSignin      = "https://signin.aws.amazon.com/saml"
	testOwnSignin   = "https://sts.example.test/sts/saml"
	testAudience    = "https://signin.aws.amazon.com/saml"
	testAudience2   = "urn:amazon:webservices"
	testRoleAttr    = "https://aws.amazon.com/SAML/Attributes/Role"
	testRSNAttr     = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	testSIAttr      = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	testTagAttr     = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:Department"
	testRoleValue   = "arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/idpbridge"
	testNameID      = "alice@corp.test"
	testPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	testAssertionID = "_a7f3c0de5e1b4c2f9d8e7a6b5c4d3e2f"
	testResponseID  = "_r1b2c3d4e5f60718293a4b5c6d7e8f90"
)

// tmplData fills responseTemplate.
type tmplData struct {
	ResponseID, AssertionID, ResponseIssuer, Issuer, Destination, Status string
	NameID, NameIDFormat, Recipient, Audience                            string
	IssueInstant, NotBefore, NotOnOrAfter, SCDNotOnOrAfter               time.Time
	AuthnInstant, SessionNotOnOrAfter                                    time.Time
	Attributes                                                           []tmplAttr
}

type tmplAttr struct {
	Name   string
	Values []string
}

func defaultData() tmplData {
	return tmplData{
		ResponseID:          testResponseID,
		AssertionID:         testAssertionID,
		ResponseIssuer:      testEntityID,
		Issuer:              testEntityID,
		Destination:         testSignin,
		Status:              statusSuccess,
		NameID:              testNameID,
		NameIDFormat:        testPersistent,
		Recipient:           testSignin,
		Audience:            testAudience,
		IssueInstant:        testNow.Add(-10 * time.Second),
		NotBefore:           testNow.Add(-time.Minute),
		NotOnOrAfter:        testNow.Add(5 * time.Minute),
		SCDNotOnOrAfter:     testNow.Add(5 * time.Minute),
		AuthnInstant:        testNow.Add(-30 * time.Second),
		SessionNotOnOrAfter: testNow.Add(8 * time.Hour),
		Attributes: []tmplAttr{
			{testRoleAttr, []string{testRoleValue}},
			{testRSNAttr, []string{"alice"}},
			{testSIAttr, []string{"alice"}},
			{testTagAttr, []string{"eng"}},
		},
	}
}

var responseTemplate = template.Must(template.New("response").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") },
	"x": func(s string) (string, error) {
		var b strings.Builder
		err := xml.EscapeText(&b, []byte(s))
		return b.String(), err
	},
}).Parse(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{{.ResponseID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}" Destination="{{x .Destination}}">
  <saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{{x .ResponseIssuer}}</saml:Issuer>
  <samlp:Status>
    <samlp:StatusCode Value="{{x .Status}}"/>
  </samlp:Status>
  <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{{.AssertionID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}">
    <saml:Issuer>{{x .Issuer}}</saml:Issuer>
    <saml:Subject>
      <saml:NameID Format="{{x .NameIDFormat}}">{{x .NameID}}</saml:NameID>
      <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
        <saml:SubjectConfirmationData NotOnOrAfter="{{t .SCDNotOnOrAfter}}" Recipient="{{x .Recipient}}"/>
      </saml:SubjectConfirmation>
    </saml:Subject>
    <saml:Conditions NotBefore="{{t .NotBefore}}" NotOnOrAfter="{{t .NotOnOrAfter}}">
      <saml:AudienceRestriction>
        <saml:Audience>{{x .Audience}}</saml:Audience>
      </saml:AudienceRestriction>
    </saml:Conditions>
    <saml:AuthnStatement AuthnInstant="{{t .AuthnInstant}}" SessionIndex="_s1" SessionNotOnOrAfter="{{t .SessionNotOnOrAfter}}">
      <saml:AuthnContext>
        <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
      </saml:AuthnContext>
    </saml:AuthnStatement>
    <saml:AttributeStatement>{{range .Attributes}}
      <saml:Attribute Name="{{x .Name}}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{{range .Values}}
        <saml:AttributeValue xsi:type="xs:string">{{x .}}</saml:AttributeValue>{{end}}
      </saml:Attribute>{{end}}
    </saml:AttributeStatement>
  </saml:Assertion>
</samlp:Response>`))

type signMode int

const (
	signAssertion signMode = iota
	signResponse
	signBoth
	signNone
)

// build describes one response: the template data, edits before
// signing, how to sign, and edits after signing. Attack cases are builds
// of the valid one with a mutation.
type build struct {
	mode      signMode
	data      func(*tmplData)
	pre       func(t testing.TB, doc *etree.Document) // before signing
	assertion sigSpec                                 // how the Assertion is signed
	response  sigSpec                                 // how the Response is signed
	post      func(t testing.TB, doc *etree.Document) // after signing
	bytes     func(t testing.TB, b []byte) []byte     // on the serialized document
}

// xmlBytes renders, edits and signs the document.
func (b build) xmlBytes(t testing.TB) []byte {
	t.Helper()
	d := defaultData()
	if b.data != nil {
		b.data(&d)
	}
	var buf bytes.Buffer
	if err := responseTemplate.Execute(&buf, d); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if b.pre != nil {
		b.pre(t, doc)
	}
	if b.mode == signAssertion || b.mode == signBoth {
		sign(t, find(t, doc, "Assertion"), b.assertion)
	}
	if b.mode == signResponse || b.mode == signBoth {
		sign(t, doc.Root(), b.response)
	}
	if b.post != nil {
		b.post(t, doc)
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if b.bytes != nil {
		out = b.bytes(t, out)
	}
	return out
}

func (b build) encode(t testing.TB) string {
	return base64.StdEncoding.EncodeToString(b.xmlBytes(t))
}

// find returns the element at path ("Assertion/Subject/NameID", names
// without prefixes) below the root, or fails the test.
func find(t testing.TB, doc *etree.Document, path string) *etree.Element {
	t.Helper()
	el := doc.Root()
	if path == "" {
		return el
	}
	for _, name := range strings.Split(path, "/") {
		next := el.SelectElement(name)
		if next == nil {
			t.Fatalf("no %s in %s", name, path)
		}
		el = next
	}
	return el
}

func remove(t testing.TB, doc *etree.Document, path string) {
	t.Helper()
	el := find(t, doc, path)
	el.Parent().RemoveChild(el)
}

func setAttr(path, key, value string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { find(t, doc, path).CreateAttr(key, value) }
}

func removeAttr(path, key string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { find(t, doc, path).RemoveAttr(key) }
}

func removeEl(path string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { remove(t, doc, path) }
}

func setText(path, text string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { find(t, doc, path).SetText(text) }
}

// then runs edits in order.
func then(edits ...func(testing.TB, *etree.Document)) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		for _, e := range edits {
			e(t, doc)
		}
	}
}

// memReplay is the ReplayCache the tests use: a map, as the store's table
// is, keyed on (issuer, assertion ID).
type memReplay struct {
	mu   sync.Mutex
	seen map[[2]string]time.Time
}

func newMemReplay() *memReplay { return &memReplay{seen: map[[2]string]time.Time{}} }

func (m *memReplay) Remember(_ context.Context, issuer, id string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{issuer, id}
	if _, ok := m.seen[k]; ok {
		return false, nil
	}
	m.seen[k] = until
	return true, nil
}

// replayFunc is a function-field ReplayCache fake.
type replayFunc func(ctx context.Context, issuer, id string, until time.Time) (bool, error)

func (f replayFunc) Remember(ctx context.Context, issuer, id string, until time.Time) (bool, error) {
	return f(ctx, issuer, id, until)
}

func testProvider(t testing.TB) Provider {
	return Provider{ARN: testProviderARN, EntityID: testEntityID, Certs: []*x509.Certificate{key(t, "idp-rsa2048").cert}}
}

func testOptions() Options {
	return Options{
		Now:        testNow,
		Recipients: []string{testSignin, testOwnSignin},
		Audiences:  []string{testAudience, testAudience2},
		Replay:     newMemReplay(),
	}
}

// verifyErr runs Verify and returns its *Error, failing the test on any
// other kind of error.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	return e
}
