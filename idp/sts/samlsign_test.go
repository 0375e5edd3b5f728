package sts

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// samlKey is a test IdP signing key with its self-signed certificate
// (valid 2020-2050), made once per test binary.
type samlKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	samlKeysMu sync.Mutex
	samlKeys   = map[string]*samlKey{}
)

func testSAMLKey(t testing.TB, name string) *samlKey {
	t.Helper()
	samlKeysMu.Lock()
	defer samlKeysMu.Unlock()
	if k, ok := samlKeys[name]; ok {
		return k
	}
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	k := &samlKey{key: priv, cert: cert}
	samlKeys[name] = k
	return k
}

// metadataFile writes IdP metadata for entityID with the key's certificate
// and returns its path.
func metadataFile(t testing.TB, entityID string, k *samlKey) string {
	t.Helper()
	md := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` +
		base64.StdEncoding.EncodeToString(k.cert.Raw) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
	p := filepath.Join(t.TempDir(), "metadata.xml")
	if err := os.WriteFile(p, []byte(md), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// assertionSpec describes a SAML Response to sign.
type assertionSpec struct {
	ID, Issuer, NameID, NameIDFormat, Recipient, Audience string
	IssueInstant, NotOnOrAfter, SessionNotOnOrAfter       time.Time
	Attributes                                            []samlAttr
	Key                                                   *samlKey
	// Tamper edits the signed XML.
	Tamper func(string) string
}

type samlAttr struct {
	Name   string
	Values []string
}

var samlResponseTmpl = template.Must(template.New("r").Funcs(template.FuncMap{
	"t": func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") },
	"x": func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	},
}).Parse(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_resp{{.ID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}" Destination="{{x .Recipient}}">
<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">{{x .Issuer}}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{{.ID}}" Version="2.0" IssueInstant="{{t .IssueInstant}}">
<saml:Issuer>{{x .Issuer}}</saml:Issuer>
<saml:Subject>
<saml:NameID Format="{{x .NameIDFormat}}">{{x .NameID}}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{{t .NotOnOrAfter}}" Recipient="{{x .Recipient}}"/></saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{{t .IssueInstant}}" NotOnOrAfter="{{t .NotOnOrAfter}}"><saml:AudienceRestriction><saml:Audience>{{x .Audience}}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{{t .IssueInstant}}" SessionIndex="_s1"{{if not .SessionNotOnOrAfter.IsZero}} SessionNotOnOrAfter="{{t .SessionNotOnOrAfter}}"{{end}}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
<saml:AttributeStatement>{{range .Attributes}}<saml:Attribute Name="{{x .Name}}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">{{range .Values}}<saml:AttributeValue xsi:type="xs:string">{{x .}}</saml:AttributeValue>{{end}}</saml:Attribute>{{end}}</saml:AttributeStatement>
</saml:Assertion>
</samlp:Response>`))

var assertionCounter struct {
	sync.Mutex
	n int
}

// signedResponse renders spec, signs its Assertion (RSA-SHA256, exclusive
// c14n, the Signature right after the Issuer) and returns it base64-encoded.
func signedResponse(t testing.TB, spec assertionSpec) string {
	t.Helper()
	if spec.ID == "" {
		assertionCounter.Lock()
		assertionCounter.n++
		spec.ID = "_a" + strings.Repeat("0", 8) + big.NewInt(int64(assertionCounter.n)).String()
		assertionCounter.Unlock()
	}
	var buf bytes.Buffer
	if err := samlResponseTmpl.Execute(&buf, spec); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	assertion := doc.Root().SelectElement("Assertion")
	ctx, err := dsig.NewSigningContext(spec.Key.key, [][]byte{spec.Key.cert.Raw})
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
	at := 0
	for i, c := range assertion.Child {
		if e, ok := c.(*etree.Element); ok && e.Tag == "Issuer" {
			at = i + 1
		}
	}
	assertion.InsertChildAt(at, sig)
	out, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if spec.Tamper != nil {
		out = spec.Tamper(out)
	}
	return base64.StdEncoding.EncodeToString([]byte(out))
}
