package sso

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// idpInitiatedResponse signs alice in to the test SP ("app", whose metadata
// is loaded from a file) by IdP-initiated SSO and returns the decoded
// SAMLResponse and the certificate the IdP metadata publishes first.
func idpInitiatedResponse(t *testing.T, env *testEnv) ([]byte, []byte) {
	t.Helper()
	w := env.do("GET", "/saml/idp-initiated?sp=app", nil, env.sessions.signIn(alice))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.Action != spACS {
		t.Fatalf("form to %q", form.Action)
	}
	md := env.do("GET", MetadataPath, nil, nil)
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(md.Body.Bytes(), &ed); err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(ed.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	return form.SAMLResponse, der
}

// TestInteropCrewjamSP checks the assertion with crewjam's ServiceProvider.
func TestInteropCrewjamSP(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	resp, _ := idpInitiatedResponse(t, env)
	a := verifyCrewjam(t, env, spEntityID, spACS, resp, nil)
	if !reflect.DeepEqual(assertionAttributes(a), aliceAWSAttributes()) {
		t.Errorf("attributes %v", assertionAttributes(a))
	}
}

// TestInteropXMLSec1 verifies the Response's and the Assertion's
// signatures with xmlsec1 against the certificate of our metadata. CI
// (CI=true) must have xmlsec1.
func TestInteropXMLSec1(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is required under CI=true")
		}
		t.Skip("xmlsec1 is not installed")
	}
	env := newTestEnv(t, nil)
	resp, der := idpInitiatedResponse(t, env)
	dir := t.TempDir()
	certFile := filepath.Join(dir, "idp.pem")
	os.WriteFile(certFile, certPEM(mustCert(t, der)), 0o600)

	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(resp); err != nil {
		t.Fatal(err)
	}
	assertion := doc.FindElement("//Assertion")
	adoc := etree.NewDocument()
	adoc.SetRoot(assertion.Copy())
	abytes, _ := adoc.WriteToBytes()

	verify := func(name string, xmlDoc []byte, idAttr string) error {
		f := filepath.Join(dir, name)
		os.WriteFile(f, xmlDoc, 0o600)
		out, err := exec.Command(bin, "--verify", "--pubkey-cert-pem", certFile, "--id-attr:ID", idAttr, f).CombinedOutput()
		if err != nil {
			return &xmlsecError{out: string(out)}
		}
		if !strings.Contains(string(out), "OK") {
			return &xmlsecError{out: string(out)}
		}
		return nil
	}
	if err := verify("response.xml", resp, "urn:oasis:names:tc:SAML:2.0:protocol:Response"); err != nil {
		t.Errorf("xmlsec1 rejects the Response signature: %v", err)
	}
	if err := verify("assertion.xml", abytes, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"); err != nil {
		t.Errorf("xmlsec1 rejects the Assertion signature: %v", err)
	}
	forged := bytes.Replace(abytes, []byte(">alice<"), []byte(">mallory<"), 1)
	if err := verify("forged.xml", forged, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion"); err == nil {
		t.Error("xmlsec1 accepts a forged assertion: the check proves nothing")
	}
}

type xmlsecError struct{ out string }

func (e *xmlsecError) Error() string { return "xmlsec1: " + e.out }
