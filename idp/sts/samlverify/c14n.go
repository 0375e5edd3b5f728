package samlverify

import "strings"

// Exclusive XML canonicalization without comments (xml-exc-c14n, W3C
// 2002) of a subtree of the strict reader's tree. The bytes are those
// goxmldsig produces for the same element (TestCanonicalMatchesGoxmldsig)
// on everything the reader accepts.

type c14n struct {
	buf       []byte
	skip      *xnode   // the enveloped Signature, left out
	inclusive []string // InclusiveNamespaces PrefixList
}

// rendered is a namespace binding written on an output ancestor.
type rendered struct {
	prefix, uri string
	next        *rendered
}

func (r *rendered) lookup(prefix string) (string, bool) {
	for ; r != nil; r = r.next {
		if r.prefix == prefix {
			return r.uri, true
		}
	}
	return "", false
}

// canonicalize returns the exclusive canonical form of n, without skip.
func canonicalize(n, skip *xnode, prefixList string, buf []byte) []byte {
	c := c14n{buf: buf[:0], skip: skip}
	if prefixList != "" {
		c.inclusive = strings.Fields(prefixList)
	}
	c.element(n, nil)
	return c.buf
}

func (c *c14n) element(n *xnode, out *rendered) {
	// Namespace declarations to write: visibly utilized prefixes (the
	// element's, its prefixed attributes') and the inclusive ones in
	// scope, whose binding the output ancestors did not already write.
	var decls [8]xdecl
	nd := c.consider(decls[:0], n, out, n.prefix)
	for i := range n.attrs {
		if n.attrs[i].prefix != "" {
			nd = c.consider(nd, n, out, n.attrs[i].prefix)
		}
	}
	for _, p := range c.inclusive {
		nd = c.consider(nd, n, out, p)
	}
	for i := 1; i < len(nd); i++ { // by prefix, the default ("") first
		for j := i; j > 0 && nd[j].prefix < nd[j-1].prefix; j-- {
			nd[j], nd[j-1] = nd[j-1], nd[j]
		}
	}
	for _, d := range nd {
		out = &rendered{d.prefix, d.uri, out}
	}

	c.buf = append(c.buf, '<')
	c.name(n.prefix, n.local)
	for _, d := range nd {
		if d.prefix == "" {
			c.buf = append(c.buf, " xmlns=\""...)
		} else {
			c.buf = append(c.buf, " xmlns:"...)
			c.buf = append(c.buf, d.prefix...)
			c.buf = append(c.buf, "=\""...)
		}
		c.attrValue(d.uri)
		c.buf = append(c.buf, '"')
	}
	c.attributes(n)
	c.buf = append(c.buf, '>')
	for i, k := range n.kids {
		c.text(n.texts[i])
		if k == c.skip {
			continue
		}
		c.element(k, out)
	}
	c.text(n.texts[len(n.texts)-1])
	c.buf = append(c.buf, "</"...)
	c.name(n.prefix, n.local)
	c.buf = append(c.buf, '>')
}

// consider adds to nd the declaration of prefix n must write: when the
// prefix is in scope and the output ancestors did not write its binding.
func (c *c14n) consider(nd []xdecl, n *xnode, out *rendered, prefix string) []xdecl {
	for _, d := range nd {
		if d.prefix == prefix {
			return nd
		}
	}
	uri, ok := n.scope.lookup(prefix)
	if !ok {
		return nd // an inclusive prefix not in scope
	}
	if have, ok := out.lookup(prefix); ok && have == uri || !ok && prefix == "" && uri == "" {
		return nd
	}
	return append(nd, xdecl{prefix, uri})
}

func (c *c14n) name(prefix, local string) {
	if prefix != "" {
		c.buf = append(c.buf, prefix...)
		c.buf = append(c.buf, ':')
	}
	c.buf = append(c.buf, local...)
}

// attributes writes n's attributes: unprefixed ones by name, then the
// prefixed ones (all in one namespace, the reader makes sure) by name.
func (c *c14n) attributes(n *xnode) {
	if len(n.attrs) == 0 {
		return
	}
	var idx [MaxAttrs]int
	order := idx[:len(n.attrs)]
	for i := range order {
		order[i] = i
	}
	less := func(i, j int) bool {
		a, b := &n.attrs[i], &n.attrs[j]
		if (a.prefix == "") != (b.prefix == "") {
			return a.prefix == ""
		}
		return a.local < b.local
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(order[j], order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, i := range order {
		a := &n.attrs[i]
		c.buf = append(c.buf, ' ')
		c.name(a.prefix, a.local)
		c.buf = append(c.buf, "=\""...)
		c.attrValue(a.value)
		c.buf = append(c.buf, '"')
	}
}

func (c *c14n) attrValue(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		c.buf = append(c.buf, s[last:i]...)
		c.buf = append(c.buf, esc...)
		last = i + 1
	}
	c.buf = append(c.buf, s[last:]...)
}

func (c *c14n) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		c.buf = append(c.buf, s[last:i]...)
		c.buf = append(c.buf, esc...)
		last = i + 1
	}
	c.buf = append(c.buf, s[last:]...)
}
