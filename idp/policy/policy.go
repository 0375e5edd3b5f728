package policy

import (
	"fmt"
	"strconv"
	"strings"
)

// Policy versions. Policy variables are substituted only under Version2012.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is one parsed IAM policy document. A Policy returned by Parse is
// immutable and safe for concurrent Evaluate calls; its fields describe the
// document and must not be modified.
type Policy struct {
	Version    string // "" when the document has no Version
	ID         string
	Statements []Statement

	compiled []compiledStatement // built by Parse from the fields above
}

// Statement is one element of the document's Statement list.
type Statement struct {
	Sid       string
	Effect    string // EffectAllow or EffectDeny
	Principal *PrincipalSet
	// NotPrincipal is refused by both validators but evaluated correctly.
	NotPrincipal *PrincipalSet
	Action       []string // exactly one of Action and NotAction is non-nil
	NotAction    []string
	Resource     []string // at most one of Resource and NotResource is non-nil
	NotResource  []string
	Conditions   []Condition // one per operator and key, in document order
	Index        int         // position in the document's Statement list, 0-based
}

// Effects.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// PrincipalSet is the value of a Principal or NotPrincipal element.
type PrincipalSet struct {
	Wildcard      bool     // the element was the string "*"
	AWS           []string // "*", 12-digit accounts, root, user, role and assumed-role ARNs
	Federated     []string // SAML or OIDC provider ARNs, or web identity provider names
	Service       []string // service principals such as "ec2.amazonaws.com"
	CanonicalUser []string // accepted for compatibility; matches no idpbridge principal
}

// SetOperator is the ForAnyValue:/ForAllValues: prefix of a condition operator.
type SetOperator int

// Set operators.
const (
	SetNone SetOperator = iota
	ForAnyValue
	ForAllValues
)

func (s SetOperator) String() string {
	switch s {
	case ForAnyValue:
		return "ForAnyValue"
	case ForAllValues:
		return "ForAllValues"
	}
	return ""
}

// Condition is one operator applied to one key.
//
// Semantics (AWS IAM, STS-SPEC §6): the values are ORed. A key that is
// absent, or present with no values, makes positive operators false,
// negated operators (String*Not*, NumericNotEquals, DateNotEquals,
// NotIpAddress, ArnNot*) true, and any IfExists operator true; Null "true"
// means absent and Null "false" present. ForAllValues: is true when every
// request value satisfies the operator (and for an absent key); ForAnyValue:
// when at least one does (false for an absent key). For a negated operator a
// request value satisfies it when it matches none of the policy values.
//
// Without a set prefix, a multi-valued key is treated as follows (AWS leaves
// this undocumented): a positive operator is true when any request value
// matches any policy value, and a negated operator is its exact negation,
// true only when no request value matches any policy value. For single
// values both readings agree.
//
// ArnEquals and ArnLike both match the six colon-separated ARN parts
// separately with '*' and '?' wildcards in each part, as the IAM User Guide
// documents for both operators; the last part keeps its colons.
type Condition struct {
	Operator string      // as written, e.g. "ForAllValues:StringEqualsIfExists"
	Type     string      // the base operator, e.g. "StringEquals"
	Set      SetOperator // the ForAnyValue:/ForAllValues: prefix, if any
	IfExists bool
	Key      string   // as written; matched case-insensitively
	Values   []string // JSON numbers and booleans converted to their text
}

// ParseError reports where and why a document was refused. Statement is the
// 0-based statement index, or -1 for the document's top level. Validators
// report their findings as *ParseError too.
type ParseError struct {
	Statement int
	Element   string
	Reason    string
}

func (e *ParseError) Error() string {
	var where string
	switch {
	case e.Statement >= 0 && e.Element != "":
		where = "Statement[" + strconv.Itoa(e.Statement) + "]." + e.Element
	case e.Statement >= 0:
		where = "Statement[" + strconv.Itoa(e.Statement) + "]"
	default:
		where = e.Element
	}
	if where == "" {
		return e.Reason
	}
	return where + ": " + e.Reason
}

func topErr(element, format string, args ...any) *ParseError {
	return &ParseError{Statement: -1, Element: element, Reason: fmt.Sprintf(format, args...)}
}

func stmtErr(i int, element, format string, args ...any) *ParseError {
	return &ParseError{Statement: i, Element: element, Reason: fmt.Sprintf(format, args...)}
}

func quote(s string) string { return strconv.Quote(s) }

