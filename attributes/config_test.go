package attributes

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"idpbridge/idp"
)

// contractYAML is the configuration contract's example, with transforms in
// every form added.
const contractYAML = `
mappings:
  - name: aws-default
    source_identity: {from: sAMAccountName, transforms: [lowercase], required: true}
    role_session_name: {from: mail}
    session_duration: 3600
    roles:
      - group: '^AWS-(\d{12})-(.+)$'          # regex over the person's groups
        role_arn: 'arn:aws:iam::$1:role/$2'
        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
      - role_arn: arn:aws:iam::123456789012:role/ReadOnly   # static, for everyone mapped
        provider_arn: arn:aws:iam::123456789012:saml-provider/idpbridge
    principal_tags: {Department: {from: department}}
    transitive_tag_keys: [Department]
    attributes: [{name: 'https://example.com/attr/team', from: team}]
  - name: every-transform
    source_identity:
      from: userPrincipalName
      pick: first
      transforms:
        - strip_domain
        - uppercase
        - lowercase
        - {regex: '[^a-z0-9_+=,.@-]', replace: '_'}
        - {truncate: 64}
    role_session_name: {from: username}
    roles:
      - {role_arn: 'arn:aws:iam::123456789012:role/ReadOnly', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
    principal_tags:
      Team: {value: Platform}
`

type fileConfig struct {
	Mappings []MappingConfig `yaml:"mappings"`
}

func decodeStrict(t testing.TB, doc string) (fileConfig, error) {
	t.Helper()
	var fc fileConfig
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	err := dec.Decode(&fc)
	return fc, err
}

