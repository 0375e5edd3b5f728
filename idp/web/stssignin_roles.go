package web

import (
	"errors"
	"fmt"
	"idpbridge/idp"
	"net/http"
	"strings"
	"unicode/utf8"

	"idpbridge/attributes"
	"idpbridge/idp/sts/samlverify"
)

// The sign-in endpoint reads the Role attribute of a SAMLResponse before
// the STS verifies it, to know whether the person must choose a role. The
// reading is samlverify.PeekRoles, the verifier's own strict reader. What
// it reads decides nothing: the STS verifies the whole response and checks
// the chosen pair against the Role attribute of what the signature covered.

// peekMaxShown is how many unusable Role values an error page lists.
const peekMaxShown = 5

// peekedRoles is what the Role attribute of an unverified response names:
// the role and SAML provider pairs in document order without duplicates,
// and the values that are not such a pair.
type peekedRoles struct {
	Roles    []attributes.Role
	Unusable []string
}

// has reports whether r is one of the peeked pairs.
func (p *peekedRoles) has(r attributes.Role) bool {
	for _, x := range p.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// peekRoles reads the Role attribute of samlResponse (base64; line breaks
// already removed), or says on an error page why it cannot be read.
func peekRoles(samlResponse string) (*peekedRoles, *signInRefusal) {
	p, err := samlverify.PeekRoles(samlResponse)
	if err != nil {
		return nil, peekRefusal(err)
	}
	out := &peekedRoles{}
	for _, v := range p.Roles {
		v = strings.TrimSpace(v)
		r, ok := parseRolePair(v)
		if !ok {
			out.Unusable = append(out.Unusable, v)
			continue
		}
		if !out.has(r) {
			out.Roles = append(out.Roles, r)
		}
	}
	return out, nil
}

// peekRefusal is the error page of a response the peek could not read.
func peekRefusal(err error) *signInRefusal {
	const title = "The SAML response cannot be read"
	var pe *samlverify.PeekError
	if !errors.As(err, &pe) {
		return &signInRefusal{status: http.StatusBadRequest, title: title,
			message: "The SAMLResponse could not be read.", reason: "peek: " + err.Error()}
	}
	ref := &signInRefusal{status: http.StatusBadRequest, title: title, reason: "peek: " + pe.Reason,
		details: []string{shorten(pe.Reason, 300)}}
	switch pe.Kind {
	case samlverify.PeekTooLong:
		ref.status = http.StatusRequestEntityTooLarge
		ref.message = fmt.Sprintf("The SAMLResponse is too large: at most %d characters are accepted.", samlverify.MaxEncodedLen)
	case samlverify.PeekNotBase64:
		ref.message = "The SAMLResponse is not base64-encoded."
	case samlverify.PeekNotUTF8:
		ref.message = "The SAMLResponse is not an XML document in UTF-8."
		ref.details = nil
	case samlverify.PeekNotResponse:
		ref.message = "The SAMLResponse is not a SAML 2.0 Response."
		ref.details = []string{"Its root element is " + shorten(pe.Root, 200) + "."}
	default:
		ref.message = "The SAMLResponse is not a well-formed SAML 2.0 Response of the shape the STS accepts."
	}
	return ref
}

// parseRolePair reads a Role attribute value: a role ARN and a SAML
// provider ARN separated by a comma, in either order.
func parseRolePair(v string) (attributes.Role, bool) {
	a, b, ok := samlverify.SplitRolePair(v)
	if !ok {
		return attributes.Role{}, false
	}
	switch {
	case idp.ValidRoleARN(a) == nil && idp.ValidSAMLProviderARN(b) == nil:
		return attributes.Role{RoleARN: a, ProviderARN: b}, true
	case idp.ValidRoleARN(b) == nil && idp.ValidSAMLProviderARN(a) == nil:
		return attributes.Role{RoleARN: b, ProviderARN: a}, true
	}
	return attributes.Role{}, false
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
