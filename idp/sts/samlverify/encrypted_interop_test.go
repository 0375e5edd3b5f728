package samlverify

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// crewjamEncrypted is a Response made by crewjam's IdentityProvider (an
// independent SAML IdP) with the test IdP key: the valid test Assertion,
// signed, encrypted to testDecKey because the SP metadata publishes it
// for encryption with the given EncryptionMethods, in a signed Response.
func crewjamEncrypted(t *testing.T, methods ...string) []byte {
	t.Helper()
	plain := etree.NewDocument()
	if err := plain.ReadFromBytes(build{mode: signNone}.xmlBytes(t)); err != nil {
		t.Fatal(err)
	}
	adoc := etree.NewDocument()
	adoc.SetRoot(find(t, plain, "Assertion").Copy())
	abytes, _ := adoc.WriteToBytes()
	var a saml.Assertion
	if err := xml.Unmarshal(abytes, &a); err != nil {
		t.Fatal(err)
	}
	k := key(t, "idp-rsa2048")
	meta, _ := url.Parse(testEntityID)
	idp := &saml.IdentityProvider{Key: k.signer, Certificate: k.cert, MetadataURL: *meta, SignatureMethod: dsig.RSASHA256SignatureMethod}

	kd := saml.KeyDescriptor{Use: "encryption"}
	kd.KeyInfo.X509Data.X509Certificates = []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(key(t, testDecKey).cert.Raw)}}
	for _, m := range methods {
		kd.EncryptionMethods = append(kd.EncryptionMethods, saml.EncryptionMethod{Algorithm: m})
	}
	sp := &saml.EntityDescriptor{EntityID: testAudience, SPSSODescriptors: []saml.SPSSODescriptor{{
		SSODescriptor:             saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{KeyDescriptors: []saml.KeyDescriptor{kd}}},
		AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: testSignin}},
	}}}
	req := &saml.IdpAuthnRequest{
		IDP: idp, Now: testNow.Add(-10e9), Request: saml.AuthnRequest{ID: "_req1"},
		ServiceProviderMetadata: sp, SPSSODescriptor: &sp.SPSSODescriptors[0],
		ACSEndpoint: &sp.SPSSODescriptors[0].AssertionConsumerServices[0], Assertion: &a,
	}
	if err := req.MakeAssertionEl(); err != nil {
		t.Fatal(err)
	}
	if err := req.MakeResponse(); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCrewjamIdPEncrypted: what crewjam's IdentityProvider encrypts. It
// encrypts with AES-GCM when the SP metadata lists it, and we decrypt and
// verify that; when the metadata lists no method it falls back to
// AES-128-CBC, which we refuse with the no-CBC error (no padding oracle).
func TestCrewjamIdPEncrypted(t *testing.T) {
	t.Parallel()
	p := decProvider(t)
	gcm := crewjamEncrypted(t, algAES256GCM)
	got, err := Verify(context.Background(), base64.StdEncoding.EncodeToString(gcm), p, testOptions())
	if err != nil {
		t.Fatalf("crewjam's AES-GCM EncryptedAssertion: %v (%s)\n%s", err, asError(t, err).Reason, gcm)
	}
	if got.NameID != testNameID || got.Destination != testSignin || got.Attributes[testRoleAttr][0] != testRoleValue {
		t.Fatalf("got %+v", got)
	}

	cbc := crewjamEncrypted(t)
	_, err = Verify(context.Background(), base64.StdEncoding.EncodeToString(cbc), p, testOptions())
	if e := asError(t, err); e == nil || e.Message != MsgEncryptionCBC {
		t.Fatalf("crewjam's default AES-128-CBC: %v, want %q", err, MsgEncryptionCBC)
	}
}
