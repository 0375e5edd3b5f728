package attributes

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"idpbridge/idp"
)

// MappingConfig is one named attribute mapping for AWS. Decode it strictly
// (yaml.Decoder.KnownFields(true)), check it with Validate and compile it with
// Compile.
//
//	mappings:
//	  - name: aws-default
//	    source_identity: {from: sAMAccountName, transforms: [lowercase], required: true}
//	    role_session_name: {from: mail}
//	    session_duration: 3600
//	    roles:
//	      - group: '^AWS-(\d{12})-(.+)$'          # regex over the person's groups
//	        role_arn: 'arn:aws:iam::$1:role/$2'
//	        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
//	      - role_arn: arn:aws:iam::123456789012:role/ReadOnly   # static, for everyone mapped
//	        provider_arn: arn:aws:iam::123456789012:saml-provider/idpbridge
//	    principal_tags: {Department: {from: department}}
//	    transitive_tag_keys: [Department]
//	    attributes: [{name: 'https://example.com/attr/team', from: team}]
//
// Name is required and names the mapping for service providers. RoleSessionName
// is required (AWS requires the attribute) and is always required of the
// person, whatever its Required field says. SourceIdentity is optional.
// SessionDuration is in seconds, 900 to 43200, or 0 to send none. Roles needs
// at least one rule. PrincipalTags maps a tag key to the rule giving its value
// (at most 50 keys, unique regardless of case); TransitiveTagKeys names some of
// those keys.
type MappingConfig struct {
	Name              string               `yaml:"name"`
	SourceIdentity    *ValueRule           `yaml:"source_identity,omitempty"`
	RoleSessionName   *ValueRule           `yaml:"role_session_name,omitempty"`
	SessionDuration   int                  `yaml:"session_duration,omitempty"`
	Roles             []RoleRule           `yaml:"roles,omitempty"`
	PrincipalTags     map[string]ValueRule `yaml:"principal_tags,omitempty"`
	TransitiveTagKeys []string             `yaml:"transitive_tag_keys,omitempty"`
	Attributes        []AttributeRule      `yaml:"attributes,omitempty"`
}

// ValueRule says where a single-valued SAML attribute comes from.
//
//	{from: mail, transforms: [strip_domain, lowercase], required: true, pick: first}
//	{value: engineering}
//	mail                   # short for {from: mail}
//
// Exactly one of From and Value is set. From names an identity attribute as
// idp.Identity.Values resolves it ("username", "email", "displayName",
// "groups" or any directory attribute or claim; "email" is the connector's
// e-mail address, for local users their mail attribute); empty values count
// as absent. A rule may be written as the attribute name alone.
// Value is a literal constant. Transforms run in order over the value (and over
// a literal too). When the person has no such attribute, the SAML attribute is
// omitted, unless Required is true, which makes it an error for the person.
// Pick "first" uses the first of several values; without it, an attribute with
// more than one distinct value (after transforms) is an error for the person.
type ValueRule struct {
	From       string      `yaml:"from,omitempty"`
	Value      string      `yaml:"value,omitempty"`
	Transforms []Transform `yaml:"transforms,omitempty"`
	Required   bool        `yaml:"required,omitempty"`
	Pick       string      `yaml:"pick,omitempty"`
}

// UnmarshalYAML decodes a rule written in full ({from: mail, ...}) or as
// the name of an identity attribute alone: "source_identity: mail" is
// {from: mail}. Unknown keys are refused, as a strict decoder does.
func (r *ValueRule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a value rule is an attribute name or {from: ...} / {value: ...}, not %q", n.Line, n.Value)}}
		}
		*r = ValueRule{From: n.Value}
		return nil
	case yaml.MappingNode:
		var unknown []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i]; k.Value {
			case "from", "value", "transforms", "required", "pick":
			default:
				unknown = append(unknown, fmt.Sprintf("line %d: field %s not found in type attributes.ValueRule", k.Line, k.Value))
			}
		}
		if len(unknown) > 0 {
			return &yaml.TypeError{Errors: unknown}
		}
		type plain ValueRule // without this method
		var v plain
		if err := n.Decode(&v); err != nil {
			return err
		}
		*r = ValueRule(v)
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: a value rule is an attribute name or {from: ...} / {value: ...}", n.Line)}}
}

