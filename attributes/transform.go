package attributes

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"idpbridge/idp"
)

// A Transform rewrites one attribute value. Transforms of a rule run in the
// order listed. The zero Transform is invalid (Validate reports it); build one
// by decoding YAML or with Lowercase, Uppercase, StripDomain, Regex or Truncate.
//
// YAML forms:
//
//	transforms:
//	  - lowercase                                 # Unicode lower case
//	  - uppercase                                 # Unicode upper case
//	  - strip_domain                              # "diego@example.com" -> "diego", `CORP\diego` -> "diego"
//	  - {regex: '^(\w+)\.(\w+)$', replace: '$1$2'} # Go regexp; every match replaced, $1/${name} expanded
//	  - {truncate: 32}                            # keep the first 32 characters (runes)
type Transform struct {
	op      transformOp
	re      *regexp.Regexp
	replace string
	n       int
}

type transformOp int

const (
	opInvalid transformOp = iota
	opLowercase
	opUppercase
	opStripDomain
	opRegex
	opTruncate
)

const knownTransforms = "lowercase, uppercase, strip_domain, {regex: ..., replace: ...} or {truncate: N}"

// Lowercase returns the transform that maps a value to Unicode lower case.
func Lowercase() Transform { return Transform{op: opLowercase} }

// Uppercase returns the transform that maps a value to Unicode upper case.
func Uppercase() Transform { return Transform{op: opUppercase} }

// StripDomain returns the transform that drops a domain: for `DOMAIN\user`
// everything up to and including the first backslash, and for "user@domain"
// everything from the first '@'. A value with neither is unchanged.
func StripDomain() Transform { return Transform{op: opStripDomain} }

// Regex returns the transform that replaces every match of the Go regular
// expression pattern with replace, in which $1, ${1} and ${name} expand to
// submatches as in regexp.Regexp.Expand (write ${1}x, not $1x). A value the
// pattern does not match is unchanged. The error reports an invalid pattern.
func Regex(pattern, replace string) (Transform, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return Transform{}, fmt.Errorf("invalid regular expression: %w", err)
	}
	return Transform{op: opRegex, re: re, replace: replace}, nil
}

// Truncate returns the transform that keeps the first n runes of a value. The
// error reports n < 1.
func Truncate(n int) (Transform, error) {
	if n < 1 {
		return Transform{}, fmt.Errorf("truncate needs a length of at least 1, not %d", n)
	}
	return Transform{op: opTruncate, n: n}, nil
}

// Apply returns s transformed. The zero Transform returns s unchanged.
func (t Transform) Apply(s string) string {
	switch t.op {
	case opLowercase:
		return strings.ToLower(s)
	case opUppercase:
		return strings.ToUpper(s)
	case opStripDomain:
		if _, user, ok := strings.Cut(s, `\`); ok {
			s = user
		}
		if user, _, ok := strings.Cut(s, "@"); ok {
			s = user
		}
		return s
	case opRegex:
		return t.re.ReplaceAllString(s, t.replace)
	case opTruncate:
		count := 0
		for i := range s {
			if count == t.n {
				return s[:i]
			}
			count++
		}
		return s
	}
	return s
}

// String names the transform as a person reads it in a message:
// "lowercase", "regex '^a$' -> 'b'", "truncate 32".
func (t Transform) String() string {
	switch t.op {
	case opLowercase:
		return "lowercase"
	case opUppercase:
		return "uppercase"
	case opStripDomain:
		return "strip_domain"
	case opRegex:
		return "regex " + idp.Quote(t.re.String()) + " -> " + idp.Quote(t.replace)
	case opTruncate:
		return "truncate " + strconv.Itoa(t.n)
	}
	return "invalid transform"
}

// valid reports whether t was built by a constructor or decoded.
func (t Transform) valid() bool { return t.op != opInvalid }

// UnmarshalYAML decodes one transform in any of the forms shown on Transform.
// Errors are *yaml.TypeError, so that a decoder reports every bad transform of
// a document with its line, not only the first; an unknown transform is named.
func (t *Transform) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf("line %d: ", n.Line) + fmt.Sprintf(format, args...)
		return &yaml.TypeError{Errors: []string{msg}}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Value {
		case "lowercase":
			*t = Lowercase()
		case "uppercase":
			*t = Uppercase()
		case "strip_domain":
			*t = StripDomain()
		case "regex", "truncate":
			return fail("transform %q needs arguments: write {regex: '...', replace: '...'} or {truncate: N}", n.Value)
		default:
			return fail("unknown transform %q (known: %s)", n.Value, knownTransforms)
		}
		return nil
	case yaml.MappingNode:
		args := map[string]*yaml.Node{}
		var order []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if _, dup := args[k]; dup {
				return fail("transform key %q given twice", k)
			}
			args[k] = v
			order = append(order, k)
		}
		switch {
		case args["regex"] != nil:
			for _, k := range order {
				if k != "regex" && k != "replace" {
					return fail("unknown key %q in regex transform (want regex and replace)", k)
				}
			}
			pattern, replace := args["regex"], args["replace"]
			if pattern.Kind != yaml.ScalarNode {
				return fail("regex transform: regex must be a string")
			}
			if replace == nil {
				return fail("regex transform %q needs replace (write replace: '' to delete the matches)", pattern.Value)
			}
			if replace.Kind != yaml.ScalarNode {
				return fail("regex transform: replace must be a string")
			}
			r, err := Regex(pattern.Value, replace.Value)
			if err != nil {
				return fail("regex transform %q: %v", pattern.Value, err)
			}
			*t = r
			return nil
		case args["truncate"] != nil:
			if len(order) != 1 {
				return fail("truncate transform takes only truncate: N (found %s)", strings.Join(order, ", "))
			}
			v := args["truncate"]
			var size int
			if v.Kind != yaml.ScalarNode || v.Decode(&size) != nil {
				return fail("truncate transform needs a whole number of characters, not %q", v.Value)
			}
			tr, err := Truncate(size)
			if err != nil {
				return fail("%v", err)
			}
			*t = tr
			return nil
		case len(order) == 0:
			return fail("empty transform (known: %s)", knownTransforms)
		default:
			return fail("unknown transform %q (known: %s)", order[0], knownTransforms)
		}
	}
	return fail("a transform is a name or a mapping (known: %s)", knownTransforms)
}

// MarshalYAML encodes the transform in the form UnmarshalYAML reads.
func (t Transform) MarshalYAML() (any, error) {
	switch t.op {
	case opLowercase, opUppercase, opStripDomain:
		return t.String(), nil
	case opRegex:
		return map[string]string{"regex": t.re.String(), "replace": t.replace}, nil
	case opTruncate:
		return map[string]int{"truncate": t.n}, nil
	}
	return nil, errors.New("cannot encode an invalid transform")
}

// applyAll runs ts over s in order.
func applyAll(ts []Transform, s string) string {
	for _, t := range ts {
		s = t.Apply(s)
	}
	return s
}

// describe lists ts for a message: "lowercase, strip_domain".
func describe(ts []Transform) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}
