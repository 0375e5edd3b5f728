package policy

import (
	"strings"
	"unicode/utf8"
)

type globKind uint8

const (
	globLiteral globKind = iota // text matches itself
	globStar                    // any run of characters, possibly empty
	globOne                     // exactly one character
)

type globElem struct {
	kind globKind
	text string
}

// glob is a compiled wildcard pattern. Literal elements never contain
// wildcards: a '*' or '?' in a literal element came from a policy-variable
// escape or a substituted value and matches only itself.
type glob []globElem

// appendLiteral adds text as a literal, merging with a preceding literal.
func (g glob) appendLiteral(text string) glob {
	if text == "" {
		return g
	}
	if n := len(g); n > 0 && g[n-1].kind == globLiteral {
		g[n-1].text += text
		return g
	}
	return append(g, globElem{kind: globLiteral, text: text})
}

// appendPattern adds policy text in which '*' and '?' are wildcards.
func (g glob) appendPattern(text string) glob {
	for text != "" {
		i := strings.IndexAny(text, "*?")
		if i < 0 {
			return g.appendLiteral(text)
		}
		g = g.appendLiteral(text[:i])
		if text[i] == '*' {
			if n := len(g); n == 0 || g[n-1].kind != globStar {
				g = append(g, globElem{kind: globStar})
			}
		} else {
			g = append(g, globElem{kind: globOne})
		}
		text = text[i+1:]
	}
	return g
}

// compileGlob compiles policy text in which '*' and '?' are wildcards.
func compileGlob(text string) glob { return glob(nil).appendPattern(text) }

// match reports whether s matches the whole pattern. With fold, literals
// compare under Unicode simple case folding. The algorithm backtracks only
// to the most recent star, so it runs in O(len(pattern)·len(s)).
func (g glob) match(s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for pi < len(g) || si < len(s) {
		if pi < len(g) {
			e := g[pi]
			switch e.kind {
			case globStar:
				starP, starS = pi, si
				pi++
				continue
			case globOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					pi++
					continue
				}
			case globLiteral:
				if n, ok := literalPrefix(s[si:], e.text, fold); ok {
					si += n
					pi++
					continue
				}
			}
		}
		if starP < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		pi, si = starP+1, starS
	}
	return true
}

// literalPrefix reports whether s begins with lit and how many bytes of s
// the match consumed (which can differ from len(lit) under folding).
func literalPrefix(s, lit string, fold bool) (int, bool) {
	if !fold {
		return len(lit), strings.HasPrefix(s, lit)
	}
	i := 0
	for _, lr := range lit {
		if i >= len(s) {
			return 0, false
		}
		sr, n := utf8.DecodeRuneInString(s[i:])
		if sr != lr && !strings.EqualFold(string(sr), string(lr)) {
			return 0, false
		}
		i += n
	}
	return i, true
}

// splitARN cuts a pattern into the six colon-separated ARN parts; the last
// part keeps its colons. Only literal colons separate parts.
func (g glob) splitARN() ([6]glob, bool) {
	var parts [6]glob
	p := 0
	for _, e := range g {
		if e.kind != globLiteral {
			parts[p] = append(parts[p], e)
			continue
		}
		text := e.text
		for p < 5 {
			i := strings.IndexByte(text, ':')
			if i < 0 {
				break
			}
			parts[p] = parts[p].appendLiteral(text[:i])
			text = text[i+1:]
			p++
		}
		parts[p] = parts[p].appendLiteral(text)
	}
	return parts, p == 5
}

// matchARN matches s part by part against an ARN pattern split by splitARN.
func matchARN(parts *[6]glob, s string) bool {
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return false
		}
		if !parts[i].match(s[:j], false) {
			return false
		}
		s = s[j+1:]
	}
	return parts[5].match(s, false)
}