func TestDecodeContractExample(t *testing.T) {
	t.Parallel()
	fc, err := decodeStrict(t, contractYAML)
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Mappings) != 2 {
		t.Fatalf("%d mappings, want 2", len(fc.Mappings))
	}
	for i, c := range fc.Mappings {
		if errs := c.Validate(fmt.Sprintf("mappings[%d]", i)); errs != nil {
			t.Errorf("mappings[%d]: %v", i, errors.Join(errs...))
		}
	}

	c := fc.Mappings[0]
	want := MappingConfig{
		Name:            "aws-default",
		SourceIdentity:  &ValueRule{From: "sAMAccountName", Transforms: []Transform{Lowercase()}, Required: true},
		RoleSessionName: &ValueRule{From: "mail"},
		SessionDuration: 3600,
		Roles: []RoleRule{
			{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"},
			{RoleARN: "arn:aws:iam::123456789012:role/ReadOnly", ProviderARN: "arn:aws:iam::123456789012:saml-provider/idpbridge"},
		},
		PrincipalTags:     map[string]ValueRule{"Department": {From: "department"}},
		TransitiveTagKeys: []string{"Department"},
		Attributes:        []AttributeRule{{Name: "https://example.com/attr/team", From: "team"}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", c, want)
	}

	ts := fc.Mappings[1].SourceIdentity.Transforms
	var names []string
	for _, tr := range ts {
		names = append(names, tr.String())
	}
	wantNames := []string{"strip_domain", "uppercase", "lowercase", "regex '[^a-z0-9_+=,.@-]' -> '_'", "truncate 64"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("transforms %q, want %q", names, wantNames)
	}
	if got := applyAll(ts, `CORP\José García`); got != "jos__garc_a" {
		t.Errorf("transform chain gave %q", got)
	}
	if fc.Mappings[1].SourceIdentity.Pick != PickFirst {
		t.Errorf("pick = %q", fc.Mappings[1].SourceIdentity.Pick)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	t.Parallel()
	fc, err := decodeStrict(t, contractYAML)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(fc); err != nil {
		t.Fatal(err)
	}
	back, err := decodeStrict(t, buf.String())
	if err != nil {
		t.Fatalf("re-decoding\n%s: %v", buf.String(), err)
	}
	if !reflect.DeepEqual(back, fc) {
		t.Errorf("round trip changed the config:\n%s", buf.String())
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown transform is named",
			doc:  "mappings:\n  - name: m\n    source_identity: {from: mail, transforms: [lowercase, capitalize]}\n",
			want: []string{`line 3: unknown transform "capitalize"`},
		},
		{
			name: "unknown key in a rule",
			doc:  "mappings:\n  - name: m\n    role_session_name: {from: mail, requried: true}\n",
			want: []string{"field requried not found"},
		},
		{
			name: "unknown key in a mapping",
			doc:  "mappings:\n  - name: m\n    session_tags: {}\n",
			want: []string{"field session_tags not found"},
		},
		{
			name: "every bad transform reported",
			doc:  "mappings:\n  - name: m\n    source_identity: {from: mail, transforms: [titlecase]}\n    role_session_name: {from: mail, transforms: [{truncate: -1}]}\n",
			want: []string{`line 3: unknown transform "titlecase"`, "line 4: truncate needs a length of at least 1, not -1"},
		},
		{
			name: "duplicate tag key",
			doc:  "mappings:\n  - name: m\n    principal_tags: {Team: {value: a}, Team: {value: b}}\n",
			want: []string{`"Team" already defined`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict(t, tc.doc)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// validConfig is a minimal valid mapping for Validate tests to break.
func validConfig() MappingConfig {
	return MappingConfig{
		Name:            "m",
		RoleSessionName: &ValueRule{From: "username"},
		Roles:           []RoleRule{{RoleARN: "arn:aws:iam::123456789012:role/R", ProviderARN: "arn:aws:iam::123456789012:saml-provider/P"}},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*MappingConfig)
		want   []string // each a full error; "~" prefix: a regular expression instead
	}{
		{name: "valid", change: func(*MappingConfig) {}},
		{
			name:   "no name",
			change: func(c *MappingConfig) { c.Name = "" },
			want:   []string{"mappings[0].name: required: every mapping needs a name"},
		},
		{
			name:   "no role_session_name",
			change: func(c *MappingConfig) { c.RoleSessionName = nil },
			want:   []string{"mappings[0].role_session_name: required: AWS requires a RoleSessionName attribute, for example role_session_name: {from: email}"},
		},
		{
			name:   "rule with neither from nor value",
			change: func(c *MappingConfig) { c.SourceIdentity = &ValueRule{Required: true} },
			want:   []string{"mappings[0].source_identity: needs from (an identity attribute) or value (a constant)"},
		},
		{
			name:   "rule with both from and value",
			change: func(c *MappingConfig) { c.SourceIdentity = &ValueRule{From: "mail", Value: "x"} },
			want:   []string{"mappings[0].source_identity: has both from 'mail' and value 'x'; keep one"},
		},
		{
			name:   "unknown pick",
			change: func(c *MappingConfig) { c.RoleSessionName.Pick = "last" },
			want:   []string{`mappings[0].role_session_name.pick: unknown pick 'last' (the only choice is "first")`},
		},
		{
			name:   "zero transform",
			change: func(c *MappingConfig) { c.RoleSessionName.Transforms = []Transform{Lowercase(), {}} },
			want:   []string{"mappings[0].role_session_name.transforms[1]: empty transform (known: " + knownTransforms + ")"},
		},
		{
			name:   "literal source identity breaking the rule",
			change: func(c *MappingConfig) { c.SourceIdentity = &ValueRule{Value: "aws:Shared"} },
			want:   []string{`mappings[0].source_identity.value: 'aws:Shared' cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found ':'); must not begin with "aws:"`},
		},
		{
			name: "literal checked after transforms",
			change: func(c *MappingConfig) {
				c.RoleSessionName = &ValueRule{Value: "Shared", Transforms: []Transform{mustTruncate(t, 1)}}
			},
			want: []string{"mappings[0].role_session_name.value: 'Shared' ('S' after truncate 1) cannot be a role session name: must be 2 to 64 characters long (it has 1)"},
		},
		{
			name:   "session duration too short",
			change: func(c *MappingConfig) { c.SessionDuration = 899 },
			want:   []string{"mappings[0].session_duration: 899 is out of range: a session lasts 900 to 43200 seconds (or leave it out)"},
		},
		{
			name:   "session duration too long",
			change: func(c *MappingConfig) { c.SessionDuration = 43201 },
			want:   []string{"mappings[0].session_duration: 43201 is out of range: a session lasts 900 to 43200 seconds (or leave it out)"},
		},
		{name: "session duration lower bound", change: func(c *MappingConfig) { c.SessionDuration = 900 }},
		{name: "session duration upper bound", change: func(c *MappingConfig) { c.SessionDuration = 43200 }},
		{
			name:   "session duration negative",
			change: func(c *MappingConfig) { c.SessionDuration = -1 },
			want:   []string{"mappings[0].session_duration: -1 is out of range: a session lasts 900 to 43200 seconds (or leave it out)"},
		},
		{
			name:   "no roles",
			change: func(c *MappingConfig) { c.Roles = nil },
			want:   []string{"mappings[0].roles: required: at least one role rule, or nobody can be mapped to an AWS role"},
		},
		{
			name: "static role with invalid ARNs",
			change: func(c *MappingConfig) {
				c.Roles = []RoleRule{{RoleARN: "arn:aws:iam::123:role/R", ProviderARN: "arn:aws:iam::123456789012:role/P"}}
			},
			want: []string{
				"~^mappings\\[0\\]\\.roles\\[0\\]\\.role_arn: 'arn:aws:iam::123:role/R' is not valid: the account '123' is not 12 digits",
				"~^mappings\\[0\\]\\.roles\\[0\\]\\.provider_arn: 'arn:aws:iam::123456789012:role/P' is not valid: the resource 'role/P' is not saml-provider/<name>",
			},
		},
		{
			name: "static role with submatch reference",
			change: func(c *MappingConfig) {
				c.Roles = []RoleRule{{RoleARN: "arn:aws:iam::$1:role/R", ProviderARN: "arn:aws:iam::123456789012:saml-provider/P"}}
			},
			want: []string{"mappings[0].roles[0].role_arn: 'arn:aws:iam::$1:role/R' refers to a group submatch ($) but the rule has no group pattern"},
		},
		{
			name:   "role missing ARNs",
			change: func(c *MappingConfig) { c.Roles = []RoleRule{{Group: "AWS-Admins"}} },
			want: []string{
				"mappings[0].roles[0].role_arn: required: the ARN of the IAM role",
				"mappings[0].roles[0].provider_arn: required: the ARN of the IAM SAML provider that trusts idpbridge",
			},
		},
		{
			name: "invalid group regex",
			change: func(c *MappingConfig) {
				c.Roles = append(c.Roles, RoleRule{Group: `^AWS-(\d{12}-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/P"})
			},
			want: []string{"~^mappings\\[0\\]\\.roles\\[1\\]\\.group: invalid regular expression: error parsing regexp: missing closing \\)"},
		},
		{
			name: "pattern that only compiles anchored",
			change: func(c *MappingConfig) {
				c.Roles = []RoleRule{{Group: `a)|(?:b`, RoleARN: "arn:aws:iam::123456789012:role/R", ProviderARN: "arn:aws:iam::123456789012:saml-provider/P"}}
			},
			want: []string{"~^mappings\\[0\\]\\.roles\\[0\\]\\.group: invalid regular expression: error parsing regexp: unexpected \\)"},
		},
		{
			name: "reference to a missing submatch",
			change: func(c *MappingConfig) {
				c.Roles = []RoleRule{{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$3", ProviderARN: "arn:aws:iam::${1}:saml-provider/${idp}"}}
			},
			want: []string{
				`mappings[0].roles[0].role_arn: 'arn:aws:iam::$1:role/$3' refers to $3, but the group pattern '^AWS-(\d{12})-(.+)$' has no such submatch (it has 2)`,
				`mappings[0].roles[0].provider_arn: 'arn:aws:iam::${1}:saml-provider/${idp}' refers to $idp, but the group pattern '^AWS-(\d{12})-(.+)$' has no such submatch (it has 2)`,
			},
		},
		{
			name: "named submatches",
			change: func(c *MappingConfig) {
				c.Roles = []RoleRule{{Group: `^AWS-(?P<acct>\d{12})-(?P<role>.+)$`, RoleARN: "arn:aws:iam::${acct}:role/${role}", ProviderARN: "arn:aws:iam::$acct:saml-provider/P$$"}}
			},
		},
		{
			name: "51 tags",
			change: func(c *MappingConfig) {
				c.PrincipalTags = map[string]ValueRule{}
				for i := range 51 {
					c.PrincipalTags[fmt.Sprintf("T%02d", i)] = ValueRule{Value: "v"}
				}
			},
			want: []string{"mappings[0].principal_tags: 51 tags is too many: AWS accepts at most 50 session tags"},
		},
		{
			name: "50 tags",
			change: func(c *MappingConfig) {
				c.PrincipalTags = map[string]ValueRule{}
				for i := range 50 {
					c.PrincipalTags[fmt.Sprintf("T%02d", i)] = ValueRule{Value: "v"}
				}
			},
		},
		{
			name:   "tag key too long",
			change: func(c *MappingConfig) { c.PrincipalTags = map[string]ValueRule{strings.Repeat("k", 129): {From: "x"}} },
			want:   []string{"mappings[0].principal_tags." + strings.Repeat("k", 129) + ": tag key '" + strings.Repeat("k", 100) + "'... (129 characters) is not valid: must be 1 to 128 characters long (it has 129)"},
		},
		{
			name:   "tag key reserved",
			change: func(c *MappingConfig) { c.PrincipalTags = map[string]ValueRule{"aws:team": {From: "x"}} },
			want:   []string{`mappings[0].principal_tags["aws:team"]: tag key 'aws:team' is not valid: must not begin with "aws:" (reserved by AWS)`},
		},
		{
			name: "tag keys differing in case",
			change: func(c *MappingConfig) {
				c.PrincipalTags = map[string]ValueRule{"Team": {From: "x"}, "team": {From: "y"}}
			},
			want: []string{"mappings[0].principal_tags.team: tag key 'team' is the same as 'Team': tag keys are case-insensitive"},
		},
		{
			name: "literal tag value too long",
			change: func(c *MappingConfig) {
				c.PrincipalTags = map[string]ValueRule{"Team": {Value: strings.Repeat("v", 257)}}
			},
			want: []string{"~^mappings\\[0\\]\\.principal_tags\\.Team\\.value: 'v+'\\.\\.\\. \\(257 characters\\) cannot be the value of session tag 'Team': must be at most 256 characters long \\(it has 257\\)$"},
		},
		{
			name: "transitive keys",
			change: func(c *MappingConfig) {
				c.PrincipalTags = map[string]ValueRule{"Team": {From: "x"}}
				c.TransitiveTagKeys = []string{"team", "Project", "TEAM"}
			},
			want: []string{
				"mappings[0].transitive_tag_keys[1]: 'Project' is not one of the principal_tags keys",
				"mappings[0].transitive_tag_keys[2]: 'TEAM' is already listed at transitive_tag_keys[0]",
			},
		},
		{
			name: "extra attributes",
			change: func(c *MappingConfig) {
				c.Attributes = []AttributeRule{
					{Name: "https://example.com/team", From: "team"},
					{Name: "https://example.com/team", Value: "x"},
					{Name: idp.AttrSourceIdentity, From: "mail"},
					{From: "mail"},
					{Name: "urn:x"},
				}
			},
			want: []string{
				"mappings[0].attributes[1].name: 'https://example.com/team' is already defined by attributes[0]",
				"mappings[0].attributes[2].name: 'https://aws.amazon.com/SAML/Attributes/SourceIdentity' is reserved for AWS's attributes; use source_identity, role_session_name, session_duration, roles, principal_tags or transitive_tag_keys",
				"mappings[0].attributes[3].name: required: the SAML attribute name",
				"mappings[0].attributes[4]: needs from (an identity attribute) or value (a constant)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			errs := c.Validate("mappings[0]")
			checkErrors(t, errs, tc.want)
			// Compile reports the same problems, relative to the mapping.
			m, err := Compile(c)
			if (err == nil) != (len(tc.want) == 0) || (m == nil) == (err == nil) {
				t.Errorf("Compile = %v, %v", m, err)
			}
		})
	}
}

func checkErrors(t *testing.T, errs []error, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(errs), len(want), errors.Join(errs...))
		return
	}
	for i, err := range errs {
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("error %d is %T, not *ConfigError", i, err)
		}
		if re, ok := strings.CutPrefix(want[i], "~"); ok {
			if !regexp.MustCompile(re).MatchString(err.Error()) {
				t.Errorf("error %d:\n got %s\nwant match of %s", i, err, re)
			}
		} else if err.Error() != want[i] {
			t.Errorf("error %d:\n got %s\nwant %s", i, err, want[i])
		}
	}
}

func TestValidateReportsEveryProblemWithPaths(t *testing.T) {
	t.Parallel()
	c := MappingConfig{
		Name:            "broken",
		SourceIdentity:  &ValueRule{From: "mail", Pick: "any"},
		SessionDuration: 60,
		Roles: []RoleRule{
			{RoleARN: "arn:aws:iam::123456789012:role/R", ProviderARN: "arn:aws:iam::123456789012:saml-provider/P"},
			{Group: `^AWS-(\d{12}-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "x"},
		},
		PrincipalTags:     map[string]ValueRule{"Dept": {From: "department"}, "DEPT": {From: "dept"}},
		TransitiveTagKeys: []string{"CostCenter"},
	}
	errs := c.Validate("mappings[3]")
	wantPrefixes := []string{
		"mappings[3].source_identity.pick: ",
		"mappings[3].role_session_name: required",
		"mappings[3].session_duration: 60 is out of range",
		"mappings[3].roles[1].group: invalid regular expression: ",
		"mappings[3].principal_tags.Dept: tag key 'Dept' is the same as 'DEPT'",
		"mappings[3].transitive_tag_keys[0]: 'CostCenter' is not one of the principal_tags keys",
	}
	if len(errs) != len(wantPrefixes) {
		t.Fatalf("%d errors, want %d:\n%v", len(errs), len(wantPrefixes), errors.Join(errs...))
	}
	for i, err := range errs {
		if !strings.HasPrefix(err.Error(), wantPrefixes[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, err, wantPrefixes[i])
		}
	}
	var ce *ConfigError
	if !errors.As(errs[3], &ce) || ce.Err == nil {
		t.Errorf("the regular expression error is not kept: %#v", errs[3])
	}

	_, err := Compile(c)
	if err == nil {
		t.Fatal("Compile accepted a broken mapping")
	}
	for _, p := range []string{"source_identity.pick: ", "\nsession_duration: 60", "\nroles[1].group: "} {
		if !strings.Contains("\n"+err.Error(), p) {
			t.Errorf("Compile error does not contain %q:\n%v", p, err)
		}
	}
}
