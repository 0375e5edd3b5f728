package samlverify

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// RoleAttribute is the SAML attribute whose values name the role and SAML
// provider pairs a person may assume ("role ARN,provider ARN" in either
// order).
const RoleAttribute = "https://aws.amazon.com/SAML/Attributes/Role"

// Peek is what an unverified response says, read by the verifier's own
// strict reader (the same bounds, DOCTYPE / entity / processing
// instruction rules and element whitelist as Verify). Nothing in it is
// vouched for: it serves to ask the person which role to assume before
// the STS verifies the response, and the STS then checks the chosen pair
// against what the signature covered.
type Peek struct {
	// Issuer is the Assertion's Issuer.
	Issuer string
	// Destination is the Response's Destination, or "".
	Destination string
	// Roles are the values of the Role attribute (RoleAttribute) in
	// document order, exactly as Verify returns them in
	// Assertion.Attributes[RoleAttribute]; nil without a Role attribute.
	Roles []string
}

// PeekKind says what kind of problem a PeekError is.
type PeekKind int

// Kinds of PeekError.
const (
	// PeekTooLong: the parameter has more than MaxEncodedLen characters.
	PeekTooLong PeekKind = iota + 1
	// PeekNotBase64: the parameter is not (strict, padded) base64.
	PeekNotBase64
	// PeekNotUTF8: the decoded bytes are not UTF-8.
	PeekNotUTF8
	// PeekNotResponse: the root element is not a samlp:Response; Root
	// names it.
	PeekNotResponse
	// PeekMalformed: the document is not well-formed XML, exceeds the
	// reader's bounds, has a DOCTYPE, entity or processing instruction,
	// or has an element or attribute a response to the STS may not have.
	PeekMalformed
)

// PeekError says why PeekRoles could not read a response.
type PeekError struct {
	Kind PeekKind
	// Reason is the reader's reason, for a person or a log; it may quote
	// the response, shortened.
	Reason string
	// Root is the root element's name for PeekNotResponse: its local
	// name, prefixed with {namespace} when it has one.
	Root string
}

func (e *PeekError) Error() string { return "samlverify: peek: " + e.Reason }

// notResponseError is the reader's refusal of a root element other than
// samlp:Response.
type notResponseError struct{ space, local string }

func (e *notResponseError) Error() string {
	return fmt.Sprintf("root element is {%s}%s, not a samlp:Response", e.space, e.local)
}

// PeekRoles decodes the base64 SAMLResponse (line breaks ignored) and reads
// it with the verifier's strict reader, without checking any signature,
// time or audience, and returns the values of its Role attribute. The
// error is a *PeekError. It never panics: a panic in the reader is
// reported as PeekMalformed.
func PeekRoles(samlResponseB64 string) (p *Peek, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, &PeekError{Kind: PeekMalformed, Reason: fmt.Sprintf("panic: %v", r)}
		}
	}()
	raw, rej := decode(samlResponseB64)
	if rej != nil {
		kind := PeekNotBase64
		if rej.Message == MsgTooLong || len(samlResponseB64) > MaxEncodedLen {
			kind = PeekTooLong
		}
		return nil, &PeekError{Kind: kind, Reason: rej.Reason}
	}
	if !utf8.Valid(raw) {
		return nil, &PeekError{Kind: PeekNotUTF8, Reason: "not UTF-8"}
	}
	root, rerr := readStrict(raw)
	if rerr != nil {
		return nil, peekReadError(rerr)
	}
	if root == nil {
		return nil, &PeekError{Kind: PeekMalformed, Reason: "no root element"}
	}
	assertion := root.child("Assertion")
	out := &Peek{Issuer: assertion.child("Issuer").text(), Destination: root.attr("Destination")}
	for _, at := range assertion.child("AttributeStatement").children("Attribute") {
		if at.attr("Name") != RoleAttribute {
			continue
		}
		// Verify refuses a response that has the attribute twice; the
		// first is the one a person chooses from.
		out.Roles = make([]string, 0, len(at.kids))
		for _, v := range at.children("AttributeValue") {
			out.Roles = append(out.Roles, v.text())
		}
		break
	}
	return out, nil
}

// peekReadError classifies a refusal of the strict reader.
func peekReadError(err error) *PeekError {
	var nr *notResponseError
	if errors.As(err, &nr) {
		root := nr.local
		if nr.space != "" {
			root = "{" + nr.space + "}" + root
		}
		return &PeekError{Kind: PeekNotResponse, Reason: err.Error(), Root: root}
	}
	return &PeekError{Kind: PeekMalformed, Reason: err.Error()}
}

// SplitRolePair splits a Role attribute value at its first comma and trims
// white space around both halves, as the STS reads the pair it checks
// the chosen role against. ok is false without a comma. Which half is the
// role ARN is for the caller to decide (AWS accepts either order).
func SplitRolePair(v string) (first, second string, ok bool) {
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return "", "", false
	}
	return strings.TrimSpace(a), strings.TrimSpace(b), true
}
