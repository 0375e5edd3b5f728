package samlverify

import (
	"fmt"
	"time"
)

// Namespaces of the elements a SAML response to the STS may contain.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	nsExcC14N   = "http://www.w3.org/2001/10/xml-exc-c14n#"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXML       = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS     = "http://www.w3.org/2000/xmlns/"
	nsXEnc      = "http://www.w3.org/2001/04/xmlenc#"
	nsXEnc11    = "http://www.w3.org/2009/xmlenc11#"
)

// rule says what one element may hold. Everything a rule does not allow
// is rejected: an unknown element, attribute or namespace anywhere in the
// response is an error, not something to skip. That closes the places
// signature-wrapping attacks hide a second Response, Assertion or
// Signature (Extensions, Advice, ds:Object, unknown children), and it
// makes every element the verifier reads occur where and as often as
// expected, so that no two readers of the document can pick different
// copies of it.
type rule struct {
	attrs    []string // unprefixed attributes allowed
	required []string // unprefixed attributes required
	times    []string // attributes holding an xs:dateTime in UTC
	ids      []string // attributes holding an xs:ID
	anyNS    bool     // namespace-qualified attributes allowed (saml:Attribute)
	xsi      bool     // xsi:type and xsi:nil allowed (saml:AttributeValue)
	text     bool     // text only: no child elements
	empty    bool     // no child elements and no text
	children []child
}

// child allows an element as a child of another, min to max times. A
// child may follow children of its own group or of earlier groups, so
// children of one group come in any order, and groups in order.
type child struct {
	space, local string
	min, max     int
	group        int
	rule         *rule
}

// responseRule is a Response with a plain Assertion (the oracle's
// profile). wireResponseRule, the reader's, also allows an
// EncryptedAssertion in its place (encrypted.go); verifyTree then requires
// exactly one of the two. assertionRule is the Assertion, for a decrypted
// one.
var responseRule, assertionRule, wireResponseRule = buildRules()

