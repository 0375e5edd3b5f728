package samlverify

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

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

// crewjamAccepts names the rows of the attack table that crewjam v0.6.3,
// configured plainly (bareServiceProvider), accepts. doc.go reports
// them; TestCrewjamBaseline fails when the library changes, so that the
// report is kept true.
var crewjamAccepts = map[string]bool{
	"RSA-SHA1":                                             true,
	"SHA-1 digest under RSA-SHA256":                        true,
	"RSA-1024 pinned key":                                  true,
	"RSA-1024 key beside a good pinned key":                true,
	"WithComments transform":                               true,
	"WithComments CanonicalizationMethod":                  true,
	"transforms in reverse order":                          true,
	"XPath transform":                                      true,
	"two X509Certificates":                                 true,
	"KeyName in KeyInfo":                                   true,
	"ds:Object in Signature":                               true,
	`xmlns:="y" (CVE-2020-29510)`:                          true,
	"unused DOCTYPE":                                       true,
	"XML declaration of another encoding":                  true,
	"10 MB body":                                           true,
	"duplicate attribute":                                  true,
	"two root elements":                                    true,
	"namespace prefix named like an attribute":             true,
	"namespaced attribute named like a SAML attribute":     true,
	"time with a zone offset":                              true,
	"two Assertions in a signed Response":                  true,
	"empty NameID":                                         true,
	"Conditions without NotOnOrAfter":                      true,
	"Conditions without NotBefore":                         true,
	"two SubjectConfirmations":                             true,
	"AuthnInstant in the future":                           true,
	"lifetime == MaxLifetime + 1s":                         true,
	"SubjectConfirmationData lifetime == MaxLifetime + 1s": true,
	"same Response twice":                                  true,
	"same Assertion in a new Response":                     true,
	"same signed Response twice":                           true,
	"unknown Condition":                                    true,
	"duplicate attribute Name":                             true,
	"AttributeValue with an element inside":                true,
}

// TestCrewjamBaseline runs every row of the attack table through crewjam
// alone: it must not panic, and it accepts exactly crewjamAccepts (rows
// whose input is not base64 do not reach it).
func TestCrewjamBaseline(t *testing.T) {
	t.Parallel()
	for _, tc := range attackTable() {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := base64.StdEncoding.DecodeString(tc.input(t))
			if err != nil {
				return
			}
			p := tc.provider(t)
			sp := bareServiceProvider(t, p.Certs...)
			sp.IDPMetadata.EntityID = p.EntityID
			if tc.first != nil {
				if _, err := crewjamParse(sp, tc.first.xmlBytes(t)); err != nil {
					t.Fatalf("first use: %v", err)
				}
			}
			a, err := crewjamParse(sp, raw)
			if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
				t.Fatalf("crewjam panics: %v", err)
			}
			if got := a != nil; got != crewjamAccepts[tc.name] {
				t.Errorf("crewjam accepts: %v, doc.go says %v (%v)", got, crewjamAccepts[tc.name], err)
			}
		})
	}
}

// TestGoxmldsigSiblings: goxmldsig v1.6.1 on 1,000+ siblings beside a
// bogus Signature (SECURITY.md says it panicked): an error, no panic.
func TestGoxmldsigSiblings(t *testing.T) {
	t.Parallel()
	sigs := map[string]string{
		"empty Signature": `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`,
		"no SignedInfo":   `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`,
		"bad SignatureValue": `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
			`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
			`<ds:Reference URI="#id1"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>` +
			`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>` +
			`</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`,
	}
	for name, sig := range sigs {
		for _, before := range []bool{true, false} {
			for _, n := range []int{1001, 3000} {
				xs := strings.Repeat("<x/>", n)
				body := xs + sig
				if before {
					body = sig + xs
				}
				d := etree.NewDocument()
				if err := d.ReadFromString(`<r ID="id1">` + body + `</r>`); err != nil {
					t.Fatal(err)
				}
				vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{key(t, "idp-rsa2048").cert}})
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("PANIC: %v", r)
						}
					}()
					_, err = vc.Validate(d.Root())
					return err
				}()
				if err == nil || strings.HasPrefix(err.Error(), "PANIC") {
					t.Errorf("%s, signature first %v, %d siblings: %v", name, before, n, err)
				}
			}
		}
	}
}
