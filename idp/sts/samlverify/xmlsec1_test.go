package samlverify

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
)

// xmlsec1Fixtures are responses signed by xmlsec1 (libxmlsec1 with
// OpenSSL), an implementation other than goxmldsig, with the test keys
// and the fixed clock. go test -run TestXmlsec1Interop -update makes
// them again (xmlsec1 must be installed).
//
// crewjam alone (goxmldsig) verifies ECDSA signatures only in ASN.1 DER,
// the form it signs in; XML-DSig (RFC 4050, RFC 6931) and xmlsec1 write
// r||s, which Verify converts.
var xmlsec1Fixtures = []struct {
	name, key, method string
	crewjamAccepts    bool
}{
	{"rsa-sha256", "idp-rsa2048", algRSASHA256, true},
	{"ecdsa-sha256", "idp-ecdsa-p256", algECDSA256, false},
}

func TestXmlsec1Interop(t *testing.T) {
	t.Parallel()
	for _, fx := range xmlsec1Fixtures {
		path := filepath.Join("testdata", "TestXmlsec1Interop_"+fx.name+".xml")
		if *update {
			writeXmlsec1Fixture(t, path, fx.key, fx.method)
		}
		t.Run(fx.name, func(t *testing.T) {
			doc, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := testProvider(t)
			p.Certs[0] = key(t, fx.key).cert
			got, err := Verify(context.Background(), base64.StdEncoding.EncodeToString(doc), p, testOptions())
			if err != nil {
				t.Fatalf("Verify: %v (%s)", err, asError(t, err).Reason)
			}
			if got.NameID != testNameID || got.Attributes[testSIAttr][0] != "alice" {
				t.Fatalf("got %+v", got)
			}
			a, err := crewjamParse(bareServiceProvider(t, key(t, fx.key).cert), doc)
			if (a != nil) != fx.crewjamAccepts {
				t.Errorf("crewjam alone accepts: %v (%v), want %v", a != nil, err, fx.crewjamAccepts)
			}
		})
	}
}

// writeXmlsec1Fixture signs the valid Assertion with xmlsec1.
func writeXmlsec1Fixture(t *testing.T, path, keyName, method string) {
	t.Helper()
	dir := t.TempDir()
	k := key(t, keyName)
	der, err := os.ReadFile(filepath.Join("testdata", keyName+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(der)
	keyFile, certFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}

	tmpl := build{mode: signNone, pre: func(t testing.TB, doc *etree.Document) {
		a := find(t, doc, "Assertion")
		sig := etree.NewElement("ds:Signature")
		sig.CreateAttr("xmlns:ds", nsDSig)
		si := sig.CreateElement("ds:SignedInfo")
		si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", algExcC14N)
		si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", method)
		ref := si.CreateElement("ds:Reference")
		ref.CreateAttr("URI", "#"+testAssertionID)
		trs := ref.CreateElement("ds:Transforms")
		trs.CreateElement("ds:Transform").CreateAttr("Algorithm", algEnveloped)
		trs.CreateElement("ds:Transform").CreateAttr("Algorithm", algExcC14N)
		ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", algSHA256)
		ref.CreateElement("ds:DigestValue")
		sig.CreateElement("ds:SignatureValue")
		sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data")
		a.InsertChildAt(issuerIndex(a)+1, sig)
	}}.xmlBytes(t)
	in := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(in, tmpl, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmlsec1", "--sign", "--privkey-pem", keyFile+","+certFile,
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--output", path, in).CombinedOutput()
	if err != nil {
		t.Fatalf("xmlsec1: %v\n%s", err, out)
	}
}
