package samlverify

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/beevik/etree"
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

var responseRule = buildRules()

func buildRules() *rule {
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

	assertion := &rule{
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

	return &rule{
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
}

// idPattern is what an ID must look like for a signature to reference it:
// goxmldsig's pattern for a same-document reference, without the '#'.
var idPattern = regexp.MustCompile(`^[a-zA-Z_][\w.-]*$`)

// prefixPattern: namespace prefixes start with a lower-case letter.
// encoding/xml reads a declaration xmlns:Name="..." as an attribute named
// Name, which a field tagged `xml:"Name,attr"` would take; SAML and
// XML-DSig attribute names all start with an upper-case letter.
var prefixPattern = regexp.MustCompile(`^[a-z][A-Za-z0-9._-]*$`)

// checkShape walks the whole document against responseRule.
func checkShape(root *etree.Element) error {
	w := walker{ids: map[string]bool{}}
	space, err := w.enter(root, scope{})
	if err != nil {
		return err
	}
	ns, err := space.resolve(root.Space)
	if err != nil {
		return err
	}
	if ns != nsProtocol || root.Tag != "Response" {
		return fmt.Errorf("root element is {%s}%s, not a samlp:Response", ns, root.Tag)
	}
	return w.walk(root, space, responseRule)
}

// scope maps namespace prefixes ("" for the default) to namespaces.
type scope map[string]string

func (s scope) resolve(prefix string) (string, error) {
	if prefix == "xml" {
		return nsXML, nil
	}
	ns, ok := s[prefix]
	if !ok && prefix != "" {
		return "", fmt.Errorf("undeclared namespace prefix %q", prefix)
	}
	return ns, nil
}

type walker struct {
	ids      map[string]bool
	elements int
}

// enter returns the scope inside el, after its namespace declarations.
func (w *walker) enter(el *etree.Element, outer scope) (scope, error) {
	inner, copied := outer, false
	for _, a := range el.Attr {
		var prefix string
		switch {
		case a.Space == "xmlns":
			prefix = a.Key
			if prefix == "xml" || prefix == "xmlns" {
				return nil, fmt.Errorf("declaration of the reserved prefix %q", prefix)
			}
			if !prefixPattern.MatchString(prefix) {
				return nil, fmt.Errorf("namespace prefix %q", prefix)
			}
			if a.Value == "" {
				return nil, fmt.Errorf("prefix %q declared with an empty namespace", prefix)
			}
		case a.Space == "" && a.Key == "xmlns":
			prefix = ""
		default:
			continue
		}
		if a.Value == nsXML || a.Value == nsXMLNS {
			return nil, fmt.Errorf("prefix %q bound to a reserved namespace", prefix)
		}
		if !copied {
			inner, copied = make(scope, len(outer)+2), true
			for k, v := range outer {
				inner[k] = v
			}
		}
		inner[prefix] = a.Value
	}
	return inner, nil
}

// walk checks el (already known to be the element r describes) and,
// recursively, its children.
func (w *walker) walk(el *etree.Element, sc scope, r *rule) error {
	w.elements++
	if w.elements > MaxElements {
		return fmt.Errorf("too many elements")
	}
	name := el.Tag
	if err := w.checkAttrs(el, sc, r); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	counts := make([]int, len(r.children))
	group := 0
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if !r.text && strings.TrimSpace(t.Data) != "" {
				return fmt.Errorf("%s: unexpected text", name)
			}
		case *etree.Comment:
		case *etree.Element:
			if r.text || r.empty {
				return fmt.Errorf("%s: unexpected child element %s", name, t.Tag)
			}
			csc, err := w.enter(t, sc)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Tag, err)
			}
			ns, err := csc.resolve(t.Space)
			if err != nil {
				return fmt.Errorf("%s: %w", t.Tag, err)
			}
			i := findChild(r.children, ns, t.Tag)
			if i < 0 {
				return fmt.Errorf("%s: unexpected element {%s}%s", name, ns, t.Tag)
			}
			c := r.children[i]
			if c.group < group {
				return fmt.Errorf("%s: element %s out of order", name, t.Tag)
			}
			group = c.group
			counts[i]++
			if counts[i] > c.max {
				return fmt.Errorf("%s: more than %d %s", name, c.max, t.Tag)
			}
			if err := w.walk(t, csc, c.rule); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected %T", name, tok)
		}
	}
	for i, c := range r.children {
		if counts[i] < c.min {
			return fmt.Errorf("%s: missing %s", name, c.local)
		}
	}
	return nil
}

func findChild(children []child, ns, local string) int {
	for i, c := range children {
		if c.space == ns && c.local == local {
			return i
		}
	}
	return -1
}

func (w *walker) checkAttrs(el *etree.Element, sc scope, r *rule) error {
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns", a.Space == "" && a.Key == "xmlns":
			continue
		case a.Space == "":
			if !contains(r.attrs, a.Key) {
				return fmt.Errorf("unexpected attribute %s", a.Key)
			}
		default:
			ns, err := sc.resolve(a.Space)
			if err != nil {
				return err
			}
			switch {
			case r.xsi && ns == nsXSI && (a.Key == "type" || a.Key == "nil"):
			case r.anyNS && ns != nsXML && ns != nsXSI && !contains(r.attrs, a.Key):
			default:
				return fmt.Errorf("unexpected attribute {%s}%s", ns, a.Key)
			}
		}
	}
	for _, k := range r.required {
		if unprefixedAttr(el, k) == nil {
			return fmt.Errorf("missing attribute %s", k)
		}
	}
	for _, k := range r.times {
		if a := unprefixedAttr(el, k); a != nil {
			if _, err := parseTime(a.Value); err != nil {
				return fmt.Errorf("attribute %s: %w", k, err)
			}
		}
	}
	for _, k := range r.ids {
		a := unprefixedAttr(el, k)
		if a == nil {
			continue
		}
		if !idPattern.MatchString(a.Value) {
			return fmt.Errorf("attribute %s %q is not an ID", k, a.Value)
		}
		if w.ids[a.Value] {
			return fmt.Errorf("ID %q appears twice", a.Value)
		}
		w.ids[a.Value] = true
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// unprefixedAttr returns el's attribute named key with no namespace, or nil.
func unprefixedAttr(el *etree.Element, key string) *etree.Attr {
	for i, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return &el.Attr[i]
		}
	}
	return nil
}

// timePattern is an xs:dateTime in UTC, as saml-core §1.3.3 requires
// ("MUST be expressed in UTC form, with no time zone component").
var timePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`)

func parseTime(s string) (time.Time, error) {
	if !timePattern.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not a UTC xs:dateTime", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}
