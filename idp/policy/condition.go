package policy

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"time"
)

type family uint8

const (
	famString family = iota
	famStringFold
	famStringLike
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

type comparison uint8

const (
	cmpEq comparison = iota
	cmpLT
	cmpLE
	cmpGT
	cmpGE
)

// operator describes one base condition operator by the positive test it
// performs; negated operators invert it.
type operator struct {
	family  family
	cmp     comparison
	negated bool
}

// operators is the closed set of base condition operators.
var operators = map[string]operator{
	"StringEquals":              {famString, cmpEq, false},
	"StringNotEquals":           {famString, cmpEq, true},
	"StringEqualsIgnoreCase":    {famStringFold, cmpEq, false},
	"StringNotEqualsIgnoreCase": {famStringFold, cmpEq, true},
	"StringLike":                {famStringLike, cmpEq, false},
	"StringNotLike":             {famStringLike, cmpEq, true},
	"NumericEquals":             {famNumeric, cmpEq, false},
	"NumericNotEquals":          {famNumeric, cmpEq, true},
	"NumericLessThan":           {famNumeric, cmpLT, false},
	"NumericLessThanEquals":     {famNumeric, cmpLE, false},
	"NumericGreaterThan":        {famNumeric, cmpGT, false},
	"NumericGreaterThanEquals":  {famNumeric, cmpGE, false},
	"DateEquals":                {famDate, cmpEq, false},
	"DateNotEquals":             {famDate, cmpEq, true},
	"DateLessThan":              {famDate, cmpLT, false},
	"DateLessThanEquals":        {famDate, cmpLE, false},
	"DateGreaterThan":           {famDate, cmpGT, false},
	"DateGreaterThanEquals":     {famDate, cmpGE, false},
	"Bool":                      {famBool, cmpEq, false},
	"BinaryEquals":              {famBinary, cmpEq, false},
	"IpAddress":                 {famIP, cmpEq, false},
	"NotIpAddress":              {famIP, cmpEq, true},
	"ArnEquals":                 {famARN, cmpEq, false},
	"ArnLike":                   {famARN, cmpEq, false},
	"ArnNotEquals":              {famARN, cmpEq, true},
	"ArnNotLike":                {famARN, cmpEq, true},
	"Null":                      {famNull, cmpEq, false},
}

// splitOperator parses "ForAnyValue:StringLikeIfExists" into its parts.
func splitOperator(s string) (Condition, operator, error) {
	c := Condition{Operator: s}
	rest := s
	if r, ok := strings.CutPrefix(rest, "ForAnyValue:"); ok {
		c.Set, rest = ForAnyValue, r
	} else if r, ok := strings.CutPrefix(rest, "ForAllValues:"); ok {
		c.Set, rest = ForAllValues, r
	}
	op, ok := operators[rest]
	if !ok {
		if base, cut := strings.CutSuffix(rest, "IfExists"); cut {
			if op, ok = operators[base]; ok {
				c.IfExists, rest = true, base
			}
		}
	}
	if !ok {
		return c, op, errors.New("unknown operator " + quote(s))
	}
	c.Type = rest
	if op.family == famNull && (c.IfExists || c.Set != SetNone) {
		return c, op, errors.New("operator " + quote(s) + ": Null takes neither IfExists nor a set prefix")
	}
	return c, op, nil
}

func parseConditions(i int, v *jsonValue) ([]Condition, error) {
	if v.kind != jsonObject {
		return nil, stmtErr(i, "Condition", "must be an object, not %s", v.kind)
	}
	if len(v.members) == 0 {
		return nil, stmtErr(i, "Condition", "empty object")
	}
	var out []Condition
	seenOp := map[string]bool{}
	for _, m := range v.members {
		if seenOp[m.key] {
			return nil, stmtErr(i, "Condition", "duplicate operator %s", quote(m.key))
		}
		seenOp[m.key] = true
		base, _, err := splitOperator(m.key)
		if err != nil {
			return nil, stmtErr(i, "Condition", "%s", err.Error())
		}
		if m.value.kind != jsonObject {
			return nil, stmtErr(i, "Condition", "%s: must be an object of condition keys, not %s", m.key, m.value.kind)
		}
		if len(m.value.members) == 0 {
			return nil, stmtErr(i, "Condition", "%s: empty object", m.key)
		}
		seenKey := map[string]bool{}
		for _, k := range m.value.members {
			folded := strings.ToLower(k.key)
			if seenKey[folded] {
				return nil, stmtErr(i, "Condition", "%s: duplicate key %s", m.key, quote(k.key))
			}
			seenKey[folded] = true
			if !validConditionKey(k.key) {
				return nil, stmtErr(i, "Condition", "%s: invalid condition key %s", m.key, quote(k.key))
			}
			vals, err := conditionValues(&k.value)
			if err != nil {
				return nil, stmtErr(i, "Condition", "%s %s: %s", m.key, quote(k.key), err.Error())
			}
			c := base
			c.Key, c.Values = k.key, vals
			out = append(out, c)
		}
	}
	return out, nil
}

// validConditionKey accepts "prefix:name" with both parts non-empty and no
// white space or control characters.
func validConditionKey(k string) bool {
	prefix, name, ok := strings.Cut(k, ":")
	if !ok || prefix == "" || name == "" {
		return false
	}
	for _, r := range k {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// conditionValues reads a scalar or a non-empty array of scalars; numbers
// and booleans become their JSON text.
func conditionValues(v *jsonValue) ([]string, error) {
	if s, ok := v.scalarText(); ok {
		return []string{s}, nil
	}
	if v.kind != jsonArray {
		return nil, errors.New("value must be a string, number, boolean or an array of them, not " + v.kind.String())
	}
	if len(v.items) == 0 {
		return nil, errors.New("empty array")
	}
	out := make([]string, 0, len(v.items))
	for _, it := range v.items {
		s, ok := it.scalarText()
		if !ok {
			return nil, errors.New("array items must be strings, numbers or booleans, not " + it.kind.String())
		}
		out = append(out, s)
	}
	return out, nil
}

// compiledCondition is a Condition ready to evaluate.
type compiledCondition struct {
	op       operator
	set      SetOperator
	ifExists bool
	key      string // folded
	values   []compiledValue
	nullWant []bool // Null: the wanted absence for each value
}

// compiledValue is one policy value, pre-parsed for its operator family
// unless it contains policy variables (then tmpl is resolved per request).
type compiledValue struct {
	dynamic bool
	tmpl    template
	str     string
	glob    glob
	arn     *[6]glob
	num     decimal
	date    time.Time
	bool    bool
	bin     []byte
	prefix  netip.Prefix
}

func compileCondition(c *Condition, vars bool) (compiledCondition, error) {
	_, op, err := splitOperator(c.Operator)
	if err != nil {
		return compiledCondition{}, err
	}
	cc := compiledCondition{op: op, set: c.Set, ifExists: c.IfExists, key: strings.ToLower(c.Key)}
	if op.family == famNull {
		for _, v := range c.Values {
			b, ok := parseBool(v)
			if !ok {
				return cc, errors.New("invalid Null value " + quote(v) + ": want true or false")
			}
			cc.nullWant = append(cc.nullWant, b)
		}
		return cc, nil
	}
	for _, v := range c.Values {
		t, err := parseTemplate(v, vars)
		if err != nil {
			return cc, errors.New(quote(v) + ": " + err.Error())
		}
		var cv compiledValue
		if t.hasVars {
			cv = compiledValue{dynamic: true, tmpl: t}
		} else {
			var ok bool
			cv, ok = op.family.compileStatic(&t)
			if !ok {
				return cc, errors.New("invalid " + op.family.valueName() + " " + quote(v))
			}
		}
		cc.values = append(cc.values, cv)
	}
	return cc, nil
}

func (f family) valueName() string {
	switch f {
	case famNumeric:
		return "number"
	case famDate:
		return "date"
	case famBool:
		return "boolean"
	case famBinary:
		return "base64 value"
	case famIP:
		return "IP address or CIDR block"
	case famARN:
		return "ARN"
	}
	return "value"
}

// compileStatic parses a variable-free template (or a resolved one) for the
// family. ok is false when the value is invalid for the operator.
func (f family) compileStatic(t *template) (compiledValue, bool) {
	var cv compiledValue
	switch f {
	case famStringLike:
		g, _ := t.resolveGlob(nil)
		cv.glob = g
		return cv, true
	case famARN:
		g, _ := t.resolveGlob(nil)
		parts, ok := g.splitARN()
		if !ok {
			return cv, false
		}
		cv.arn = &parts
		return cv, true
	}
	s, _ := t.resolveString(nil)
	return f.compileString(s)
}

// compileString parses a fully resolved value of a non-glob family.
func (f family) compileString(s string) (compiledValue, bool) {
	cv := compiledValue{str: s}
	ok := true
	switch f {
	case famNumeric:
		cv.num, ok = parseDecimal(s)
	case famDate:
		cv.date, ok = parseDate(s)
	case famBool:
		cv.bool, ok = parseBool(s)
	case famBinary:
		cv.bin, ok = parseBase64(s)
	case famIP:
		var err error
		cv.prefix, err = parsePrefix(s)
		ok = err == nil
	}
	return cv, ok
}

// resolve returns the value to compare against for this request; ok is
// false when a variable is unresolved or the substituted value is invalid
// for the operator, and then the value matches nothing.
func (cv *compiledValue) resolve(f family, ctx Context) (*compiledValue, bool) {
	if !cv.dynamic {
		return cv, true
	}
	switch f {
	case famStringLike:
		g, ok := cv.tmpl.resolveGlob(ctx)
		if !ok {
			return nil, false
		}
		return &compiledValue{glob: g}, true
	case famARN:
		g, ok := cv.tmpl.resolveGlob(ctx)
		if !ok {
			return nil, false
		}
		parts, ok := g.splitARN()
		if !ok {
			return nil, false
		}
		return &compiledValue{arn: &parts}, true
	}
	s, ok := cv.tmpl.resolveString(ctx)
	if !ok {
		return nil, false
	}
	r, ok := f.compileString(s)
	if !ok {
		return nil, false
	}
	return &r, true
}

// requestValue is one request value parsed once for the family.
type requestValue struct {
	raw  string
	ok   bool // parsed successfully for the family
	num  decimal
	date time.Time
	bool bool
	bin  []byte
	addr netip.Addr
}

func parseRequestValue(f family, s string) requestValue {
	rv := requestValue{raw: s, ok: true}
	switch f {
	case famNumeric:
		rv.num, rv.ok = parseDecimal(s)
	case famDate:
		rv.date, rv.ok = parseDate(s)
	case famBool:
		rv.bool, rv.ok = parseBool(s)
	case famBinary:
		rv.bin, rv.ok = parseBase64(s)
	case famIP:
		rv.addr, rv.ok = parseRequestAddr(s)
	}
	return rv
}

// positive reports whether one request value matches one policy value under
// the positive form of the operator.
func (op operator) positive(rv *requestValue, pv *compiledValue) bool {
	if !rv.ok {
		return false
	}
	switch op.family {
	case famString:
		return rv.raw == pv.str
	case famStringFold:
		return strings.EqualFold(rv.raw, pv.str)
	case famStringLike:
		return pv.glob.match(rv.raw, false)
	case famNumeric:
		return op.cmp.holds(rv.num.cmp(pv.num))
	case famDate:
		return op.cmp.holds(rv.date.Compare(pv.date))
	case famBool:
		return rv.bool == pv.bool
	case famBinary:
		return bytes.Equal(rv.bin, pv.bin)
	case famIP:
		return pv.prefix.Contains(rv.addr)
	case famARN:
		return matchARN(pv.arn, rv.raw)
	}
	return false
}

func (c comparison) holds(r int) bool {
	switch c {
	case cmpEq:
		return r == 0
	case cmpLT:
		return r < 0
	case cmpLE:
		return r <= 0
	case cmpGT:
		return r > 0
	case cmpGE:
		return r >= 0
	}
	return false
}

// matchesAny reports whether the request value matches any policy value
// under the positive form of the operator.
func (cc *compiledCondition) matchesAny(rv *requestValue, ctx Context) bool {
	for i := range cc.values {
		pv, ok := cc.values[i].resolve(cc.op.family, ctx)
		if ok && cc.op.positive(rv, pv) {
			return true
		}
	}
	return false
}

// eval evaluates the condition against the request context; see Condition
// for the semantics.
func (cc *compiledCondition) eval(ctx Context) bool {
	vals, _ := ctx.lookup(cc.key)
	present := len(vals) > 0
	if cc.op.family == famNull {
		for _, want := range cc.nullWant {
			if want != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case cc.ifExists:
			return true
		case cc.set == ForAllValues:
			return true
		case cc.set == ForAnyValue:
			return false
		}
		return cc.op.negated
	}
	switch cc.set {
	case ForAnyValue:
		for _, v := range vals {
			rv := parseRequestValue(cc.op.family, v)
			if cc.matchesAny(&rv, ctx) != cc.op.negated {
				return true
			}
		}
		return false
	case ForAllValues:
		for _, v := range vals {
			rv := parseRequestValue(cc.op.family, v)
			if cc.matchesAny(&rv, ctx) == cc.op.negated {
				return false
			}
		}
		return true
	}
	any := false
	for _, v := range vals {
		rv := parseRequestValue(cc.op.family, v)
		if cc.matchesAny(&rv, ctx) {
			any = true
			break
		}
	}
	return any != cc.op.negated
}