// Parse parses one IAM policy document strictly. Every refusal is a
// *ParseError: a document larger than MaxDocumentSize, invalid JSON or
// UTF-8, nesting deeper than the grammar needs, unknown or duplicate
// elements, wrong types, empty arrays, an unknown Version or Effect, both or
// neither of Action/NotAction, both Resource and NotResource, malformed
// actions, resources or principals, unknown condition operators, and policy
// values the operator cannot interpret (a bad number, date, boolean, base64
// value, CIDR or ARN).
func Parse(doc []byte) (*Policy, error) {
	if len(doc) > MaxDocumentSize {
		return nil, topErr("", "policy document is larger than %d bytes", MaxDocumentSize)
	}
	root, err := readJSON(doc)
	if err != nil {
		return nil, topErr("", "%s", err.Error())
	}
	if root.kind != jsonObject {
		return nil, topErr("", "policy document must be a JSON object")
	}
	p := &Policy{}
	var stmts *jsonValue
	seen := map[string]bool{}
	for i := range root.members {
		m := &root.members[i]
		if seen[m.key] {
			return nil, topErr(m.key, "duplicate element")
		}
		seen[m.key] = true
		switch m.key {
		case "Version":
			if m.value.kind != jsonString {
				return nil, topErr("Version", "must be a string")
			}
			if m.value.text != Version2012 && m.value.text != Version2008 {
				return nil, topErr("Version", "unsupported version %s", quote(m.value.text))
			}
			p.Version = m.value.text
		case "Id":
			if m.value.kind != jsonString {
				return nil, topErr("Id", "must be a string")
			}
			p.ID = m.value.text
		case "Statement":
			stmts = &m.value
		default:
			return nil, topErr(m.key, "unknown element")
		}
	}
	if stmts == nil {
		return nil, topErr("Statement", "missing")
	}
	var list []jsonValue
	switch stmts.kind {
	case jsonObject:
		list = []jsonValue{*stmts}
	case jsonArray:
		if len(stmts.items) == 0 {
			return nil, topErr("Statement", "empty array")
		}
		list = stmts.items
	default:
		return nil, topErr("Statement", "must be an object or an array of objects")
	}
	vars := p.Version == Version2012
	sids := map[string]bool{}
	for i := range list {
		st, err := parseStatement(i, &list[i])
		if err != nil {
			return nil, err
		}
		if st.Sid != "" {
			if sids[st.Sid] {
				return nil, stmtErr(i, "Sid", "duplicate Sid %s", quote(st.Sid))
			}
			sids[st.Sid] = true
		}
		c, err := compileStatement(&st, vars)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
		p.compiled = append(p.compiled, c)
	}
	return p, nil
}