func buildRules() (response, assertion, wire *rule) {
	text := &rule{text: true}
	empty := &rule{empty: true}
	algorithm := func(children ...child) *rule {
		return &rule{attrs: []string{"Algorithm"}, required: []string{"Algorithm"}, children: children}
	}
	inclusive := child{nsExcC14N, "InclusiveNamespaces", 0, 1, 0, &rule{attrs: []string{"PrefixList"}, empty: true}}

	signature := &rule{attrs: []string{"Id"}, ids: []string{"Id"}, children: []child{
		{nsDSig, "SignedInfo", 1, 1, 0, &rule{attrs: []string{"Id"}, ids: []string{"Id"}, children: []child{
			{nsDSig, "CanonicalizationMethod", 1, 1, 0, algorithm(inclusive)},
			{nsDSig, "SignatureMethod", 1, 1, 1, &rule{attrs: []string{"Algorithm"}, required: []string{"Algorithm"}, empty: true}},
			{nsDSig, "Reference", 1, 1, 2, &rule{attrs: []string{"URI", "Id", "Type"}, required: []string{"URI"}, ids: []string{"Id"}, children: []child{
				{nsDSig, "Transforms", 1, 1, 0, &rule{children: []child{
					{nsDSig, "Transform", 1, 4, 0, algorithm(inclusive)},
				}}},
				{nsDSig, "DigestMethod", 1, 1, 1, &rule{attrs: []string{"Algorithm"}, required: []string{"Algorithm"}, empty: true}},
				{nsDSig, "DigestValue", 1, 1, 2, text},
			}}},
		}}},
		{nsDSig, "SignatureValue", 1, 1, 1, &rule{attrs: []string{"Id"}, ids: []string{"Id"}, text: true}},
		{nsDSig, "KeyInfo", 0, 1, 2, &rule{attrs: []string{"Id"}, ids: []string{"Id"}, children: []child{
			{nsDSig, "X509Data", 0, 1, 0, &rule{children: []child{
				{nsDSig, "X509Certificate", 1, 1, 0, text},
			}}},
			{nsDSig, "KeyValue", 0, 1, 0, &rule{children: []child{
				{nsDSig, "RSAKeyValue", 1, 1, 0, &rule{children: []child{
					{nsDSig, "Modulus", 1, 1, 0, text},
					{nsDSig, "Exponent", 1, 1, 1, text},
				}}},
			}}},
		}}},
	}}

	issuer := &rule{attrs: []string{"NameQualifier", "SPNameQualifier", "Format", "SPProvidedID"}, text: true}
	statusCode := &rule{attrs: []string{"Value"}, required: []string{"Value"}}
	statusCode.children = []child{{nsProtocol, "StatusCode", 0, 1, 0, statusCode}}

	assertion = &rule{
		attrs:    []string{"ID", "Version", "IssueInstant"},
		required: []string{"ID", "Version", "IssueInstant"},
		times:    []string{"IssueInstant"},
		ids:      []string{"ID"},
		children: []child{
			{nsAssertion, "Issuer", 1, 1, 0, issuer},
			{nsDSig, "Signature", 0, 1, 1, signature},
			{nsAssertion, "Subject", 0, 1, 2, &rule{children: []child{
				{nsAssertion, "NameID", 0, 1, 0, issuer},
				{nsAssertion, "SubjectConfirmation", 0, 8, 1, &rule{attrs: []string{"Method"}, required: []string{"Method"}, children: []child{
					{nsAssertion, "SubjectConfirmationData", 0, 1, 0, &rule{
						attrs: []string{"NotBefore", "NotOnOrAfter", "Recipient", "InResponseTo", "Address"},
						times: []string{"NotBefore", "NotOnOrAfter"},
						empty: true,
					}},
				}}},
			}}},
			{nsAssertion, "Conditions", 0, 1, 3, &rule{
				attrs: []string{"NotBefore", "NotOnOrAfter"},
				times: []string{"NotBefore", "NotOnOrAfter"},
				children: []child{
					{nsAssertion, "AudienceRestriction", 0, 8, 0, &rule{children: []child{
						{nsAssertion, "Audience", 1, 16, 0, text},
					}}},
					{nsAssertion, "OneTimeUse", 0, 1, 0, empty},
				},
			}},
			{nsAssertion, "AuthnStatement", 1, 1, 4, &rule{
				attrs:    []string{"AuthnInstant", "SessionIndex", "SessionNotOnOrAfter"},
				required: []string{"AuthnInstant"},
				times:    []string{"AuthnInstant", "SessionNotOnOrAfter"},
				children: []child{
					{nsAssertion, "SubjectLocality", 0, 1, 0, &rule{attrs: []string{"Address", "DNSName"}, empty: true}},
					{nsAssertion, "AuthnContext", 1, 1, 1, &rule{children: []child{
						{nsAssertion, "AuthnContextClassRef", 0, 1, 0, text},
						{nsAssertion, "AuthnContextDeclRef", 0, 1, 1, text},
						{nsAssertion, "AuthenticatingAuthority", 0, 4, 2, text},
					}}},
				},
			}},
			// ADFS writes the AttributeStatement before the AuthnStatement:
			// statements come in any order (same group).
			{nsAssertion, "AttributeStatement", 0, 1, 4, &rule{children: []child{
				{nsAssertion, "Attribute", 1, 256, 0, &rule{
					attrs:    []string{"Name", "NameFormat", "FriendlyName"},
					required: []string{"Name"},
					anyNS:    true,
					children: []child{
						{nsAssertion, "AttributeValue", 0, 256, 0, &rule{xsi: true, text: true}},
					},
				}},
			}}},
		},
	}

	response = &rule{
		attrs:    []string{"ID", "Version", "IssueInstant", "Destination", "InResponseTo", "Consent"},
		required: []string{"ID", "Version", "IssueInstant"},
		times:    []string{"IssueInstant"},
		ids:      []string{"ID"},
		children: []child{
			{nsAssertion, "Issuer", 0, 1, 0, issuer},
			{nsDSig, "Signature", 0, 1, 1, signature},
			{nsProtocol, "Status", 1, 1, 2, &rule{children: []child{
				{nsProtocol, "StatusCode", 1, 1, 0, statusCode},
				{nsProtocol, "StatusMessage", 0, 1, 1, text},
			}}},
			{nsAssertion, "Assertion", 1, 1, 3, assertion},
		},
	}
	wire = &rule{}
	*wire = *response
	wire.children = append([]child(nil), response.children...)
	wire.children[len(wire.children)-1].min = 0
	wire.children = append(wire.children, child{nsAssertion, "EncryptedAssertion", 0, 1, 3, encryptedAssertionRule(text)})
	return response, assertion, wire
}

