package sso

import (
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// What a service provider's Response carries signed (service_providers[].sign).
const (
	// SignResponse: the Response is signed, the Assertion inside it is not
	// (unless it is encrypted: an encrypted assertion is always signed).
	SignResponse = "response"
	// SignAssertion: the Assertion is signed, the Response is not.
	SignAssertion = "assertion"
	// SignBoth: the Assertion and the Response are each signed.
	SignBoth = "both"
)

// defaultSign is the sign mode of a preset when sign is not set:
//   - aws: assertion. AWS sign-in accepts a Response whose Response or
//     Assertion is signed; one signature is half the signing cost of two.
//   - builtin: assertion. The built-in STS verifies the signature of the
//     Response or of the Assertion, each against the same keys.
//   - any other provider: both, which every SP accepts whatever it
//     requires (some check only the Response's signature, some only the
//     Assertion's).
func defaultSign(preset string) string {
	switch preset {
	case PresetAWS, PresetBuiltin:
		return SignAssertion
	}
	return SignBoth
}

// validSign reports whether mode is a sign mode.
func validSign(mode string) bool {
	return mode == SignResponse || mode == SignAssertion || mode == SignBoth
}

// makeResponse builds req.ResponseEl for the provider's sign mode. With
// SignBoth it leaves req alone: crewjam signs both in PostBinding.
func makeResponse(req *saml.IdpAuthnRequest, mode string, rand io.Reader) error {
	if mode == SignBoth || req.Assertion == nil {
		return nil
	}
	if req.ACSEndpoint == nil {
		return errors.New("sso: response without an assertion consumer service")
	}
	switch {
	case mode == SignAssertion || encryptsAssertion(req):
		// Signed, and encrypted when the provider publishes an
		// encryption key.
		if err := req.MakeAssertionEl(); err != nil {
			return err
		}
	default:
		req.AssertionEl = req.Assertion.Element()
	}
	id := make([]byte, 20)
	if _, err := io.ReadFull(rand, id); err != nil {
		return fmt.Errorf("random: %w", err)
	}
	response := &saml.Response{
		Destination:  req.ACSEndpoint.Location,
		ID:           "id-" + hex.EncodeToString(id),
		InResponseTo: req.Request.ID,
		IssueInstant: req.Now,
		Version:      "2.0",
		Issuer:       &saml.Issuer{Format: entityFormat, Value: req.IDP.MetadataURL.String()},
		Status:       saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
	}
	responseEl := response.Element()
	responseEl.AddChild(req.AssertionEl)
	if mode == SignResponse {
		sc, err := signingContext(req.IDP)
		if err != nil {
			return err
		}
		signed, err := sc.SignEnveloped(responseEl)
		if err != nil {
			return fmt.Errorf("sign the response: %w", err)
		}
		children := signed.ChildElements()
		response.Signature = children[len(children)-1]
		responseEl = response.Element()
		responseEl.AddChild(req.AssertionEl)
	}
	req.ResponseEl = responseEl
	return nil
}

// signingContext signs as crewjam's IdentityProvider does: its key and
// certificate, its signature method, exclusive C14N with no prefix list.
func signingContext(idp *saml.IdentityProvider) (*dsig.SigningContext, error) {
	signer := idp.Signer
	if signer == nil {
		s, ok := idp.Key.(crypto.Signer)
		if !ok || s == nil {
			return nil, errors.New("sso: no signing key")
		}
		signer = s
	}
	if idp.Certificate == nil {
		return nil, errors.New("sso: no signing certificate")
	}
	sc, err := dsig.NewSigningContext(signer, [][]byte{idp.Certificate.Raw})
	if err != nil {
		return nil, err
	}
	sc.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := sc.SetSignatureMethod(idp.SignatureMethod); err != nil {
		return nil, err
	}
	return sc, nil
}

// encryptsAssertion: crewjam encrypts the assertion for this provider (its
// metadata has a key for encryption, or one without a use).
func encryptsAssertion(req *saml.IdpAuthnRequest) bool {
	if req.SPSSODescriptor == nil {
		return false
	}
	for _, kd := range req.SPSSODescriptor.KeyDescriptors {
		if kd.Use != "encryption" && kd.Use != "" {
			continue
		}
		for _, c := range kd.KeyInfo.X509Data.X509Certificates {
			if strings.TrimSpace(c.Data) != "" {
				return true
			}
		}
	}
	return false
}
