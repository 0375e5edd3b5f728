package web

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"idpbridge/attributes"
)

// The sign-in endpoint reads the Role attribute of a SAMLResponse before
// the STS verifies it, to know whether the person must choose a role. What
// it reads decides nothing: the STS verifies the whole response and checks
// the chosen pair against the Role attribute of what the signature covered.
// The peek only has to be cheap, bounded and never panic.

// Namespaces of a SAML 2.0 response.
const (
	samlProtocolNS  = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlAssertionNS = "urn:oasis:names:tc:SAML:2.0:assertion"
)

// Bounds of the peek. They only bound its cost; the STS's verifier has
// stricter ones (1,000 elements, 16 deep) and reports them itself.
const (
	peekMaxElements = 10000
	peekMaxDepth    = 64
	// peekMaxShown is how many unusable Role values an error page lists.
	peekMaxShown = 5
)

// peekError says why a SAMLResponse could not be read; Title, Message and
// Detail are shown to the person.
type peekError struct {
	Title   string
	Message string
	Detail  string
}

func (e *peekError) Error() string {
	if e.Detail != "" {
		return e.Message + ": " + e.Detail
	}
	return e.Message
}

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

// peekRoles decodes samlResponse (base64; line breaks already removed)
// and reads the values of every https://aws.amazon.com/SAML/Attributes/Role
// attribute in it. It refuses, with a *peekError naming the problem, text
// that is not base64, not UTF-8, not one well-formed XML element whose root
// is a SAML 2.0 Response, that has a DOCTYPE or processing instruction, or
// that exceeds the peek's bounds.
func peekRoles(samlResponse string) (*peekedRoles, *peekError) {
	raw, err := base64.StdEncoding.Strict().DecodeString(samlResponse)
	if err != nil {
		return nil, &peekError{Title: "The SAML response cannot be read",
			Message: "The SAMLResponse is not base64-encoded.", Detail: err.Error()}
	}
	if !utf8.Valid(raw) {
		return nil, &peekError{Title: "The SAML response cannot be read",
			Message: "The SAMLResponse is not an XML document in UTF-8."}
	}
	values, pe := roleValues(raw)
	if pe != nil {
		return nil, pe
	}
	out := &peekedRoles{}
	for _, v := range values {
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

// roleValues streams doc and returns the text of every AttributeValue of a
// Role attribute.
func roleValues(doc []byte) ([]string, *peekError) {
	notXML := func(detail string) *peekError {
		return &peekError{Title: "The SAML response cannot be read",
			Message: "The SAMLResponse is not a well-formed XML document.", Detail: detail}
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	// No CharsetReader: a declared encoding other than UTF-8 is an error.
	var (
		values    []string
		value     strings.Builder
		depth     int
		elements  int
		roots     int
		roleDepth int // depth of the open Role Attribute element, or 0
		valDepth  int // depth of the open AttributeValue of it, or 0
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, notXML(err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			elements++
			switch {
			case elements > peekMaxElements:
				return nil, notXML(fmt.Sprintf("it has more than %d elements", peekMaxElements))
			case depth > peekMaxDepth:
				return nil, notXML(fmt.Sprintf("its elements nest deeper than %d", peekMaxDepth))
			}
			if depth == 1 {
				roots++
				if roots > 1 {
					return nil, notXML("it has more than one root element")
				}
				if t.Name.Space != samlProtocolNS || t.Name.Local != "Response" {
					return nil, &peekError{Title: "The SAML response cannot be read",
						Message: "The SAMLResponse is not a SAML 2.0 Response.",
						Detail:  "Its root element is " + printableName(t.Name) + "."}
				}
			}
			switch {
			case roleDepth == 0 && t.Name.Space == samlAssertionNS && t.Name.Local == "Attribute" && attrValue(t, "Name") == attributes.AttrRole:
				roleDepth = depth
			case roleDepth != 0 && depth == roleDepth+1 && t.Name.Space == samlAssertionNS && t.Name.Local == "AttributeValue":
				valDepth = depth
				value.Reset()
			}
		case xml.EndElement:
			switch depth {
			case valDepth:
				values = append(values, strings.TrimSpace(value.String()))
				valDepth = 0
			case roleDepth:
				roleDepth = 0
			}
			depth--
		case xml.CharData:
			if valDepth != 0 && depth == valDepth {
				value.Write(t)
			}
		case xml.Directive:
			return nil, notXML("it has a DOCTYPE or another <!...> declaration, which a SAML response may not have")
		case xml.ProcInst:
			if t.Target != "xml" {
				return nil, notXML("it has a processing instruction, which a SAML response may not have")
			}
		}
	}
	if roots == 0 {
		return nil, notXML("it has no root element")
	}
	return values, nil
}

func attrValue(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// printableName is an element name for an error page, shortened.
func printableName(n xml.Name) string {
	s := n.Local
	if n.Space != "" {
		s = "{" + n.Space + "}" + s
	}
	return shorten(s, 200)
}

// parseRolePair reads a Role attribute value: a role ARN and a SAML
// provider ARN separated by a comma, in either order.
func parseRolePair(v string) (attributes.Role, bool) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return attributes.Role{}, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case attributes.ValidRoleARN(a) == nil && attributes.ValidSAMLProviderARN(b) == nil:
		return attributes.Role{RoleARN: a, ProviderARN: b}, true
	case attributes.ValidRoleARN(b) == nil && attributes.ValidSAMLProviderARN(a) == nil:
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
