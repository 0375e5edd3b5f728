package sso

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
)

// Encrypted assertions. A service provider whose metadata publishes a key
// for encryption (a KeyDescriptor with use="encryption", or with no use),
// or that is given one with encryption_cert, gets its assertion signed and
// then encrypted into a saml:EncryptedAssertion: AES-256-GCM content
// encryption and XML Encryption 1.1 RSA-OAEP key transport (xmlenc11#rsa-oaep)
// with SHA-1 as its digest and MGF1 hash. gosaml2 reads only the
// non-standard xmldsig#sha256 URI for an OAEP digest and uses the digest
// for MGF1 as well, so SHA-1 (the XML Encryption default, which OAEP's
// security does not rest on collision resistance for) is what gosaml2,
// crewjam/saml, xmlsec1 1.3 and Shibboleth all decrypt.
// The Assertion keeps its signature inside; with sign: response the
// Response signature covers the EncryptedAssertion. encrypt: false sends
// the assertion in the clear whatever the metadata says.

// MinEncryptionKeyBits is the smallest RSA key assertions are encrypted to.
const MinEncryptionKeyBits = 2048

// assertionEncrypter is the encrypter of every encrypted assertion.
func assertionEncrypter() xmlenc.Encrypter {
	e := xmlenc.OAEP_SHA256()
	e.DigestMethod = &xmlenc.SHA1
	e.BlockCipher = xmlenc.AES256GCM
	return e
}

// isPEM reports whether an encryption_cert value is the certificate itself
// rather than a file name.
func isPEM(s string) bool { return strings.Contains(s, "-----BEGIN") }

// parseEncryptionCert reads an encryption_cert: a PEM certificate with an
// RSA key of at least MinEncryptionKeyBits.
func parseEncryptionCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("the certificate's key is not RSA (assertions are encrypted with RSA-OAEP)")
	}
	if bits := pub.N.BitLen(); bits < MinEncryptionKeyBits {
		return nil, fmt.Errorf("RSA key of %d bits, at least %d", bits, MinEncryptionKeyBits)
	}
	return cert, nil
}

// loadEncryptionCert reads r's encryption_cert, inline or from its file.
func loadEncryptionCert(readFile func(string) ([]byte, error), r resolved) (*x509.Certificate, error) {
	if r.encryptionCert == "" {
		return nil, nil
	}
	data := []byte(r.encryptionCert)
	if !isPEM(r.encryptionCert) {
		var err error
		if data, err = readFile(r.encryptionCert); err != nil {
			return nil, fmt.Errorf("service provider %q: encryption_cert: %w", r.name, err)
		}
	}
	cert, err := parseEncryptionCert(data)
	if err != nil {
		return nil, fmt.Errorf("service provider %q: encryption_cert: %w", r.name, err)
	}
	return cert, nil
}

// forIdP is md as the IdP uses it to encrypt: with encrypt: false, no key
// for encryption (an unspecified-use key becomes a signing key only); with
// encryption_cert, that certificate first. md itself is not changed.
func (p *provider) forIdP(md *saml.EntityDescriptor) *saml.EntityDescriptor {
	if p.cfg.encrypt && p.encCert == nil {
		return md
	}
	out := *md
	out.SPSSODescriptors = make([]saml.SPSSODescriptor, len(md.SPSSODescriptors))
	for i, sp := range md.SPSSODescriptors {
		var kds []saml.KeyDescriptor
		if p.cfg.encrypt && p.encCert != nil {
			kd := saml.KeyDescriptor{Use: "encryption"}
			kd.KeyInfo.X509Data.X509Certificates = []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(p.encCert.Raw)}}
			kds = append(kds, kd)
		}
		for _, kd := range sp.KeyDescriptors {
			switch {
			case !p.cfg.encrypt && kd.Use == "encryption":
				continue
			case !p.cfg.encrypt && kd.Use == "":
				kd.Use = "signing"
			}
			kds = append(kds, kd)
		}
		sp.KeyDescriptors = kds
		out.SPSSODescriptors[i] = sp
	}
	return &out
}
