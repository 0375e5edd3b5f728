package samlverify

import (
	"encoding/base64"
)

// Limits on a SAML response, checked before anything parses it into a tree.
const (
	// MaxEncodedLen is the longest SAMLAssertion parameter AWS accepts.
	MaxEncodedLen = 100000
	// MinEncodedLen is the shortest SAMLAssertion parameter AWS accepts.
	MinEncodedLen = 4
	// MaxDecodedLen bounds the decoded document (100,000 base64 characters
	// decode to at most 75,000 bytes).
	MaxDecodedLen = MaxEncodedLen / 4 * 3
	// MaxElements bounds the number of elements. goxmldsig canonicalizes
	// with a traversal budget of 1,000 nodes, so a larger signed element
	// could not be verified anyway; real responses have a few dozen.
	MaxElements = 1000
	// MaxDepth bounds element nesting; a SAML response nests 8 deep.
	MaxDepth = 16
	// MaxAttrs bounds the attributes (namespace declarations included) of
	// one element, and MaxNamespaces the declarations in scope at any
	// element: resolving and canonicalizing namespaces costs their product
	// with the number of elements.
	MaxAttrs      = 32
	MaxNamespaces = 32
)

// decode checks the length of the parameter and decodes it. Line breaks
// in the base64 text are ignored (some IdPs wrap it); nothing is ever
// inflated.
func decode(samlResponseB64 string) ([]byte, *Error) {
	switch {
	case len(samlResponseB64) > MaxEncodedLen:
		return nil, reject(CodeValidationError, MsgTooLong, "SAMLAssertion is %d characters long", len(samlResponseB64))
	case len(samlResponseB64) < MinEncodedLen:
		return nil, reject(CodeValidationError, MsgTooShort, "SAMLAssertion is %d characters long", len(samlResponseB64))
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(samlResponseB64)
	if err != nil {
		return nil, reject(CodeInvalidIdentityToken, MsgNotBase64, "base64: %v", err)
	}
	if len(raw) > MaxDecodedLen {
		return nil, invalid("decoded response is %d bytes, limit %d", len(raw), MaxDecodedLen)
	}
	return raw, nil
}
