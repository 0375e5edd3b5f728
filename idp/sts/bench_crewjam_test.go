package sts

import (
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/crewjam/saml"
)

// BenchmarkCrewjamParseParallel is the reference for the end-to-end
// benchmarks: crewjam/saml's bare ServiceProvider.ParseXMLResponse (parse
// and signature check, no strict profile, no replay row, no HTTP, policy,
// credentials or store) on the same assertions, from the same 16
// concurrent callers.
func BenchmarkCrewjamParseParallel(b *testing.B) {
	k := testSAMLKey(b, "example")
	sp := crewjamSP(b, k.cert)
	acs, _ := url.Parse(signinRecipient)
	docs := make([][]byte, b.N)
	for i, a := range benchAssertions(b, b.N) {
		doc, err := base64.StdEncoding.DecodeString(a)
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = doc
	}
	runClients(b, func(i int) error {
		_, err := sp.ParseXMLResponse(docs[i], nil, *acs)
		return err
	})
}

func crewjamSP(b *testing.B, cert *x509.Certificate) *saml.ServiceProvider {
	b.Helper()
	acs, _ := url.Parse(signinRecipient)
	return &saml.ServiceProvider{
		EntityID: signinRecipient,
		AcsURL:   *acs,
		IDPMetadata: &saml.EntityDescriptor{
			EntityID: samlIssuer,
			IDPSSODescriptors: []saml.IDPSSODescriptor{{
				SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{KeyDescriptors: []saml.KeyDescriptor{{
					Use: "signing",
					KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
						X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(cert.Raw)}},
					}},
				}}}},
			}},
		},
		AllowIDPInitiated: true,
	}
}
