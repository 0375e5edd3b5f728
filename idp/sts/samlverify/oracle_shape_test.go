package samlverify

import (
	"fmt"
	"github.com/beevik/etree"
	"regexp"
	"strings"
)

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

// unprefixedAttr returns el's attribute named key with no namespace, or nil.
func unprefixedAttr(el *etree.Element, key string) *etree.Attr {
	for i, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return &el.Attr[i]
		}
	}
	return nil
}

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
