package samlverify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// Algorithms a signature may use (SECURITY.md, strict profile item 3).
const (
	algExcC14N    = "http://www.w3.org/2001/10/xml-exc-c14n#"
	algEnveloped  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	algRSASHA256  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	algRSASHA384  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
	algRSASHA512  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
	algECDSA256   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
	algECDSA384   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
	algECDSA512   = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512"
	algSHA256     = "http://www.w3.org/2001/04/xmlenc#sha256"
	algSHA384     = "http://www.w3.org/2001/04/xmldsig-more#sha384"
	algSHA512     = "http://www.w3.org/2001/04/xmlenc#sha512"
	minRSABits    = 2048
	maxRSABits    = 8192
	bearerMethod  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
)

// signatureMethods maps the accepted SignatureMethod algorithms to the key
// type they need.
var signatureMethods = map[string]x509.PublicKeyAlgorithm{
	algRSASHA256: x509.RSA, algRSASHA384: x509.RSA, algRSASHA512: x509.RSA,
	algECDSA256: x509.ECDSA, algECDSA384: x509.ECDSA, algECDSA512: x509.ECDSA,
}

// digestSizes maps the accepted DigestMethod algorithms to their size.
var digestSizes = map[string]int{algSHA256: 32, algSHA384: 48, algSHA512: 64}

// usableCerts returns the pinned certificates a signature may be made
// with at now: RSA keys of 2048 to 8192 bits and ECDSA keys on P-256,
// P-384 or P-521, within their validity period. why says, for logs, why
// each of the others is unusable.
func usableCerts(pinned []*x509.Certificate, now time.Time) (usable []*x509.Certificate, why map[*x509.Certificate]string) {
	why = map[*x509.Certificate]string{}
	for _, c := range pinned {
		if c == nil {
			continue
		}
		if reason := unusable(c, now); reason != "" {
			why[c] = reason
			continue
		}
		usable = append(usable, c)
	}
	return usable, why
}

func unusable(c *x509.Certificate, now time.Time) string {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return fmt.Sprintf("RSA key of %d bits", n)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return "ECDSA key on an unaccepted curve"
		}
	default:
		return fmt.Sprintf("%T key", c.PublicKey)
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return fmt.Sprintf("certificate valid from %s to %s only", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
	}
	return ""
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
