package samlverify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The strict reader: one pass over the decoded bytes that enforces the
// bounds, the DOCTYPE / entity / processing-instruction / comment rules
// and the whitelist of shape.go while it reads, and builds a compact tree
// of the whitelisted SAML and XML-DSig elements only. Canonicalization,
// signature verification and the values the STS uses all come from this
// one tree (fastverify.go).
//
// It is stricter than encoding/xml where readers could disagree: element
// and attribute names are ASCII NCNames (prefix:local at most), attributes
// are separated by white space, attribute values hold no literal tab, line
// feed or carriage return (their normalization differs between XML
// processors; character references are fine), text holds no "]]>", no
// comment ends with "-", and an element's prefixed attributes are all in
// one namespace (goxmldsig orders attributes of different namespaces
// differently from XML C14N).

// xnode is one element of the tree.
type xnode struct {
	prefix, local, space string
	attrs                []xattr // attributes other than namespace declarations, as written
	decls                []xdecl // namespace declarations, as written
	kids                 []*xnode
	texts                []string // text before kids[0], between kids, after the last; comments removed
	parent               *xnode
	scope                *nsBinding // bindings in scope at this element (its own included)
}

type xattr struct{ prefix, local, space, value string }

type xdecl struct{ prefix, uri string }

// nsBinding is a linked list of namespace bindings, innermost first.
type nsBinding struct {
	prefix, uri string
	next        *nsBinding
}

func (b *nsBinding) lookup(prefix string) (string, bool) {
	for ; b != nil; b = b.next {
		if b.prefix == prefix {
			return b.uri, true
		}
	}
	return "", false
}

// attr returns the unprefixed attribute key of n, or "".
func (n *xnode) attr(key string) string {
	if n == nil {
		return ""
	}
	for i := range n.attrs {
		if n.attrs[i].prefix == "" && n.attrs[i].local == key {
			return n.attrs[i].value
		}
	}
	return ""
}

func (n *xnode) hasAttr(key string) bool {
	if n == nil {
		return false
	}
	for i := range n.attrs {
		if n.attrs[i].prefix == "" && n.attrs[i].local == key {
			return true
		}
	}
	return false
}

// child returns n's first child element named local (the whitelist makes
// names unambiguous), or nil.
func (n *xnode) child(local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.local == local {
			return k
		}
	}
	return nil
}

func (n *xnode) children(local string) []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.local == local {
			out = append(out, k)
		}
	}
	return out
}

// text is n's whole text, comments removed.
func (n *xnode) text() string {
	if n == nil {
		return ""
	}
	if len(n.texts) == 1 {
		return n.texts[0]
	}
	return strings.Join(n.texts, "")
}

// frame is an open element while reading.
type frame struct {
	n      *xnode
	qname  string
	r      *rule
	counts [16]int
	group  int
	ndecl  int
	text   string
}

type reader struct {
	s        string
	i        int
	stack    []frame
	root     *xnode
	elements int
	inScope  int
	ids      map[string]bool
	slab     []xnode
	// root is what the root element must be; outer the namespace
	// bindings in scope around it and depth0 its depth (a decrypted
	// Assertion read in the place of its EncryptedAssertion).
	root0  rootSpec
	outer  *nsBinding
	depth0 int
}

// rootSpec is the root element a reader accepts.
type rootSpec struct {
	space, local, name string
	rule               *rule
}

var responseRoot = rootSpec{nsProtocol, "Response", "samlp:Response", wireResponseRule}

var errEOF = errors.New("unexpected end of document")

// readStrict reads doc into a tree, or says why it does not fit the
// strict profile.
func readStrict(doc []byte) (*xnode, error) {
	return readRooted(doc, responseRoot, nil, 0, 0)
}

// readRooted reads doc whose root must be root, read as if in scope
// outer at depth depth0, after elements0 elements.
func readRooted(doc []byte, root rootSpec, outer *nsBinding, depth0, elements0 int) (*xnode, error) {
	if !utf8.Valid(doc) {
		return nil, errors.New("not UTF-8")
	}
	r := &reader{s: string(doc), ids: make(map[string]bool, 8), stack: make([]frame, 0, MaxDepth),
		root0: root, outer: outer, depth0: depth0, elements: elements0}
	if err := r.document(); err != nil {
		return nil, err
	}
	return r.root, nil
}