// PickFirst is the ValueRule.Pick value that takes the first of several values.
const PickFirst = "first"

// RoleRule gives the person one or more AWS roles.
//
//	{group: '^AWS-(\d{12})-(.+)$', role_arn: 'arn:aws:iam::$1:role/$2', provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'}
//	{role_arn: 'arn:aws:iam::123456789012:role/ReadOnly', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
//
// With Group set, the rule yields one role per group of the person that the Go
// regular expression matches in whole (the pattern is anchored at both ends),
// with $1, ${1} and ${name} in RoleARN and ProviderARN expanded from that
// group's submatches. Without Group, the rule is static: everyone the mapping
// applies to gets the role, and both ARNs must be valid as written.
type RoleRule struct {
	Group       string `yaml:"group,omitempty"`
	RoleARN     string `yaml:"role_arn"`
	ProviderARN string `yaml:"provider_arn"`
}

// AttributeRule adds an extra, possibly multi-valued, SAML attribute.
//
//	{name: 'https://example.com/attr/team', from: team, transforms: [lowercase]}
//
// Name is the SAML attribute name; it may not be one of AWS's
// (https://aws.amazon.com/SAML/Attributes/...), which the other rules make.
// Exactly one of From and Value is set, as in ValueRule. Every value of the
// attribute is sent, transformed, without repeats. A missing attribute is
// omitted unless Required.
type AttributeRule struct {
	Name       string      `yaml:"name"`
	From       string      `yaml:"from,omitempty"`
	Value      string      `yaml:"value,omitempty"`
	Transforms []Transform `yaml:"transforms,omitempty"`
	Required   bool        `yaml:"required,omitempty"`
}

// ConfigError is one problem of a MappingConfig, at a key path (Key) such as
// "mappings[0].roles[1].group": the configuration problem type of every
// package (idp.ConfigProblem). Err, when set, is the underlying error (for
// example from regexp).
type ConfigError = idp.ConfigProblem

// Validate returns every problem of c, each a *ConfigError whose path starts
// with path (for example "mappings[0]"; "" for paths relative to the mapping).
// It returns nil when c compiles.
func (c MappingConfig) Validate(path string) []error {
	_, errs := compile(c, path)
	return errs
}

// problems collects ConfigErrors under a path prefix.
type problems struct {
	prefix string
	errs   []error
}

func (p *problems) add(field string, err error, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{Key: joinPath(p.prefix, field), Msg: fmt.Sprintf(format, args...), Err: err})
}

func joinPath(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

// tagPath names principal_tags.<key>, bracketing keys that are not plain words.
func tagPath(key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return "principal_tags." + key
	}
	return "principal_tags[" + strconv.Quote(key) + "]"
}

// compile validates c and, when it has no problems, builds its Mapping.
func compile(c MappingConfig, path string) (*Mapping, []error) {
	p := &problems{prefix: path}
	m := &Mapping{name: c.Name, duration: c.SessionDuration}

	if strings.TrimSpace(c.Name) == "" {
		p.add("name", nil, "required: every mapping needs a name")
	}

	if c.SourceIdentity != nil {
		m.sourceIdentity = compileValue(p, "source_identity", *c.SourceIdentity, "a source identity", idp.ValidSourceIdentity)
	}
	if c.RoleSessionName == nil {
		p.add("role_session_name", nil, "required: AWS requires a RoleSessionName attribute, for example role_session_name: {from: email}")
	} else {
		m.roleSessionName = compileValue(p, "role_session_name", *c.RoleSessionName, "a role session name", idp.ValidRoleSessionName)
		if m.roleSessionName != nil {
			m.roleSessionName.required = true
		}
	}

	if d := c.SessionDuration; d != 0 && (d < idp.MinSessionDuration || d > idp.MaxSessionDuration) {
		p.add("session_duration", nil, "%d is out of range: a session lasts %d to %d seconds (or leave it out)", d, idp.MinSessionDuration, idp.MaxSessionDuration)
	}

	if len(c.Roles) == 0 {
		p.add("roles", nil, "required: at least one role rule, or nobody can be mapped to an AWS role")
	}
	for i, r := range c.Roles {
		if rr, ok := compileRole(p, fmt.Sprintf("roles[%d]", i), r); ok {
			m.roles = append(m.roles, rr)
		}
	}

	compileTags(p, m, c)

	seenAttr := map[string]int{}
	for i, a := range c.Attributes {
		field := fmt.Sprintf("attributes[%d]", i)
		switch {
		case strings.TrimSpace(a.Name) == "":
			p.add(field+".name", nil, "required: the SAML attribute name")
		case strings.HasPrefix(a.Name, idp.AttrPrefix):
			p.add(field+".name", nil, "%s is reserved for AWS's attributes; use source_identity, role_session_name, session_duration, roles, principal_tags or transitive_tag_keys", idp.Quote(a.Name))
		default:
			if j, dup := seenAttr[a.Name]; dup {
				p.add(field+".name", nil, "%s is already defined by attributes[%d]", idp.Quote(a.Name), j)
			}
			seenAttr[a.Name] = i
		}
		vr := compileValue(p, field, ValueRule{From: a.From, Value: a.Value, Transforms: a.Transforms, Required: a.Required}, "", nil)
		if vr != nil {
			m.attrs = append(m.attrs, attrRule{name: a.Name, field: field, value: *vr})
		}
	}

	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return m, nil
}

