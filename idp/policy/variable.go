package policy

import (
	"errors"
	"strings"
)

type partKind uint8

const (
	partText    partKind = iota // policy text; '*' and '?' are wildcards in glob operators
	partLiteral                 // an escape (${*}, ${?}, ${$}); never a wildcard
	partVar                     // ${key} or ${key, 'default'}
)

type part struct {
	kind   partKind
	text   string // text, literal, or the folded variable key
	def    string
	hasDef bool
}

// template is a policy value (a Resource or a condition value) split into
// text, escapes and policy variables.
type template struct {
	parts   []part
	hasVars bool
}

// parseTemplate splits s into parts. Variables are recognised only when
// vars is true (Version 2012-10-17); otherwise s is plain text.
func parseTemplate(s string, vars bool) (template, error) {
	if !vars || !strings.Contains(s, "${") {
		return template{parts: []part{{kind: partText, text: s}}}, nil
	}
	var t template
	for s != "" {
		i := strings.Index(s, "${")
		if i < 0 {
			t.parts = append(t.parts, part{kind: partText, text: s})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{kind: partText, text: s[:i]})
		}
		p, rest, err := parseVariable(s[i+2:])
		if err != nil {
			return template{}, err
		}
		if p.kind == partVar {
			t.hasVars = true
		}
		t.parts = append(t.parts, p)
		s = rest
	}
	return t, nil
}

// parseVariable parses the body of a variable after "${" and returns the
// remaining text after the closing brace.
func parseVariable(s string) (part, string, error) {
	end := strings.IndexAny(s, ",}")
	if end < 0 {
		return part{}, "", errors.New("unterminated policy variable")
	}
	name := strings.TrimSpace(s[:end])
	if s[end] == '}' {
		switch name {
		case "*", "?", "$":
			return part{kind: partLiteral, text: name}, s[end+1:], nil
		}
	}
	if err := checkVariableName(name); err != nil {
		return part{}, "", err
	}
	p := part{kind: partVar, text: strings.ToLower(name)}
	if s[end] == '}' {
		return p, s[end+1:], nil
	}
	rest := strings.TrimLeft(s[end+1:], " ")
	if !strings.HasPrefix(rest, "'") {
		return part{}, "", errors.New("policy variable default must be in single quotes")
	}
	q := strings.IndexByte(rest[1:], '\'')
	if q < 0 {
		return part{}, "", errors.New("unterminated policy variable default")
	}
	p.def, p.hasDef = rest[1:1+q], true
	rest = strings.TrimLeft(rest[2+q:], " ")
	if !strings.HasPrefix(rest, "}") {
		return part{}, "", errors.New("unterminated policy variable")
	}
	return p, rest[1:], nil
}

func checkVariableName(name string) error {
	if name == "" {
		return errors.New("empty policy variable")
	}
	if strings.ContainsAny(name, " \t\r\n${}'*?") {
		return errors.New("invalid policy variable name " + quote(name))
	}
	return nil
}

// lookupVar resolves one variable: the key's only value, else the default
// when the key is absent. A multi-valued key never resolves.
func lookupVar(ctx Context, p part) (string, bool) {
	vals, ok := ctx.lookup(p.text)
	switch {
	case len(vals) == 1:
		return vals[0], true
	case (!ok || len(vals) == 0) && p.hasDef:
		return p.def, true
	}
	return "", false
}

// resolveString substitutes variables and escapes; wildcards stay as text.
func (t *template) resolveString(ctx Context) (string, bool) {
	if len(t.parts) == 1 && t.parts[0].kind != partVar {
		return t.parts[0].text, true
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.kind != partVar {
			b.WriteString(p.text)
			continue
		}
		v, ok := lookupVar(ctx, p)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

// resolveGlob substitutes variables; wildcards in policy text stay active,
// escapes and substituted values are literal.
func (t *template) resolveGlob(ctx Context) (glob, bool) {
	var g glob
	for _, p := range t.parts {
		switch p.kind {
		case partText:
			g = g.appendPattern(p.text)
		case partLiteral:
			g = g.appendLiteral(p.text)
		case partVar:
			v, ok := lookupVar(ctx, p)
			if !ok {
				return nil, false
			}
			g = g.appendLiteral(v)
		}
	}
	return g, true
}

// literalColons counts colons outside variables, for ARN shape checks.
func (t *template) literalColons() int {
	n := 0
	for _, p := range t.parts {
		if p.kind != partVar {
			n += strings.Count(p.text, ":")
		}
	}
	return n
}
