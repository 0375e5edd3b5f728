package samlverify

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/beevik/etree"
	"math/big"
	"strings"
)

// signaturePlan is what checkSignature found a Signature to be: the
// algorithm it claims and the pinned certificates that may have made it.
type signaturePlan struct {
	method     string
	candidates []*x509.Certificate
}

// checkSignature applies the strict profile to sig, a ds:Signature that
// checkShape accepted as a direct child of the element with ID parentID:
// exclusive canonicalization without comments, an accepted
// SignatureMethod, exactly one Reference to "#"+parentID with exactly the
// enveloped-signature and exclusive-c14n transforms, an accepted
// DigestMethod, and a KeyInfo (if any) that only selects among the pinned
// certificates. It reads nothing the signature would vouch for.
func checkSignature(sig *etree.Element, parentID string, pinned, usable []*x509.Certificate, why map[*x509.Certificate]string) (signaturePlan, error) {
	var plan signaturePlan
	si := childEl(sig, "SignedInfo")
	if c14n := attr(childEl(si, "CanonicalizationMethod"), "Algorithm"); c14n != algExcC14N {
		return plan, fmt.Errorf("CanonicalizationMethod %q", c14n)
	}
	plan.method = attr(childEl(si, "SignatureMethod"), "Algorithm")
	keyType, ok := signatureMethods[plan.method]
	if !ok {
		return plan, fmt.Errorf("SignatureMethod %q", plan.method)
	}
	ref := childEl(si, "Reference")
	if uri := attr(ref, "URI"); uri != "#"+parentID {
		return plan, fmt.Errorf("reference URI %q, not %q", uri, "#"+parentID)
	}
	transforms := childEls(childEl(ref, "Transforms"), "Transform")
	if len(transforms) != 2 || attr(transforms[0], "Algorithm") != algEnveloped || attr(transforms[1], "Algorithm") != algExcC14N {
		algs := make([]string, len(transforms))
		for i, t := range transforms {
			algs[i] = attr(t, "Algorithm")
		}
		return plan, fmt.Errorf("transforms %q, not enveloped-signature then exclusive c14n", algs)
	}
	digest := attr(childEl(ref, "DigestMethod"), "Algorithm")
	size, ok := digestSizes[digest]
	if !ok {
		return plan, fmt.Errorf("DigestMethod %q", digest)
	}
	if v, err := base64.StdEncoding.DecodeString(textOf(childEl(ref, "DigestValue"))); err != nil || len(v) != size {
		return plan, errors.New("DigestValue is not a digest of the declared algorithm")
	}
	if v, err := base64.StdEncoding.DecodeString(textOf(childEl(sig, "SignatureValue"))); err != nil || len(v) == 0 {
		return plan, errors.New("SignatureValue is not base64")
	}

	candidates, err := selectKey(childEl(sig, "KeyInfo"), pinned, usable, why)
	if err != nil {
		return plan, err
	}
	for _, c := range candidates {
		if c.PublicKeyAlgorithm == keyType {
			plan.candidates = append(plan.candidates, c)
		}
	}
	if len(plan.candidates) == 0 {
		return plan, fmt.Errorf("no usable pinned certificate has a key for %s", plan.method)
	}
	return plan, nil
}

// selectKey returns the usable pinned certificates KeyInfo may have
// chosen: all of them without KeyInfo; the one its X509Certificate or
// RSAKeyValue names, which must be pinned and usable. A key KeyInfo names
// is never trusted for itself.
func selectKey(keyInfo *etree.Element, pinned, usable []*x509.Certificate, why map[*x509.Certificate]string) ([]*x509.Certificate, error) {
	if keyInfo == nil {
		return usable, nil
	}
	var chosen *x509.Certificate
	if x509Data := childEl(keyInfo, "X509Data"); x509Data != nil {
		der, err := base64.StdEncoding.DecodeString(stripSpace(textOf(childEl(x509Data, "X509Certificate"))))
		if err != nil || len(der) == 0 {
			return nil, errors.New("KeyInfo X509Certificate is empty or not base64")
		}
		for _, c := range pinned {
			if c != nil && bytes.Equal(c.Raw, der) {
				chosen = c
				break
			}
		}
		if chosen == nil {
			return nil, errors.New("KeyInfo X509Certificate is not a pinned certificate of the provider")
		}
	}
	if keyValue := childEl(keyInfo, "KeyValue"); keyValue != nil {
		rsaKV := childEl(keyValue, "RSAKeyValue")
		n, errN := base64.StdEncoding.DecodeString(stripSpace(textOf(childEl(rsaKV, "Modulus"))))
		e, errE := base64.StdEncoding.DecodeString(stripSpace(textOf(childEl(rsaKV, "Exponent"))))
		if errN != nil || errE != nil {
			return nil, errors.New("KeyInfo RSAKeyValue is not base64")
		}
		var byValue *x509.Certificate
		for _, c := range pinned {
			if k, ok := c.PublicKey.(*rsa.PublicKey); ok && k.N.Cmp(new(big.Int).SetBytes(n)) == 0 && big.NewInt(int64(k.E)).Cmp(new(big.Int).SetBytes(e)) == 0 {
				byValue = c
				break
			}
		}
		if byValue == nil {
			return nil, errors.New("KeyInfo RSAKeyValue is not the key of a pinned certificate")
		}
		if chosen != nil && chosen != byValue {
			return nil, errors.New("KeyInfo X509Certificate and RSAKeyValue name different keys")
		}
		chosen = byValue
	}
	if chosen == nil {
		return usable, nil
	}
	if reason, bad := why[chosen]; bad {
		return nil, fmt.Errorf("KeyInfo names a pinned certificate that cannot be used: %s", reason)
	}
	return []*x509.Certificate{chosen}, nil
}

// childEl returns el's first child element named local, or nil. Use it
// only on elements checkShape accepted, where names are unambiguous.
func childEl(el *etree.Element, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, c := range el.ChildElements() {
		if c.Tag == local {
			return c
		}
	}
	return nil
}

func childEls(el *etree.Element, local string) []*etree.Element {
	if el == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local {
			out = append(out, c)
		}
	}
	return out
}

// attr returns the unprefixed attribute key of el, or "".
func attr(el *etree.Element, key string) string {
	if el == nil {
		return ""
	}
	if a := unprefixedAttr(el, key); a != nil {
		return a.Value
	}
	return ""
}

// textOf returns all the text of el, comments skipped: the whole of
// "victim@corp.test<!---->.evil.test", never the part before the comment.
func textOf(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var b strings.Builder
	for _, tok := range el.Child {
		if cd, ok := tok.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return b.String()
}
