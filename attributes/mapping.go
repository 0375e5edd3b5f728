package attributes

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"idpbridge/idp"
)

// Mapping is a compiled MappingConfig. It is immutable and safe for
// concurrent use.
type Mapping struct {
	name            string
	sourceIdentity  *valueRule
	roleSessionName *valueRule
	duration        int
	roles           []roleRule
	tags            []tagRule // sorted by key
	transitive      []string
	attrs           []attrRule
}

type valueRule struct {
	from       string
	literal    bool
	value      string // a literal, transforms applied
	transforms []Transform
	required   bool
	pickFirst  bool
}

type roleRule struct {
	field                string
	group                *regexp.Regexp // nil for a static role
	pattern              string         // the group pattern as configured
	roleARN, providerARN string
}

type tagRule struct {
	key, field string
	value      valueRule
}

type attrRule struct {
	name, field string
	value       valueRule
}

// Compile validates c and compiles it. The error joins (errors.Join) every
// problem Validate("") reports.
func Compile(c MappingConfig) (*Mapping, error) {
	m, errs := compile(c, "")
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// Name returns the mapping's configured name.
func (m *Mapping) Name() string { return m.name }

// Result is what a mapping makes of one person.
type Result struct {
	SourceIdentity    string // "" when not mapped
	RoleSessionName   string
	SessionDuration   int         // seconds; 0 when not set
	Roles             []Role      // without repeats, in rule order, then in the person's group order
	PrincipalTags     []idp.Tag   // sorted by key
	TransitiveTagKeys []string    // keys of PrincipalTags, in configured order
	Attributes        []Attribute // the extra attributes, in configured order
}

// Role is one role the person may assume through a SAML provider.
type Role struct{ RoleARN, ProviderARN string }

// Value returns the Role attribute value AWS reads: "roleArn,providerArn".
func (r Role) Value() string { return r.RoleARN + "," + r.ProviderARN }

// Attribute is one SAML attribute with its values.
type Attribute struct {
	Name   string
	Values []string
}

// Apply maps one person. When the person's data cannot be mapped (a required
// attribute missing, a value breaking AWS's rules, no role at all), the error
// is a *MappingError listing every problem found; Apply never returns a Result
// that breaks the value rules.
func (m *Mapping) Apply(id idp.Identity) (*Result, error) {
	a := applier{id: id, mapping: m}
	res := &Result{SessionDuration: m.duration}

	if r := m.sourceIdentity; r != nil {
		if v, ok := a.single(r, "source_identity", "the source identity", "a source identity", idp.ValidSourceIdentity); ok {
			res.SourceIdentity = v
		}
	}
	if r := m.roleSessionName; r != nil {
		if v, ok := a.single(r, "role_session_name", "the role session name", "a role session name", idp.ValidRoleSessionName); ok {
			res.RoleSessionName = v
		}
	}
	res.Roles = a.roles()

	present := map[string]bool{}
	for i := range m.tags {
		t := &m.tags[i]
		if v, ok := a.single(&t.value, t.field, "the session tag "+idp.Quote(t.key), "the value of session tag "+idp.Quote(t.key), idp.ValidTagValue); ok {
			res.PrincipalTags = append(res.PrincipalTags, idp.Tag{Key: t.key, Value: v})
			present[t.key] = true
		}
	}
	for _, k := range m.transitive {
		if present[k] {
			res.TransitiveTagKeys = append(res.TransitiveTagKeys, k)
		}
	}
	for i := range m.attrs {
		r := &m.attrs[i]
		if vs := a.multi(&r.value, r.field, "the attribute "+idp.Quote(r.name)); len(vs) > 0 {
			res.Attributes = append(res.Attributes, Attribute{Name: r.name, Values: vs})
		}
	}

	if len(a.problems) > 0 {
		return nil, &MappingError{Mapping: m.name, Problems: a.problems}
	}
	return res, nil
}

// applier maps one person and collects the problems found.
type applier struct {
	id       idp.Identity
	mapping  *Mapping
	problems []Problem
}

// add records a problem: person is the message for the person, admin the
// same about them for an administrator.
func (a *applier) add(field, attr, value, person, admin string) {
	a.problems = append(a.problems, Problem{Field: field, Attribute: attr, Value: value, Message: person, AdminMessage: admin})
}

// user names the person in administrators' messages: as is when the name
// is printable without spaces or quotes, else quoted.
func (a *applier) user() string {
	name := a.id.Username
	if name == "" {
		return "the user"
	}
	if !utf8.ValidString(name) || len(name) > 100 || strings.ContainsFunc(name, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '\'' || r == '"' || !unicode.IsPrint(r)
	}) {
		return idp.Quote(name)
	}
	return name
}

