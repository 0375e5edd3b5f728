package web

import (
	"net/url"
	"strings"
)

// maxNextBytes caps the continuation URL carried through sign-in.
const maxNextBytes = 4096

// safeNext returns next when it is a local path (with an optional query)
// that a browser cannot read as another site, and "" otherwise. Refused:
// absolute and scheme-relative URLs (https://evil, //evil, javascript:),
// backslashes (browsers read /\evil as //evil), control characters and
// spaces (browsers drop tabs and newlines: /<TAB>/evil), non-ASCII bytes,
// fragments, and anything over 4 KiB.
func safeNext(next string) string {
	if next == "" || len(next) > maxNextBytes || next[0] != '/' || strings.HasPrefix(next, "//") {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '#' {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return ""
	}
	return next
}
