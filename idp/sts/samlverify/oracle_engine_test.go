package samlverify

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// signatureChecker is the SignatureVerifier crewjam calls for each
// Signature it finds on the Response and on the Assertion. It verifies
// with goxmldsig against the pinned certificates checkSignature selected
// (never a key from KeyInfo), and records what each signature covered.
type signatureChecker struct {
	plans  map[string]signaturePlan  // by element name: "Response", "Assertion"
	signed map[string]*etree.Element // what each verified signature covered
	failed map[string]error          // why a signature did not verify
	clock  *dsig.Clock               // the verification time, for certificate validity
}

var _ saml.SignedElementVerifier = (*signatureChecker)(nil)

func (c *signatureChecker) VerifySignature(vc *dsig.ValidationContext, el *etree.Element) error {
	_, err := c.VerifySignedElement(vc, el)
	return err
}

// VerifySignedElement verifies the enveloped signature of el (crewjam's
// copy of the Response or Assertion, with its namespaces declared) and
// returns the element goxmldsig rebuilt from the canonical bytes it
// digested. The ValidationContext crewjam offers is not used: it would
// let goxmldsig pick the certificate KeyInfo names.
func (c *signatureChecker) VerifySignedElement(_ *dsig.ValidationContext, el *etree.Element) (*etree.Element, error) {
	plan, ok := c.plans[el.Tag]
	if !ok {
		return nil, fmt.Errorf("signature on an unexpected element %s", el.Tag)
	}
	work := el.Copy()
	sig := childEl(work, "Signature")
	if sig == nil {
		return nil, errors.New("signature not found")
	}
	if keyInfo := childEl(sig, "KeyInfo"); keyInfo != nil {
		sig.RemoveChild(keyInfo)
	}
	var err error
	for _, cert := range plan.candidates {
		if err = rawECDSAToDER(sig, cert); err != nil {
			break
		}
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		vc.IdAttribute = "ID"
		vc.Clock = c.clock
		var signed *etree.Element
		if signed, err = vc.Validate(work); err == nil {
			c.signed[el.Tag] = signed
			return signed, nil
		}
	}
	c.failed[el.Tag] = err
	return nil, err
}

// rawECDSAToDER rewrites, for an ECDSA certificate, a SignatureValue in
// the XML-DSig form (r||s, RFC 4050 and RFC 6931) to the ASN.1 DER form
// goxmldsig expects. A SignatureValue of any other length is left as it
// is: goxmldsig itself signs ECDSA in DER.
func rawECDSAToDER(sig *etree.Element, cert *x509.Certificate) error {
	key, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil
	}
	sv := childEl(sig, "SignatureValue")
	raw, err := base64.StdEncoding.DecodeString(textOf(sv))
	if err != nil {
		return err
	}
	size := (key.Curve.Params().BitSize + 7) / 8
	if len(raw) != 2*size {
		return nil
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(raw[:size]), new(big.Int).SetBytes(raw[size:])})
	if err != nil {
		return err
	}
	sv.SetText(base64.StdEncoding.EncodeToString(der))
	return nil
}

// newServiceProvider configures a crewjam ServiceProvider for one
// verification. crewjam checks the signatures (through checker), the
// structure, and its own view of the conditions; Verify then applies the
// strict profile to what the signatures covered.
//
//   - IDPMetadata holds the provider's entityID and usable pinned
//     certificates; the checker only ever trusts these.
//   - acs, and the current URL Verify passes to ParseXMLResponse, are
//     values from opt.Recipients (the ones the response names, when it
//     names an accepted one), so that crewjam's single-URL Recipient and
//     Destination checks agree with ours.
//   - Audience, InResponseTo and unknown-condition decisions are Verify's:
//     AWS has no request IDs and accepts several audiences.
//   - crewjam's clock is the verification time, held back to at most
//     saml.MaxIssueDelay (90 s, a package variable) after the earliest
//     IssueInstant: crewjam refuses anything issued longer ago than that,
//     while the STS accepts an assertion for its whole validity period up
//     to MaxLifetime (a user may pick a role at leisure). Every time
//     condition is checked again by Verify at opt.Now.
func newServiceProvider(p Provider, usable []*x509.Certificate, acs *url.URL, issued, now time.Time, checker *signatureChecker) *saml.ServiceProvider {
	keys := make([]saml.KeyDescriptor, len(usable))
	for i, c := range usable {
		keys[i] = saml.KeyDescriptor{Use: "signing", KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{
			X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}},
		}}}
	}
	crewNow := now
	if limit := issued.Add(saml.MaxIssueDelay); crewNow.After(limit) {
		crewNow = limit
	}
	return &saml.ServiceProvider{
		EntityID: acs.String(),
		AcsURL:   *acs,
		IDPMetadata: &saml.EntityDescriptor{
			EntityID: p.EntityID,
			IDPSSODescriptors: []saml.IDPSSODescriptor{{
				SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{KeyDescriptors: keys}},
			}},
		},
		AllowIDPInitiated:           true,
		ValidateRequestID:           func(saml.Response, []string) error { return nil },
		ValidateAudienceRestriction: func(*saml.Assertion) error { return nil },
		ValidateUnknownConditions:   func(*saml.Assertion) error { return errors.New("unknown condition") },
		RejectSHA1Signatures:        true,
		SignatureVerifier:           checker,
		Clock:                       dsig.NewFakeClockAt(crewNow),
	}
}
