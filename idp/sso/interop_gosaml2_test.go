package sso

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"testing"

	"github.com/crewjam/saml"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// TestInteropGoSAML2 checks the assertion with russellhaering/gosaml2, an
// independent SAML SP implementation; its warnings count as errors.
func TestInteropGoSAML2(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	resp, _ := idpInitiatedResponse(t, env)
	sp := &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      testBase + SSOPath,
		IdentityProviderIssuer:      testEntityID,
		AssertionConsumerServiceURL: spACS,
		ServiceProviderIssuer:       spEntityID,
		AudienceURI:                 spEntityID,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: env.keys.Published()},
		Clock:                       dsig.NewFakeClockAt(testNow),
	}
	info, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(resp))
	if err != nil {
		t.Fatalf("gosaml2 rejects the response: %v", err)
	}
	if w := info.WarningInfo; w.InvalidTime || w.NotInAudience || w.OneTimeUse || w.ProxyRestriction != nil {
		t.Fatalf("gosaml2 warnings: %+v", w)
	}
	if !info.ResponseSignatureValidated {
		t.Error("gosaml2 did not validate the Response signature")
	}
	if info.NameID != "alice" || info.NameIDFormat != string(saml.PersistentNameIDFormat) {
		t.Errorf("NameID %q format %q", info.NameID, info.NameIDFormat)
	}
	for _, a := range aliceAWSAttributes() {
		if got := info.Values.GetAll(a.Name); !reflect.DeepEqual(got, a.Values) {
			t.Errorf("%s = %v, want %v", a.Name, got, a.Values)
		}
	}
	if len(info.Values) != len(aliceAWSAttributes()) {
		t.Errorf("%d attributes, want exactly the %d mapped", len(info.Values), len(aliceAWSAttributes()))
	}

	// The same verifier refuses the response once a value is changed.
	forged := bytes.Replace(resp, []byte(">alice<"), []byte(">mallory<"), 1)
	if _, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(forged)); err == nil {
		t.Fatal("gosaml2 accepts a forged response")
	}
}