// encryptedAssertionRule is saml:EncryptedAssertion as XML Encryption
// writes it: one EncryptedData whose key is an EncryptedKey inside its
// KeyInfo or beside it (then possibly named by a RetrievalMethod). Key
// material is only ever read from CipherValue; X509Data and KeyName may be
// present but choose nothing (the keys come from configuration).
func encryptedAssertionRule(text *rule) *rule {
	empty := func(required ...string) *rule {
		return &rule{attrs: required, required: required, empty: true}
	}
	cipherData := &rule{children: []child{{nsXEnc, "CipherValue", 1, 1, 0, text}}}
	keyKeyInfo := &rule{attrs: []string{"Id"}, ids: []string{"Id"}, children: []child{
		{nsDSig, "KeyName", 0, 1, 0, text},
		{nsDSig, "X509Data", 0, 1, 0, &rule{children: []child{
			{nsDSig, "X509Certificate", 0, 1, 0, text},
			{nsDSig, "X509IssuerSerial", 0, 1, 0, &rule{children: []child{
				{nsDSig, "X509IssuerName", 1, 1, 0, text},
				{nsDSig, "X509SerialNumber", 1, 1, 1, text},
			}}},
			{nsDSig, "X509SubjectName", 0, 1, 0, text},
			{nsDSig, "X509SKI", 0, 1, 0, text},
		}}},
	}}
	encryptedKey := &rule{
		attrs: []string{"Id", "Type", "MimeType", "Encoding", "Recipient"},
		ids:   []string{"Id"},
		children: []child{
			{nsXEnc, "EncryptionMethod", 1, 1, 0, &rule{attrs: []string{"Algorithm"}, required: []string{"Algorithm"}, children: []child{
				{nsXEnc, "KeySize", 0, 1, 0, text},
				{nsXEnc, "OAEPparams", 0, 1, 0, text},
				{nsDSig, "DigestMethod", 0, 1, 0, empty("Algorithm")},
				{nsXEnc11, "MGF", 0, 1, 0, empty("Algorithm")},
			}}},
			{nsDSig, "KeyInfo", 0, 1, 1, keyKeyInfo},
			{nsXEnc, "CipherData", 1, 1, 2, cipherData},
			{nsXEnc, "ReferenceList", 0, 1, 3, &rule{children: []child{
				{nsXEnc, "DataReference", 1, 1, 0, empty("URI")},
			}}},
			{nsXEnc, "CarriedKeyName", 0, 1, 4, text},
		},
	}
	encryptedData := &rule{
		attrs: []string{"Id", "Type", "MimeType", "Encoding"},
		ids:   []string{"Id"},
		children: []child{
			{nsXEnc, "EncryptionMethod", 1, 1, 0, &rule{attrs: []string{"Algorithm"}, required: []string{"Algorithm"}, children: []child{
				{nsXEnc, "KeySize", 0, 1, 0, text},
			}}},
			{nsDSig, "KeyInfo", 0, 1, 1, &rule{attrs: []string{"Id"}, ids: []string{"Id"}, children: []child{
				{nsXEnc, "EncryptedKey", 0, 1, 0, encryptedKey},
				{nsDSig, "RetrievalMethod", 0, 1, 0, &rule{attrs: []string{"URI", "Type"}, required: []string{"URI"}, empty: true}},
				{nsDSig, "KeyName", 0, 1, 0, text},
			}}},
			{nsXEnc, "CipherData", 1, 1, 2, cipherData},
		},
	}
	return &rule{children: []child{
		{nsXEnc, "EncryptedData", 1, 1, 0, encryptedData},
		{nsXEnc, "EncryptedKey", 0, 1, 1, encryptedKey},
	}}
}

func findChild(children []child, ns, local string) int {
	for i, c := range children {
		if c.space == ns && c.local == local {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// isUTCDateTime reports whether s is an xs:dateTime in UTC, as saml-core
// §1.3.3 requires ("MUST be expressed in UTC form, with no time zone
// component"): YYYY-MM-DDThh:mm:ss, an optional fraction of 1 to 9
// digits, and Z.
func isUTCDateTime(s string) bool {
	const layout = "0000-00-00T00:00:00"
	if len(s) < len(layout)+1 || s[len(s)-1] != 'Z' {
		return false
	}
	for i := 0; i < len(layout); i++ {
		if layout[i] == '0' && (s[i] < '0' || s[i] > '9') || layout[i] != '0' && s[i] != layout[i] {
			return false
		}
	}
	frac := s[len(layout) : len(s)-1]
	if frac == "" {
		return true
	}
	if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
		return false
	}
	for i := 1; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false
		}
	}
	return true
}

func parseTime(s string) (time.Time, error) {
	if !isUTCDateTime(s) {
		return time.Time{}, fmt.Errorf("%q is not a UTC xs:dateTime", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}