// compileValue checks a value rule. check, when set, is the value rule of the
// SAML attribute it feeds, applied to a literal at once; what names that
// attribute in messages.
func compileValue(p *problems, field string, r ValueRule, what string, check func(string) error) *valueRule {
	before := len(p.errs)
	switch {
	case r.From == "" && r.Value == "":
		p.add(field, nil, "needs from (an identity attribute) or value (a constant)")
	case r.From != "" && r.Value != "":
		p.add(field, nil, "has both from %s and value %s; keep one", idp.Quote(r.From), idp.Quote(r.Value))
	}
	if r.Pick != "" && r.Pick != PickFirst {
		p.add(field+".pick", nil, "unknown pick %s (the only choice is %q)", idp.Quote(r.Pick), PickFirst)
	}
	for i, t := range r.Transforms {
		if !t.valid() {
			p.add(fmt.Sprintf("%s.transforms[%d]", field, i), nil, "empty transform (known: %s)", knownTransforms)
		}
	}
	if len(p.errs) > before {
		return nil
	}
	v := &valueRule{
		from:       r.From,
		transforms: r.Transforms,
		required:   r.Required,
		pickFirst:  r.Pick == PickFirst,
	}
	if r.Value != "" {
		v.literal = true
		v.value = applyAll(r.Transforms, r.Value)
		if check != nil {
			if err := check(v.value); err != nil {
				shown := idp.Quote(v.value)
				if v.value != r.Value {
					shown = idp.Quote(r.Value) + " (" + idp.Quote(v.value) + " after " + describe(r.Transforms) + ")"
				}
				p.add(field+".value", err, "%s cannot be %s: %v", shown, what, err)
				return nil
			}
		}
	}
	return v
}

func compileRole(p *problems, field string, r RoleRule) (roleRule, bool) {
	before := len(p.errs)
	rr := roleRule{field: field, pattern: r.Group, roleARN: r.RoleARN, providerARN: r.ProviderARN}
	if r.RoleARN == "" {
		p.add(field+".role_arn", nil, "required: the ARN of the IAM role")
	}
	if r.ProviderARN == "" {
		p.add(field+".provider_arn", nil, "required: the ARN of the IAM SAML provider that trusts idpbridge")
	}
	if r.Group == "" {
		for _, a := range []struct{ key, arn string }{{"role_arn", r.RoleARN}, {"provider_arn", r.ProviderARN}} {
			if a.arn == "" {
				continue
			}
			if strings.Contains(a.arn, "$") {
				p.add(field+"."+a.key, nil, "%s refers to a group submatch ($) but the rule has no group pattern", idp.Quote(a.arn))
				continue
			}
			check := idp.ValidRoleARN
			if a.key == "provider_arn" {
				check = idp.ValidSAMLProviderARN
			}
			if err := check(a.arn); err != nil {
				p.add(field+"."+a.key, err, "%s is not valid: %v", idp.Quote(a.arn), err)
			}
		}
		return rr, len(p.errs) == before
	}
	// The pattern as written must compile on its own, so that anchoring it
	// cannot change its meaning (as "a)|(b" would).
	if _, err := regexp.Compile(r.Group); err != nil {
		p.add(field+".group", err, "invalid regular expression: %v", err)
		return rr, false
	}
	re, err := regexp.Compile(`^(?:` + r.Group + `)$`)
	if err != nil {
		p.add(field+".group", err, "invalid regular expression: %v", err)
		return rr, false
	}
	rr.group = re
	for _, a := range []struct{ key, tmpl string }{{"role_arn", r.RoleARN}, {"provider_arn", r.ProviderARN}} {
		for _, ref := range templateRefs(a.tmpl) {
			if !knownSubmatch(re, ref) {
				p.add(field+"."+a.key, nil, "%s refers to $%s, but the group pattern %s has no such submatch (it has %d)", idp.Quote(a.tmpl), ref, idp.Quote(r.Group), re.NumSubexp())
			}
		}
	}
	return rr, len(p.errs) == before
}