// missing records a required attribute the person does not have.
func (a *applier) missing(r *valueRule, field, purpose string) {
	a.add(field, r.from, "", fmt.Sprintf("your account has no %s, which is required for %s", r.from, purpose),
		fmt.Sprintf("%s has no attribute %s, which is required for %s", a.user(), r.from, purpose))
}

// values returns the person's non-empty values of r's attribute, or r's
// literal.
func (a *applier) values(r *valueRule) []string {
	if r.literal {
		return []string{r.value}
	}
	raw := a.id.Values(r.from)
	n := 0
	for _, v := range raw {
		if v != "" {
			n++
		}
	}
	if n == len(raw) {
		return raw
	}
	out := make([]string, 0, n)
	for _, v := range raw {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// single resolves a single-valued rule: purpose names the SAML attribute for
// "required for ..." messages, as names it for "cannot be ..." messages, and
// check is its value rule. ok is false when the attribute is omitted.
func (a *applier) single(r *valueRule, field, purpose, as string, check func(string) error) (string, bool) {
	raw := a.values(r)
	if len(raw) == 0 {
		if r.required {
			a.missing(r, field, purpose)
		}
		return "", false
	}
	if r.literal {
		return raw[0], true // checked by Compile
	}
	if r.pickFirst {
		raw = raw[:1]
	}
	orig, val := raw[0], applyAll(r.transforms, raw[0])
	if len(raw) > 1 {
		distinct := []string{val}
		for _, v := range raw[1:] {
			if t := applyAll(r.transforms, v); !contains(distinct, t) {
				distinct = append(distinct, t)
			}
		}
		if len(distinct) > 1 {
			a.add(field, r.from, strings.Join(raw, "\n"),
				fmt.Sprintf("your account has %d values for %s (%s) but %s takes one; an administrator can add pick: first to the mapping to use the first",
					len(raw), r.from, quoteList(raw, 5), purpose),
				fmt.Sprintf("%s has %d values for %s (%s) but %s takes one; add pick: first to the rule to use the first",
					a.user(), len(raw), r.from, quoteList(raw, 5), purpose))
			return "", false
		}
	}
	if err := check(val); err != nil {
		a.add(field, r.from, val, fmt.Sprintf("%s cannot be %s: %v", a.shown("your account's", r, orig, val), as, err),
			fmt.Sprintf("%s cannot be %s: %v", a.shown(a.user()+"'s", r, orig, val), as, err))
		return "", false
	}
	return val, true
}

// multi resolves a multi-valued rule: every value, transformed, without
// repeats.
func (a *applier) multi(r *valueRule, field, purpose string) []string {
	raw := a.values(r)
	if len(raw) == 0 {
		if r.required {
			a.missing(r, field, purpose)
		}
		return nil
	}
	if r.literal {
		return raw
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		if t := applyAll(r.transforms, v); !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// shown describes a value for a message: "your account's mail 'x'", with the
// transformed value when the transforms changed it; whose is "your
// account's" or the user's name with "'s".
func (a *applier) shown(whose string, r *valueRule, orig, val string) string {
	s := whose + " " + r.from + " " + idp.Quote(orig)
	if val != orig {
		s += " (" + idp.Quote(val) + " after " + describe(r.transforms) + ")"
	}
	return s
}

// roles returns the person's roles, without repeats, and reports roles that
// expand into invalid ARNs, and a person with no role at all.
func (a *applier) roles() []Role {
	var out []Role
	matched := false
	for i := range a.mapping.roles {
		r := &a.mapping.roles[i]
		if r.group == nil {
			out = appendRole(out, Role{RoleARN: r.roleARN, ProviderARN: r.providerARN})
			matched = true
			continue
		}
		for _, g := range a.id.Groups {
			sub := r.group.FindStringSubmatchIndex(g)
			if sub == nil {
				continue
			}
			matched = true
			role := Role{
				RoleARN:     string(r.group.ExpandString(nil, r.roleARN, g, sub)),
				ProviderARN: string(r.group.ExpandString(nil, r.providerARN, g, sub)),
			}
			ok := true
			if err := idp.ValidRoleARN(role.RoleARN); err != nil {
				a.add(r.field+".role_arn", "groups", g,
					fmt.Sprintf("your group %s matches %s but makes the role ARN %s, which is not valid: %v", idp.Quote(g), idp.Quote(r.pattern), idp.Quote(role.RoleARN), err),
					fmt.Sprintf("%s's group %s matches %s but makes the role ARN %s, which is not valid: %v", a.user(), idp.Quote(g), idp.Quote(r.pattern), idp.Quote(role.RoleARN), err))
				ok = false
			}
			if err := idp.ValidSAMLProviderARN(role.ProviderARN); err != nil {
				a.add(r.field+".provider_arn", "groups", g,
					fmt.Sprintf("your group %s matches %s but makes the SAML provider ARN %s, which is not valid: %v", idp.Quote(g), idp.Quote(r.pattern), idp.Quote(role.ProviderARN), err),
					fmt.Sprintf("%s's group %s matches %s but makes the SAML provider ARN %s, which is not valid: %v", a.user(), idp.Quote(g), idp.Quote(r.pattern), idp.Quote(role.ProviderARN), err))
				ok = false
			}
			if ok {
				out = appendRole(out, role)
			}
		}
	}
	if !matched {
		patterns := make([]string, 0, len(a.mapping.roles))
		for _, r := range a.mapping.roles {
			patterns = append(patterns, r.pattern)
		}
		yours, theirs := "you are in no group", a.user()+" is in no group"
		if len(a.id.Groups) > 0 {
			yours, theirs = "your groups are "+quoteList(a.id.Groups, 10), a.user()+"'s groups are "+quoteList(a.id.Groups, 10)
		}
		a.add("roles", "groups", strings.Join(a.id.Groups, "\n"),
			fmt.Sprintf("no AWS role is mapped for your account: you are in none of the groups matching %s (%s)", quoteList(patterns, 10), yours),
			fmt.Sprintf("no AWS role is mapped for %s: %s is in none of the groups matching %s (%s)", a.user(), a.user(), quoteList(patterns, 10), theirs))
	}
	return out
}

func appendRole(rs []Role, r Role) []Role {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// quoteList quotes up to max values, saying how many more there are.
func quoteList(vs []string, max int) string {
	n := min(len(vs), max)
	parts := make([]string, n, n+1)
	for i := range n {
		parts[i] = idp.Quote(vs[i])
	}
	if len(vs) > max {
		parts = append(parts, fmt.Sprintf("and %d more", len(vs)-max))
	}
	return strings.Join(parts, ", ")
}

// SAMLAttributes returns the assertion attributes for r, with AWS's full
// names, in this order: Role (one value per role), RoleSessionName,
// SessionDuration, SourceIdentity, PrincipalTag:<Key> per tag in key order,
// TransitiveTagKeys (one value per key), then the extra attributes. An
// attribute with no value (no source identity, no duration, no tags) is left
// out.
func (r *Result) SAMLAttributes() []Attribute {
	out := make([]Attribute, 0, 6+len(r.PrincipalTags)+len(r.Attributes))
	if len(r.Roles) > 0 {
		vs := make([]string, len(r.Roles))
		for i, role := range r.Roles {
			vs[i] = role.Value()
		}
		out = append(out, Attribute{Name: idp.AttrRole, Values: vs})
	}
	if r.RoleSessionName != "" {
		out = append(out, Attribute{Name: idp.AttrRoleSessionName, Values: []string{r.RoleSessionName}})
	}
	if r.SessionDuration != 0 {
		out = append(out, Attribute{Name: idp.AttrSessionDuration, Values: []string{strconv.Itoa(r.SessionDuration)}})
	}
	if r.SourceIdentity != "" {
		out = append(out, Attribute{Name: idp.AttrSourceIdentity, Values: []string{r.SourceIdentity}})
	}
	tags := append([]idp.Tag(nil), r.PrincipalTags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	for _, t := range tags {
		out = append(out, Attribute{Name: idp.AttrPrincipalTagPrefix + t.Key, Values: []string{t.Value}})
	}
	if len(r.TransitiveTagKeys) > 0 {
		out = append(out, Attribute{Name: idp.AttrTransitiveTagKeys, Values: append([]string(nil), r.TransitiveTagKeys...)})
	}
	for _, a := range r.Attributes {
		out = append(out, Attribute{Name: a.Name, Values: append([]string(nil), a.Values...)})
	}
	return out
}

// MappingError says why a person cannot be mapped. It lists every problem
// found, not only the first. It unwraps to an *idp.Error with code
// idp.EForbidden whose message is fit to show the person.
type MappingError struct {
	Mapping  string
	Problems []Problem
}

// Problem is one reason a person cannot be mapped.
type Problem struct {
	// Field is the mapping key the problem is about: "source_identity",
	// "role_session_name", "roles", "roles[0].role_arn",
	// "principal_tags.Department", "attributes[1]".
	Field string
	// Attribute is the identity attribute the value came from ("groups" for
	// roles); "" for a literal.
	Attribute string
	// Value is the offending value as checked, after transforms; "" when the
	// attribute is missing; the raw values or the person's groups, one per
	// line, when there are several.
	Value string
	// Message says what is wrong, to the person ("your account has no
	// mail, ..."): the attribute, the value (quoted), the rule it breaks.
	Message string
	// AdminMessage says the same about the person to an administrator
	// ("'diego' has no attribute mail, ...").
	AdminMessage string
}

func (e *MappingError) Error() string {
	return fmt.Sprintf("mapping %q: %s", e.Mapping, e.message())
}

func (e *MappingError) message() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the *idp.Error shown to the person.
func (e *MappingError) Unwrap() error {
	return &idp.Error{Code: idp.EForbidden, Message: e.message()}
}