func parseStatement(i int, v *jsonValue) (Statement, error) {
	st := Statement{Index: i}
	if v.kind != jsonObject {
		return st, stmtErr(i, "", "statement must be an object")
	}
	seen := map[string]bool{}
	var cond *jsonValue
	for k := range v.members {
		m := &v.members[k]
		if seen[m.key] {
			return st, stmtErr(i, m.key, "duplicate element")
		}
		seen[m.key] = true
		var err error
		switch m.key {
		case "Sid":
			if m.value.kind != jsonString {
				return st, stmtErr(i, "Sid", "must be a string")
			}
			if !isAlnum(m.value.text) {
				return st, stmtErr(i, "Sid", "must contain only ASCII letters and digits")
			}
			st.Sid = m.value.text
		case "Effect":
			if m.value.kind != jsonString {
				return st, stmtErr(i, "Effect", "must be a string")
			}
			if m.value.text != EffectAllow && m.value.text != EffectDeny {
				return st, stmtErr(i, "Effect", "must be %q or %q, not %s", EffectAllow, EffectDeny, quote(m.value.text))
			}
			st.Effect = m.value.text
		case "Principal":
			st.Principal, err = parsePrincipalSet(i, m.key, &m.value)
		case "NotPrincipal":
			st.NotPrincipal, err = parsePrincipalSet(i, m.key, &m.value)
		case "Action":
			st.Action, err = parseActions(i, m.key, &m.value)
		case "NotAction":
			st.NotAction, err = parseActions(i, m.key, &m.value)
		case "Resource":
			st.Resource, err = stringList(i, m.key, &m.value)
		case "NotResource":
			st.NotResource, err = stringList(i, m.key, &m.value)
		case "Condition":
			cond = &m.value
		default:
			return st, stmtErr(i, m.key, "unknown element")
		}
		if err != nil {
			return st, err
		}
	}
	switch {
	case st.Effect == "":
		return st, stmtErr(i, "Effect", "missing")
	case st.Principal != nil && st.NotPrincipal != nil:
		return st, stmtErr(i, "NotPrincipal", "cannot be used together with Principal")
	case st.Action == nil && st.NotAction == nil:
		return st, stmtErr(i, "Action", "missing Action or NotAction")
	case st.Action != nil && st.NotAction != nil:
		return st, stmtErr(i, "NotAction", "cannot be used together with Action")
	case st.Resource != nil && st.NotResource != nil:
		return st, stmtErr(i, "NotResource", "cannot be used together with Resource")
	}
	if cond != nil {
		var err error
		if st.Conditions, err = parseConditions(i, cond); err != nil {
			return st, err
		}
	}
	return st, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// stringList reads a string or a non-empty array of non-empty strings.
func stringList(i int, element string, v *jsonValue) ([]string, error) {
	switch v.kind {
	case jsonString:
		if v.text == "" {
			return nil, stmtErr(i, element, "empty string")
		}
		return []string{v.text}, nil
	case jsonArray:
		if len(v.items) == 0 {
			return nil, stmtErr(i, element, "empty array")
		}
		out := make([]string, 0, len(v.items))
		for _, it := range v.items {
			if it.kind != jsonString {
				return nil, stmtErr(i, element, "array items must be strings, not %s", it.kind)
			}
			if it.text == "" {
				return nil, stmtErr(i, element, "empty string")
			}
			out = append(out, it.text)
		}
		return out, nil
	}
	return nil, stmtErr(i, element, "must be a string or an array of strings, not %s", v.kind)
}

func parseActions(i int, element string, v *jsonValue) ([]string, error) {
	list, err := stringList(i, element, v)
	if err != nil {
		return nil, err
	}
	for _, a := range list {
		if !validAction(a) {
			return nil, stmtErr(i, element, "invalid action %s: want \"service:action\" or \"*\"", quote(a))
		}
	}
	return list, nil
}

// validAction accepts "*" and "service:name" where the service prefix is
// letters, digits and hyphens and the name is letters, digits, '_', '-' and
// the wildcards '*' and '?'.
func validAction(a string) bool {
	if a == "*" {
		return true
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return false
	}
	for j := 0; j < len(svc); j++ {
		c := svc[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	for j := 0; j < len(name); j++ {
		c := name[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '*' || c == '?') {
			return false
		}
	}
	return true
}

func parsePrincipalSet(i int, element string, v *jsonValue) (*PrincipalSet, error) {
	switch v.kind {
	case jsonString:
		if v.text != "*" {
			return nil, stmtErr(i, element, "a string principal must be \"*\", not %s", quote(v.text))
		}
		return &PrincipalSet{Wildcard: true}, nil
	case jsonObject:
	default:
		return nil, stmtErr(i, element, "must be \"*\" or an object, not %s", v.kind)
	}
	if len(v.members) == 0 {
		return nil, stmtErr(i, element, "empty object")
	}
	ps := &PrincipalSet{}
	seen := map[string]bool{}
	for k := range v.members {
		m := &v.members[k]
		if seen[m.key] {
			return nil, stmtErr(i, element, "duplicate key %s", quote(m.key))
		}
		seen[m.key] = true
		switch m.key {
		case "AWS", "Federated", "Service", "CanonicalUser":
		default:
			return nil, stmtErr(i, element, "unknown principal type %s", quote(m.key))
		}
		list, err := stringList(i, element, &m.value)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			if err := checkPrincipalValue(m.key, s); err != "" {
				return nil, stmtErr(i, element, "%s principal %s: %s", m.key, quote(s), err)
			}
		}
		switch m.key {
		case "AWS":
			ps.AWS = list
		case "Federated":
			ps.Federated = list
		case "Service":
			ps.Service = list
		case "CanonicalUser":
			ps.CanonicalUser = list
		}
	}
	return ps, nil
}

// checkPrincipalValue returns why s is not a valid principal of the given
// type, or "". Wildcards are refused except a lone "*" for AWS.
func checkPrincipalValue(typ, s string) string {
	if strings.ContainsAny(s, " \t\r\n") {
		return "contains white space"
	}
	if typ == "AWS" {
		if s == "*" {
			return ""
		}
		if strings.ContainsAny(s, "*?") {
			return "wildcards are allowed only as \"*\" alone"
		}
		if _, ok := parseAWSPrincipal(s); !ok {
			return "want an account ID, or a root, user, role or assumed-role ARN"
		}
		return ""
	}
	if strings.ContainsAny(s, "*?") && typ != "CanonicalUser" {
		return "wildcards are not allowed"
	}
	return ""
}