// templateRefs lists the submatch names a regexp.Expand template refers to
// ($1, ${1}, $name, ${name}); "$$" is a literal dollar.
func templateRefs(tmpl string) []string {
	var refs []string
	for {
		i := strings.IndexByte(tmpl, '$')
		if i < 0 || i+1 >= len(tmpl) {
			return refs
		}
		tmpl = tmpl[i+1:]
		if tmpl[0] == '$' {
			tmpl = tmpl[1:]
			continue
		}
		braced := tmpl[0] == '{'
		if braced {
			tmpl = tmpl[1:]
		}
		j := 0
		for j < len(tmpl) && (tmpl[j] == '_' || 'a' <= tmpl[j] && tmpl[j] <= 'z' || 'A' <= tmpl[j] && tmpl[j] <= 'Z' || '0' <= tmpl[j] && tmpl[j] <= '9') {
			j++
		}
		name := tmpl[:j]
		tmpl = tmpl[j:]
		if braced {
			if !strings.HasPrefix(tmpl, "}") || name == "" {
				// regexp.Expand copies a malformed reference literally.
				continue
			}
			tmpl = tmpl[1:]
		}
		if name != "" {
			refs = append(refs, name)
		}
	}
}

func knownSubmatch(re *regexp.Regexp, name string) bool {
	if n, err := strconv.Atoi(name); err == nil {
		return n >= 0 && n <= re.NumSubexp()
	}
	return re.SubexpIndex(name) >= 0
}

func compileTags(p *problems, m *Mapping, c MappingConfig) {
	keys := make([]string, 0, len(c.PrincipalTags))
	for k := range c.PrincipalTags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > idp.MaxPrincipalTags {
		p.add("principal_tags", nil, "%d tags is too many: AWS accepts at most %d session tags", len(keys), idp.MaxPrincipalTags)
	}
	byFold := map[string]string{}
	for _, k := range keys {
		field := tagPath(k)
		if err := idp.ValidTagKey(k); err != nil {
			p.add(field, err, "tag key %s is not valid: %v", idp.Quote(k), err)
		}
		fold := strings.ToLower(k)
		if other, dup := byFold[fold]; dup {
			p.add(field, nil, "tag key %s is the same as %s: tag keys are case-insensitive", idp.Quote(k), idp.Quote(other))
		} else {
			byFold[fold] = k
		}
		vr := compileValue(p, field, c.PrincipalTags[k], "the value of session tag "+idp.Quote(k), idp.ValidTagValue)
		if vr != nil {
			m.tags = append(m.tags, tagRule{key: k, field: field, value: *vr})
		}
	}
	seen := map[string]int{}
	for i, k := range c.TransitiveTagKeys {
		field := fmt.Sprintf("transitive_tag_keys[%d]", i)
		fold := strings.ToLower(k)
		key, ok := byFold[fold]
		if !ok {
			p.add(field, nil, "%s is not one of the principal_tags keys", idp.Quote(k))
			continue
		}
		if j, dup := seen[fold]; dup {
			p.add(field, nil, "%s is already listed at transitive_tag_keys[%d]", idp.Quote(k), j)
			continue
		}
		seen[fold] = i
		m.transitive = append(m.transitive, key)
	}
}
