package sigv4

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
)

const upperHex = "0123456789ABCDEF"

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// uriEncode percent-encodes every byte of s outside A-Za-z0-9-_.~ with
// upper-case hex (a space becomes %20); with keepSlash, '/' is kept.
func uriEncode(s string, keepSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !unreserved(c) && !(keepSlash && c == '/') {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || keepSlash && c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

// canonicalURI is the escaped request path escaped once more, '/' kept, as
// the SDK signer does for every service but S3; "/" when empty. Dot segments
// and repeated slashes are kept as sent: the SDK does not normalize them.
func canonicalURI(r *http.Request) string {
	p := r.URL.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, true)
}

// canonicalQuery encodes every name and value of q, sorts the pairs by encoded
// name then encoded value and joins them; skip names a parameter left out.
func canonicalQuery(q map[string][]string, skip string) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if k == skip {
			continue
		}
		ek := uriEncode(k, false)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, uriEncode(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// lowerHeaders returns r's headers keyed by lower-case name, values of names
// differing only in case merged in map order of appearance.
func lowerHeaders(h http.Header) map[string][]string {
	m := make(map[string][]string, len(h))
	for k, vs := range h {
		lk := strings.ToLower(k)
		if old, ok := m[lk]; ok {
			m[lk] = append(append([]string(nil), old...), vs...)
			continue
		}
		m[lk] = vs
	}
	return m
}

// trimAll trims leading and trailing white space and collapses every run of
// spaces to one, as the SDK signer does to header values.
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// canonicalHeaders writes "name:value\n" for every signed name in order:
// host from r.Host, content-length from the header or r.ContentLength, the
// others from the request headers, multiple values joined with ','.
func canonicalHeaders(b *strings.Builder, r *http.Request, hdr map[string][]string, signed []string) {
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		switch vs := hdr[name]; {
		case name == "host":
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			b.WriteString(trimAll(host))
		case name == "content-length" && len(vs) == 0:
			if r.ContentLength >= 0 {
				b.WriteString(strconv.FormatInt(r.ContentLength, 10))
			}
		default:
			for i, v := range vs {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(trimAll(v))
			}
		}
		b.WriteByte('\n')
	}
}
