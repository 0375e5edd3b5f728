package samlverify

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// bareServiceProvider is crewjam configured the plain way for the STS:
// the provider's metadata, the sign-in URL as ACS and audience,
// IdP-initiated responses allowed, and the test clock.
func bareServiceProvider(t testing.TB, certs ...*x509.Certificate) *saml.ServiceProvider {
	t.Helper()
	acs, _ := url.Parse(testSignin)
	keys := make([]saml.KeyDescriptor, len(certs))
	for i, c := range certs {
		keys[i] = saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
			X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}},
		}}}
	}
	return &saml.ServiceProvider{
		EntityID: testAudience,
		AcsURL:   *acs,
		IDPMetadata: &saml.EntityDescriptor{
			EntityID: testEntityID,
			IDPSSODescriptors: []saml.IDPSSODescriptor{{
				SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{KeyDescriptors: keys}},
			}},
		},
		AllowIDPInitiated: true,
		Clock:             dsig.NewFakeClockAt(testNow),
	}
}

// crewjamParse runs the bare crewjam ServiceProvider on doc, turning a
// panic into an error that says so.
func crewjamParse(sp *saml.ServiceProvider, doc []byte) (a *saml.Assertion, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PANIC: %v", r)
		}
	}()
	acs, _ := url.Parse(testSignin)
	return sp.ParseXMLResponse(doc, nil, *acs)
}

func TestCrewjamSurvey(t *testing.T) {
	for _, tc := range attackTable() {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.provider(t)
			sp := bareServiceProvider(t, p.Certs...)
			sp.IDPMetadata.EntityID = p.EntityID
			raw, err := base64.StdEncoding.DecodeString(tc.input(t))
			if err != nil {
				t.Logf("SURVEY %-60s n/a (not base64)", tc.name)
				return
			}
			if tc.first != nil {
				if _, err := crewjamParse(sp, tc.first.xmlBytes(t)); err != nil {
					t.Logf("first: %v", err)
				}
			}
			a, err := crewjamParse(sp, raw)
			res := "rejects"
			if a != nil {
				res = "ACCEPTS"
			}
			if err != nil && len(err.Error()) > 5 && err.Error()[:5] == "PANIC" {
				res = "PANICS"
			}
			t.Logf("SURVEY %-60s %s", tc.name, res)
		})
	}
}