func (r *reader) document() error {
	if strings.HasPrefix(r.s, "<?xml") && len(r.s) > 5 && isSpace(r.s[5]) {
		if err := r.xmlDecl(); err != nil {
			return err
		}
	}
	for {
		r.skipSpace()
		if r.i >= len(r.s) {
			if r.root == nil {
				return errors.New("no root element")
			}
			return nil
		}
		if r.s[r.i] != '<' {
			return errors.New("text outside the root element")
		}
		switch {
		case strings.HasPrefix(r.s[r.i:], "<!--"):
			if _, err := r.comment(); err != nil {
				return err
			}
		case strings.HasPrefix(r.s[r.i:], "<!"):
			return errors.New("DOCTYPE or other directive")
		case strings.HasPrefix(r.s[r.i:], "<?"):
			return errors.New("processing instruction")
		default:
			if r.root != nil {
				return errors.New("more than one root element")
			}
			if err := r.element(); err != nil {
				return err
			}
		}
	}
}

// xmlDecl reads <?xml version="1.0" encoding="UTF-8" standalone="yes"?>.
func (r *reader) xmlDecl() error {
	end := strings.Index(r.s, "?>")
	if end < 0 {
		return errEOF
	}
	body := r.s[5:end]
	r.i = end + 2
	seen := 0
	for _, want := range []string{"version", "encoding", "standalone"} {
		body = strings.TrimLeft(body, " \t\r\n")
		if !strings.HasPrefix(body, want) {
			continue
		}
		rest := strings.TrimLeft(body[len(want):], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			return errors.New("malformed XML declaration")
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" || rest[0] != '"' && rest[0] != '\'' {
			return errors.New("malformed XML declaration")
		}
		q := strings.IndexByte(rest[1:], rest[0])
		if q < 0 {
			return errors.New("malformed XML declaration")
		}
		v := rest[1 : 1+q]
		body = rest[q+2:]
		switch want {
		case "version":
			if v != "1.0" {
				return fmt.Errorf("XML version %q", v)
			}
		case "encoding":
			if !strings.EqualFold(v, "utf-8") {
				return fmt.Errorf("encoding %q is not UTF-8", v)
			}
		case "standalone":
			if v != "yes" && v != "no" {
				return errors.New("malformed XML declaration")
			}
		}
		seen++
	}
	if strings.TrimLeft(body, " \t\r\n") != "" || seen == 0 {
		return errors.New("malformed XML declaration")
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (r *reader) skipSpace() {
	for r.i < len(r.s) && isSpace(r.s[r.i]) {
		r.i++
	}
}

// comment reads <!-- ... --> at r.i and returns its content.
func (r *reader) comment() (string, error) {
	start := r.i + 4
	end := strings.Index(r.s[start:], "--")
	if end < 0 {
		return "", errEOF
	}
	if !strings.HasPrefix(r.s[start+end:], "-->") {
		return "", errors.New(`"--" in a comment`)
	}
	c := r.s[start : start+end]
	if err := checkChars(c); err != nil {
		return "", err
	}
	r.i = start + end + 3
	return c, nil
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// isID is idPattern without the regular expression.
func isID(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// isPrefix is prefixPattern without the regular expression.
func isPrefix(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && isID(s)
}

func isNameChar(c byte) bool {
	return isNameStart(c) || c >= '0' && c <= '9' || c == '.' || c == '-'
}

// qname reads prefix:local or local at r.i.
func (r *reader) qname() (qname, prefix, local string, err error) {
	start := r.i
	ncname := func() (string, error) {
		s := r.i
		if r.i >= len(r.s) || !isNameStart(r.s[r.i]) {
			return "", errors.New("malformed name")
		}
		for r.i < len(r.s) && isNameChar(r.s[r.i]) {
			r.i++
		}
		return r.s[s:r.i], nil
	}
	first, err := ncname()
	if err != nil {
		return "", "", "", err
	}
	if r.i < len(r.s) && r.s[r.i] == ':' {
		r.i++
		second, err := ncname()
		if err != nil {
			return "", "", "", err
		}
		return r.s[start:r.i], first, second, nil
	}
	return first, "", first, nil
}

// element reads one element at r.i (its start tag, content and end tag).
func (r *reader) element() error {
	depth0 := len(r.stack)
	if err := r.startTag(); err != nil {
		return err
	}
	// Content until the element opened at depth0 closes.
	for len(r.stack) > depth0 {
		if r.i >= len(r.s) {
			return errEOF
		}
		if r.s[r.i] != '<' {
			if err := r.charData(); err != nil {
				return err
			}
			continue
		}
		rest := r.s[r.i:]
		switch {
		case strings.HasPrefix(rest, "</"):
			if err := r.endTag(); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<!--"):
			if _, err := r.comment(); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<![CDATA["):
			end := strings.Index(rest, "]]>")
			if end < 0 {
				return errEOF
			}
			data := rest[9:end]
			if err := checkChars(data); err != nil {
				return err
			}
			r.appendText(normalizeNewlines(data))
			r.i += end + 3
		case strings.HasPrefix(rest, "<!"):
			return errors.New("DOCTYPE or other directive")
		case strings.HasPrefix(rest, "<?"):
			return errors.New("processing instruction")
		default:
			if err := r.startTag(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *reader) top() *frame { return &r.stack[len(r.stack)-1] }

func (r *reader) appendText(t string) {
	f := r.top()
	if f.text == "" {
		f.text = t
		return
	}
	f.text += t
}

// charData reads text up to the next '<'.
func (r *reader) charData() error {
	end := strings.IndexByte(r.s[r.i:], '<')
	if end < 0 {
		return errEOF
	}
	raw := r.s[r.i : r.i+end]
	r.i += end
	if strings.Contains(raw, "]]>") {
		return errors.New(`"]]>" in text`)
	}
	t, err := unescape(raw, false)
	if err != nil {
		return err
	}
	r.appendText(t)
	return nil
}

func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unescape decodes the predefined entities and character references of
// raw text or attribute value, and checks every character is allowed. In
// an attribute value a literal tab, line feed or carriage return is an
// error; in text a carriage return (with a following line feed) is a line
// feed, as encoding/xml reads it.
func unescape(raw string, attr bool) (string, error) {
	if attr && strings.ContainsAny(raw, "\t\n\r") {
		return "", errors.New("literal tab or line break in an attribute value")
	}
	if strings.IndexByte(raw, '&') < 0 {
		if err := checkChars(raw); err != nil {
			return "", err
		}
		return normalizeNewlines(raw), nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '&' {
			j := strings.IndexByte(raw[i:], '&')
			if j < 0 {
				j = len(raw) - i
			}
			seg := raw[i : i+j]
			if err := checkChars(seg); err != nil {
				return "", err
			}
			b.WriteString(normalizeNewlines(seg))
			i += j
			continue
		}
		semi := strings.IndexByte(raw[i:], ';')
		if semi < 0 || semi > 12 {
			return "", errors.New("malformed entity reference")
		}
		name := raw[i+1 : i+semi]
		i += semi + 1
		switch name {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			if len(name) < 2 || name[0] != '#' {
				return "", fmt.Errorf("undeclared entity &%s;", name)
			}
			var v uint64
			var err error
			if name[1] == 'x' {
				v, err = strconv.ParseUint(name[2:], 16, 32)
			} else {
				v, err = strconv.ParseUint(name[1:], 10, 32)
			}
			if err != nil || !isXMLChar(rune(v)) || strings.ContainsAny(name[1:], "+-") {
				return "", fmt.Errorf("invalid character reference &%s;", name)
			}
			b.WriteRune(rune(v))
		}
	}
	return b.String(), nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// checkChars rejects characters XML does not allow (the input is valid
// UTF-8 already).
func checkChars(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return fmt.Errorf("illegal character code U+%04X", c)
		}
		if c >= 0x80 {
			r, w := utf8.DecodeRuneInString(s[i:])
			if !isXMLChar(r) {
				return fmt.Errorf("illegal character code U+%04X", r)
			}
			i += w - 1
		}
	}
	return nil
}

// startTag reads a start tag at r.i ('<' included), checks it against the
// whitelist, and opens the element (closing it at once if empty).
func (r *reader) startTag() error {
	r.i++ // '<'
	qn, prefix, local, err := r.qname()
	if err != nil {
		return err
	}
	r.elements++
	if r.elements > MaxElements {
		return errors.New("too many elements")
	}
	if r.depth0+len(r.stack)+1 > MaxDepth {
		return errors.New("elements nested too deep")
	}
	n := r.newNode()
	n.prefix, n.local = prefix, local
	nattrs := 0
	empty := false
	for {
		hadSpace := r.i < len(r.s) && isSpace(r.s[r.i])
		r.skipSpace()
		if r.i >= len(r.s) {
			return errEOF
		}
		if r.s[r.i] == '>' {
			r.i++
			break
		}
		if strings.HasPrefix(r.s[r.i:], "/>") {
			r.i += 2
			empty = true
			break
		}
		if !hadSpace {
			return errors.New("attributes not separated by white space")
		}
		aq, ap, al, err := r.qname()
		if err != nil {
			return err
		}
		r.skipSpace()
		if r.i >= len(r.s) || r.s[r.i] != '=' {
			return errors.New("attribute without value")
		}
		r.i++
		r.skipSpace()
		if r.i >= len(r.s) || r.s[r.i] != '"' && r.s[r.i] != '\'' {
			return errors.New("unquoted attribute value")
		}
		q := r.s[r.i]
		end := strings.IndexByte(r.s[r.i+1:], q)
		if end < 0 {
			return errEOF
		}
		rawv := r.s[r.i+1 : r.i+1+end]
		r.i += end + 2
		if strings.IndexByte(rawv, '<') >= 0 {
			return errors.New("unescaped < inside quoted string")
		}
		v, err := unescape(rawv, true)
		if err != nil {
			return err
		}
		nattrs++
		if nattrs > MaxAttrs {
			return errors.New("too many attributes on one element")
		}
		if n.writtenTwice(ap, al) {
			return errors.New("duplicate attribute " + aq)
		}
		switch {
		case ap == "xmlns":
			if al == "xml" || al == "xmlns" {
				return fmt.Errorf("declaration of the reserved prefix %q", al)
			}
			if !isPrefix(al) {
				return fmt.Errorf("namespace prefix %q", al)
			}
			if v == "" {
				return fmt.Errorf("prefix %q declared with an empty namespace", al)
			}
			if v == nsXML || v == nsXMLNS {
				return fmt.Errorf("prefix %q bound to a reserved namespace", al)
			}
			n.decls = append(n.decls, xdecl{al, v})
		case ap == "" && al == "xmlns":
			if v == nsXML || v == nsXMLNS {
				return errors.New(`prefix "" bound to a reserved namespace`)
			}
			n.decls = append(n.decls, xdecl{"", v})
		default:
			n.attrs = append(n.attrs, xattr{prefix: ap, local: al, value: v})
		}
	}

	var parent *frame
	outer := r.outer
	if len(r.stack) > 0 {
		parent = r.top()
		outer = parent.n.scope
	}
	n.scope = outer
	for _, d := range n.decls {
		n.scope = &nsBinding{d.prefix, d.uri, n.scope}
	}
	r.inScope += len(n.decls)
	if r.inScope > MaxNamespaces {
		return errors.New("too many namespace declarations in scope")
	}
	n.space, err = resolve(n.scope, prefix)
	if err != nil {
		return fmt.Errorf("%s: %w", local, err)
	}

	// Where it may stand.
	var rl *rule
	if parent == nil {
		if n.space != r.root0.space || local != r.root0.local {
			if r.root0.rule == wireResponseRule {
				return &notResponseError{n.space, local}
			}
			return fmt.Errorf("root element is {%s}%s, not a %s", n.space, local, r.root0.name)
		}
		rl = r.root0.rule
	} else {
		pr := parent.r
		name := parent.n.local
		if pr.text || pr.empty {
			return fmt.Errorf("%s: unexpected child element %s", name, local)
		}
		if !pr.text && strings.TrimSpace(parent.text) != "" {
			return fmt.Errorf("%s: unexpected text", name)
		}
		i := findChild(pr.children, n.space, local)
		if i < 0 {
			return fmt.Errorf("%s: unexpected element {%s}%s", name, n.space, local)
		}
		c := pr.children[i]
		if c.group < parent.group {
			return fmt.Errorf("%s: element %s out of order", name, local)
		}
		parent.group = c.group
		parent.counts[i]++
		if parent.counts[i] > c.max {
			return fmt.Errorf("%s: more than %d %s", name, c.max, local)
		}
		rl = c.rule
		n.parent = parent.n
		parent.n.texts = append(parent.n.texts, parent.text)
		parent.text = ""
		parent.n.kids = append(parent.n.kids, n)
	}
	if err := r.checkAttrs(n, rl); err != nil {
		return fmt.Errorf("%s: %w", local, err)
	}
	if parent == nil {
		r.root = n
	}
	r.stack = append(r.stack, frame{n: n, qname: qn, r: rl, ndecl: len(n.decls)})
	if empty {
		return r.close()
	}
	return nil
}

// writtenTwice reports whether n already has the attribute prefix:local
// (a namespace declaration included) as written.
func (n *xnode) writtenTwice(prefix, local string) bool {
	switch {
	case prefix == "xmlns":
		for _, d := range n.decls {
			if d.prefix == local {
				return true
			}
		}
	case prefix == "" && local == "xmlns":
		for _, d := range n.decls {
			if d.prefix == "" {
				return true
			}
		}
	default:
		for _, a := range n.attrs {
			if a.prefix == prefix && a.local == local {
				return true
			}
		}
	}
	return false
}

// newNode returns a node from a slab: one allocation per 32 elements.
func (r *reader) newNode() *xnode {
	if len(r.slab) == cap(r.slab) {
		r.slab = make([]xnode, 0, 32)
	}
	r.slab = r.slab[:len(r.slab)+1]
	return &r.slab[len(r.slab)-1]
}

// boundTwice reports whether more than one prefix in scope (the default
// included) is bound to ns.
func boundTwice(scope *nsBinding, ns string) bool {
	var first *nsBinding
	for b := scope; b != nil; b = b.next {
		if b.uri != ns {
			continue
		}
		if cur, _ := scope.lookup(b.prefix); cur != ns {
			continue // shadowed
		}
		if first != nil && first.prefix != b.prefix {
			return true
		}
		first = b
	}
	return false
}

func resolve(scope *nsBinding, prefix string) (string, error) {
	switch prefix {
	case "xml":
		return nsXML, nil
	case "xmlns":
		return "", errors.New(`the prefix "xmlns" on an element or attribute name`)
	}
	ns, ok := scope.lookup(prefix)
	if !ok && prefix != "" {
		return "", fmt.Errorf("undeclared namespace prefix %q", prefix)
	}
	return ns, nil
}

// checkAttrs is walker.checkAttrs on the tree.
func (r *reader) checkAttrs(n *xnode, rl *rule) error {
	qualifiedNS := ""
	for i := range n.attrs {
		a := &n.attrs[i]
		if a.prefix == "" {
			if !contains(rl.attrs, a.local) {
				return fmt.Errorf("unexpected attribute %s", a.local)
			}
			continue
		}
		ns, err := resolve(n.scope, a.prefix)
		if err != nil {
			return err
		}
		a.space = ns
		switch {
		case rl.xsi && ns == nsXSI && (a.local == "type" || a.local == "nil"):
		case rl.anyNS && ns != nsXML && ns != nsXSI && !contains(rl.attrs, a.local):
		default:
			return fmt.Errorf("unexpected attribute {%s}%s", ns, a.local)
		}
		if qualifiedNS != "" && qualifiedNS != ns {
			return errors.New("namespace-qualified attributes of more than one namespace")
		}
		if qualifiedNS == "" && boundTwice(n.scope, ns) {
			// encoding/xml, and so SAML libraries built on it, mangle
			// such an attribute (its round trip fails).
			return fmt.Errorf("namespace %q of attribute %s bound to more than one prefix", ns, a.local)
		}
		qualifiedNS = ns
		for _, b := range n.attrs[:i] {
			if b.prefix != "" && b.space == ns && b.local == a.local {
				return fmt.Errorf("duplicate attribute {%s}%s", ns, a.local)
			}
		}
	}
	for _, k := range rl.required {
		if !n.hasAttr(k) {
			return fmt.Errorf("missing attribute %s", k)
		}
	}
	for _, k := range rl.times {
		if n.hasAttr(k) {
			if _, err := parseTime(n.attr(k)); err != nil {
				return fmt.Errorf("attribute %s: %w", k, err)
			}
		}
	}
	for _, k := range rl.ids {
		if !n.hasAttr(k) {
			continue
		}
		v := n.attr(k)
		if !isID(v) {
			return fmt.Errorf("attribute %s %q is not an ID", k, v)
		}
		if r.ids[v] {
			return fmt.Errorf("ID %q appears twice", v)
		}
		r.ids[v] = true
	}
	return nil
}

// endTag reads </qname> at r.i and closes the open element.
func (r *reader) endTag() error {
	r.i += 2
	qn, _, _, err := r.qname()
	if err != nil {
		return err
	}
	r.skipSpace()
	if r.i >= len(r.s) || r.s[r.i] != '>' {
		return errors.New("malformed end tag")
	}
	r.i++
	if qn != r.top().qname {
		return errors.New("mismatched end element")
	}
	return r.close()
}

// close ends the innermost open element: its text, its required children.
func (r *reader) close() error {
	f := r.top()
	n, rl := f.n, f.r
	if !rl.text && strings.TrimSpace(f.text) != "" {
		return fmt.Errorf("%s: unexpected text", n.local)
	}
	n.texts = append(n.texts, f.text)
	for i, c := range rl.children {
		if f.counts[i] < c.min {
			return fmt.Errorf("%s: missing %s", n.local, c.local)
		}
	}
	r.inScope -= f.ndecl
	r.stack = r.stack[:len(r.stack)-1]
	return nil
}
