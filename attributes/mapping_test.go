package attributes

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"idpbridge/idp"
)

const (
	roleRO   = "arn:aws:iam::123456789012:role/ReadOnly"
	provider = "arn:aws:iam::123456789012:saml-provider/idpbridge"
)

// exampleConfig is the configuration contract's example mapping.
func exampleConfig() MappingConfig {
	return MappingConfig{
		Name:            "aws-default",
		SourceIdentity:  &ValueRule{From: "sAMAccountName", Transforms: []Transform{Lowercase()}, Required: true},
		RoleSessionName: &ValueRule{From: "mail"},
		SessionDuration: 3600,
		Roles: []RoleRule{
			{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"},
			{RoleARN: roleRO, ProviderARN: provider},
		},
		PrincipalTags:     map[string]ValueRule{"Department": {From: "department"}},
		TransitiveTagKeys: []string{"Department"},
		Attributes:        []AttributeRule{{Name: "https://example.com/attr/team", From: "team"}},
	}
}

// diego is the seed scenario's person.
func diego() idp.Identity {
	return idp.Identity{
		Username:    "diego",
		Email:       "diego.ramirez@example.com",
		DisplayName: "Diego Ramírez",
		Groups:      []string{"Staff", "AWS-111111111111-CriticalRole", "AWS-123456789012-Developer_Role"},
		Attributes: map[string][]string{
			"sAMAccountName": {"DiegoRamirez"},
			"mail":           {"diego.ramirez@example.com"},
			"department":     {"Engineering"},
			"team":           {"platform", "on-call"},
		},
		Connector: "ldap",
	}
}

func mustCompile(t testing.TB, c MappingConfig) *Mapping {
	t.Helper()
	m, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestApplyExample(t *testing.T) {
	t.Parallel()
	m := mustCompile(t, exampleConfig())
	if m.Name() != "aws-default" {
		t.Errorf("Name() = %q", m.Name())
	}
	res, err := m.Apply(diego())
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{
		SourceIdentity:  "diegoramirez",
		RoleSessionName: "diego.ramirez@example.com",
		SessionDuration: 3600,
		Roles: []Role{
			{"arn:aws:iam::111111111111:role/CriticalRole", "arn:aws:iam::111111111111:saml-provider/idpbridge"},
			{"arn:aws:iam::123456789012:role/Developer_Role", "arn:aws:iam::123456789012:saml-provider/idpbridge"},
			{roleRO, provider},
		},
		PrincipalTags:     []idp.Tag{{Key: "Department", Value: "Engineering"}},
		TransitiveTagKeys: []string{"Department"},
		Attributes:        []Attribute{{"https://example.com/attr/team", []string{"platform", "on-call"}}},
	}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("Apply =\n%+v\nwant\n%+v", res, want)
	}

	wantSAML := []Attribute{
		{idp.AttrRole, []string{
			"arn:aws:iam::111111111111:role/CriticalRole,arn:aws:iam::111111111111:saml-provider/idpbridge",
			"arn:aws:iam::123456789012:role/Developer_Role,arn:aws:iam::123456789012:saml-provider/idpbridge",
			roleRO + "," + provider,
		}},
		{"https://aws.amazon.com/SAML/Attributes/RoleSessionName", []string{"diego.ramirez@example.com"}},
		{"https://aws.amazon.com/SAML/Attributes/SessionDuration", []string{"3600"}},
		{"https://aws.amazon.com/SAML/Attributes/SourceIdentity", []string{"diegoramirez"}},
		{"https://aws.amazon.com/SAML/Attributes/PrincipalTag:Department", []string{"Engineering"}},
		{"https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys", []string{"Department"}},
		{"https://example.com/attr/team", []string{"platform", "on-call"}},
	}
	if got := res.SAMLAttributes(); !reflect.DeepEqual(got, wantSAML) {
		t.Errorf("SAMLAttributes =\n%+v\nwant\n%+v", got, wantSAML)
	}
}

func TestSAMLAttributesOrderAndOmissions(t *testing.T) {
	t.Parallel()
	res := &Result{
		RoleSessionName:   "diego",
		Roles:             []Role{{roleRO, provider}},
		PrincipalTags:     []idp.Tag{{Key: "Project", Value: "x"}, {Key: "CostCenter", Value: "42"}, {Key: "Department", Value: ""}},
		TransitiveTagKeys: []string{"Project", "CostCenter"},
	}
	var names []string
	for _, a := range res.SAMLAttributes() {
		names = append(names, strings.TrimPrefix(a.Name, "https://aws.amazon.com/SAML/Attributes/"))
	}
	want := []string{"Role", "RoleSessionName", "PrincipalTag:CostCenter", "PrincipalTag:Department", "PrincipalTag:Project", "TransitiveTagKeys"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if res.PrincipalTags[0].Key != "Project" {
		t.Error("SAMLAttributes reordered the result's tags")
	}
}

// change builds a mapping from the example with one change.
func change(f func(*MappingConfig)) MappingConfig {
	c := exampleConfig()
	f(&c)
	return c
}

func TestApplyValueRules(t *testing.T) {
	t.Parallel()
	type want struct {
		sourceIdentity  string
		roleSessionName string
		tags            []idp.Tag
		transitive      []string
		attrs           []Attribute
		problems        []Problem // when set, Apply must fail with exactly these
	}
	withSAM := func(vs ...string) func(*idp.Identity) {
		return func(id *idp.Identity) { id.Attributes["sAMAccountName"] = vs }
	}
	tests := []struct {
		name   string
		config MappingConfig
		person func(*idp.Identity)
		want   want
	}{
		{
			name:   "seed DiegoRamirez accepted as is",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Transforms = nil }),
			want:   want{sourceIdentity: "DiegoRamirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "space",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Transforms = nil }),
			person: withSAM("Diego Ramirez"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "Diego Ramirez",
				Message: "your account's sAMAccountName 'Diego Ramirez' cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found a space)",
			}}},
		},
		{
			name:   "accents after a transform",
			person: withSAM("José García"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "josé garcía",
				Message: "your account's sAMAccountName 'José García' ('josé garcía' after lowercase) cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found 'é', a space, 'í')",
			}}},
		},
		{
			name:   "aws prefix",
			person: withSAM("aws:admin"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "aws:admin",
				Message: `your account's sAMAccountName 'aws:admin' cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found ':'); must not begin with "aws:"`,
			}}},
		},
		{
			name:   "AWS prefix lowercased",
			person: withSAM("AWS:admin"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "aws:admin",
				Message: `your account's sAMAccountName 'AWS:admin' ('aws:admin' after lowercase) cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found ':'); must not begin with "aws:"`,
			}}},
		},
		{
			name:   "65 characters",
			person: withSAM(strings.Repeat("d", 65)),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: strings.Repeat("d", 65),
				Message: "your account's sAMAccountName '" + strings.Repeat("d", 65) + "' cannot be a source identity: must be 2 to 64 characters long (it has 65)",
			}}},
		},
		{
			name:   "65 characters truncated to 64",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Transforms = []Transform{mustTruncate(t, 64)} }),
			person: withSAM(strings.Repeat("d", 65)),
			want:   want{sourceIdentity: strings.Repeat("d", 64), roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "1 character",
			person: withSAM("d"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "d",
				Message: "your account's sAMAccountName 'd' cannot be a source identity: must be 2 to 64 characters long (it has 1)",
			}}},
		},
		{
			name:   "exactly 2 characters",
			person: withSAM("Dr"),
			want:   want{sourceIdentity: "dr", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "exactly 64 characters",
			person: withSAM(strings.Repeat("D", 64)),
			want:   want{sourceIdentity: strings.Repeat("d", 64), roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "multi-valued without pick",
			person: withSAM("DiegoRamirez", "dramirez"),
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName", Value: "DiegoRamirez\ndramirez",
				Message: "your account has 2 values for sAMAccountName ('DiegoRamirez', 'dramirez') but the source identity takes one; an administrator can add pick: first to the mapping to use the first",
			}}},
		},
		{
			name:   "multi-valued with pick first",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Pick = PickFirst }),
			person: withSAM("DiegoRamirez", "dramirez"),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "pick first does not check later values",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Pick = PickFirst }),
			person: withSAM("DiegoRamirez", "José García"),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "values equal after transforms count as one",
			person: withSAM("DiegoRamirez", "diegoramirez"),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "empty values count as absent",
			person: withSAM("", "DiegoRamirez"),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "missing required source identity",
			person: func(id *idp.Identity) { delete(id.Attributes, "sAMAccountName") },
			want: want{problems: []Problem{{
				Field: "source_identity", Attribute: "sAMAccountName",
				Message: "your account has no sAMAccountName, which is required for the source identity",
			}}},
		},
		{
			name:   "missing optional source identity is omitted",
			config: change(func(c *MappingConfig) { c.SourceIdentity.Required = false }),
			person: func(id *idp.Identity) { delete(id.Attributes, "sAMAccountName") },
			want:   want{roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "attribute names are case-insensitive",
			config: change(func(c *MappingConfig) { c.SourceIdentity.From = "samaccountname" }),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name:   "role session name always required",
			person: func(id *idp.Identity) { delete(id.Attributes, "mail") },
			want: want{problems: []Problem{{
				Field: "role_session_name", Attribute: "mail",
				Message: "your account has no mail, which is required for the role session name",
			}}},
		},
		{
			name:   "role session name from username",
			config: change(func(c *MappingConfig) { c.RoleSessionName = &ValueRule{From: "username"} }),
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego"},
		},
		{
			name: "role session name from display name with a regex",
			config: change(func(c *MappingConfig) {
				c.RoleSessionName = &ValueRule{From: "displayName", Transforms: []Transform{mustRegex(t, `[^A-Za-z0-9]+`, ".")}}
			}),
			want: want{sourceIdentity: "diegoramirez", roleSessionName: "Diego.Ram.rez"},
		},
		{
			name: "literal values",
			config: change(func(c *MappingConfig) {
				c.RoleSessionName = &ValueRule{Value: "Shared"}
				c.SourceIdentity = &ValueRule{Value: "BreakGlass"}
			}),
			want: want{sourceIdentity: "BreakGlass", roleSessionName: "Shared"},
		},
		{
			name: "several problems at once",
			person: func(id *idp.Identity) {
				id.Attributes["sAMAccountName"] = []string{"José"}
				id.Attributes["mail"] = []string{"a"}
				id.Attributes["department"] = []string{"R&D"}
			},
			want: want{problems: []Problem{
				{Field: "source_identity", Attribute: "sAMAccountName", Value: "josé", Message: "your account's sAMAccountName 'José' ('josé' after lowercase) cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found 'é')"},
				{Field: "role_session_name", Attribute: "mail", Value: "a", Message: "your account's mail 'a' cannot be a role session name: must be 2 to 64 characters long (it has 1)"},
				{Field: "principal_tags.Department", Attribute: "department", Value: "R&D", Message: "your account's department 'R&D' cannot be the value of session tag 'Department': only letters, digits, spaces and _.:/=+-@ are allowed (found '&')"},
			}},
		},
		{
			name:   "tag value of 256 characters",
			person: func(id *idp.Identity) { id.Attributes["department"] = []string{strings.Repeat("é", 256)} },
			want: want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com",
				tags: []idp.Tag{{Key: "Department", Value: strings.Repeat("é", 256)}}, transitive: []string{"Department"}},
		},
		{
			name:   "tag value of 257 characters",
			person: func(id *idp.Identity) { id.Attributes["department"] = []string{strings.Repeat("v", 257)} },
			want: want{problems: []Problem{{
				Field: "principal_tags.Department", Attribute: "department", Value: strings.Repeat("v", 257),
				Message: "your account's department '" + strings.Repeat("v", 100) + "'... (257 characters) cannot be the value of session tag 'Department': must be at most 256 characters long (it has 257)",
			}}},
		},
		{
			name:   "missing optional tag drops its transitive key",
			person: func(id *idp.Identity) { delete(id.Attributes, "department") },
			want:   want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com"},
		},
		{
			name: "tags sorted by key with literal and case-insensitive transitive key",
			config: change(func(c *MappingConfig) {
				c.PrincipalTags["CostCenter"] = ValueRule{Value: "4200"}
				c.PrincipalTags["Akey"] = ValueRule{From: "mail", Transforms: []Transform{StripDomain()}}
				c.TransitiveTagKeys = []string{"costcenter", "Department"}
			}),
			want: want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com",
				tags:       []idp.Tag{{Key: "Akey", Value: "diego.ramirez"}, {Key: "CostCenter", Value: "4200"}, {Key: "Department", Value: "Engineering"}},
				transitive: []string{"CostCenter", "Department"}},
		},
		{
			name:   "multi-valued tag without pick",
			person: func(id *idp.Identity) { id.Attributes["department"] = []string{"Engineering", "Sales"} },
			want: want{problems: []Problem{{
				Field: "principal_tags.Department", Attribute: "department", Value: "Engineering\nSales",
				Message: "your account has 2 values for department ('Engineering', 'Sales') but the session tag 'Department' takes one; an administrator can add pick: first to the mapping to use the first",
			}}},
		},
		{
			name: "required extra attribute missing",
			config: change(func(c *MappingConfig) {
				c.Attributes = []AttributeRule{{Name: "urn:oid:1.3.6.1.4.1.5923.1.1.1.6", From: "eduPersonPrincipalName", Required: true}}
			}),
			want: want{problems: []Problem{{
				Field: "attributes[0]", Attribute: "eduPersonPrincipalName",
				Message: "your account has no eduPersonPrincipalName, which is required for the attribute 'urn:oid:1.3.6.1.4.1.5923.1.1.1.6'",
			}}},
		},
		{
			name: "extra attributes transformed without repeats, missing ones omitted",
			config: change(func(c *MappingConfig) {
				c.Attributes = []AttributeRule{
					{Name: "groups", From: "groups", Transforms: []Transform{mustRegex(t, `^AWS-\d{12}-`, ""), Lowercase()}},
					{Name: "none", From: "nickname"},
					{Name: "const", Value: "v1"},
				}
				c.Roles = c.Roles[1:]
			}),
			person: func(id *idp.Identity) { id.Groups = append(id.Groups, "STAFF") },
			want: want{sourceIdentity: "diegoramirez", roleSessionName: "diego.ramirez@example.com",
				attrs: []Attribute{{"groups", []string{"staff", "criticalrole", "developer_role"}}, {"const", []string{"v1"}}}},
		},
	}
	defaultTags := []idp.Tag{{Key: "Department", Value: "Engineering"}}
	defaultAttrs := []Attribute{{"https://example.com/attr/team", []string{"platform", "on-call"}}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.config.Name == "" {
				tc.config = exampleConfig()
			}
			m := mustCompile(t, tc.config)
			id := diego()
			if tc.person != nil {
				tc.person(&id)
			}
			res, err := m.Apply(id)
			if tc.want.problems != nil {
				var me *MappingError
				if !errors.As(err, &me) {
					t.Fatalf("Apply = %+v, %v; want a *MappingError", res, err)
				}
				if res != nil {
					t.Errorf("Apply returned a result with its error: %+v", res)
				}
				if me.Mapping != "aws-default" {
					t.Errorf("MappingError.Mapping = %q", me.Mapping)
				}
				checkProblems(t, me.Problems, tc.want.problems)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.SourceIdentity != tc.want.sourceIdentity || res.RoleSessionName != tc.want.roleSessionName {
				t.Errorf("SourceIdentity, RoleSessionName = %q, %q; want %q, %q", res.SourceIdentity, res.RoleSessionName, tc.want.sourceIdentity, tc.want.roleSessionName)
			}
			wantTags, wantTransitive := tc.want.tags, tc.want.transitive
			if wantTags == nil && id.Values("department") != nil && len(tc.config.PrincipalTags) == 1 {
				wantTags, wantTransitive = defaultTags, []string{"Department"}
			}
			if !reflect.DeepEqual(res.PrincipalTags, wantTags) || !reflect.DeepEqual(res.TransitiveTagKeys, wantTransitive) {
				t.Errorf("tags %q transitive %q, want %q %q", res.PrincipalTags, res.TransitiveTagKeys, wantTags, wantTransitive)
			}
			wantAttrs := tc.want.attrs
			if wantAttrs == nil && len(tc.config.Attributes) == 1 && tc.config.Attributes[0].From == "team" {
				wantAttrs = defaultAttrs
			}
			if !reflect.DeepEqual(res.Attributes, wantAttrs) {
				t.Errorf("attributes %q, want %q", res.Attributes, wantAttrs)
			}
		})
	}
}

func checkProblems(t *testing.T, got, want []Problem) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), formatProblems(got))
		return
	}
	for i := range got {
		g := got[i]
		if g.AdminMessage == "" || strings.Contains(g.AdminMessage, "your ") {
			t.Errorf("problem %d: no administrator's message about the person: %q", i, g.AdminMessage)
		}
		if want[i].AdminMessage == "" {
			g.AdminMessage = "" // the cases state the person's message
		}
		if g != want[i] {
			t.Errorf("problem %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func formatProblems(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %+v\n", p)
	}
	return b.String()
}

func TestApplyRoles(t *testing.T) {
	t.Parallel()
	static := RoleRule{RoleARN: roleRO, ProviderARN: provider}
	byGroup := RoleRule{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"}
	role := func(acct, name string) Role {
		return Role{"arn:aws:iam::" + acct + ":role/" + name, "arn:aws:iam::" + acct + ":saml-provider/idpbridge"}
	}
	tests := []struct {
		name     string
		rules    []RoleRule
		groups   []string
		want     []Role
		problems []Problem
	}{
		{
			name:   "capture groups over several groups, in group order",
			rules:  []RoleRule{byGroup},
			groups: []string{"AWS-222222222222-Admin", "Staff", "AWS-111111111111-CriticalRole", "aws-333333333333-lower"},
			want:   []Role{role("222222222222", "Admin"), role("111111111111", "CriticalRole")},
		},
		{
			name:   "whole group must match",
			rules:  []RoleRule{{Group: `AWS-Admins`, RoleARN: "arn:aws:iam::123456789012:role/Admin", ProviderARN: provider}},
			groups: []string{"NotAWS-Admins", "AWS-Admins-Old"},
			problems: []Problem{{Field: "roles", Attribute: "groups", Value: "NotAWS-Admins\nAWS-Admins-Old",
				Message: "no AWS role is mapped for your account: you are in none of the groups matching 'AWS-Admins' (your groups are 'NotAWS-Admins', 'AWS-Admins-Old')"}},
		},
		{
			name:   "alternation anchored as a whole",
			rules:  []RoleRule{{Group: `Admins|Ops`, RoleARN: "arn:aws:iam::123456789012:role/Admin", ProviderARN: provider}},
			groups: []string{"Ops"},
			want:   []Role{{"arn:aws:iam::123456789012:role/Admin", provider}},
		},
		{
			name:   "static roles for everyone, after earlier rules",
			rules:  []RoleRule{byGroup, static},
			groups: []string{"AWS-123456789012-Developer_Role"},
			want:   []Role{role("123456789012", "Developer_Role"), {roleRO, provider}},
		},
		{
			name:   "static role only",
			rules:  []RoleRule{static},
			groups: nil,
			want:   []Role{{roleRO, provider}},
		},
		{
			name:   "deduplicated across rules and groups",
			rules:  []RoleRule{static, byGroup, {Group: `^RO-(.*)$`, RoleARN: roleRO, ProviderARN: provider}, byGroup},
			groups: []string{"AWS-123456789012-ReadOnly", "RO-a", "RO-b", "AWS-123456789012-Dev"},
			want:   []Role{{roleRO, provider}, role("123456789012", "Dev")},
		},
		{
			name:  "named submatches and paths",
			rules: []RoleRule{{Group: `^aws_(?P<acct>\d{12})_(?P<team>[a-z]+)_(?P<role>\w+)$`, RoleARN: "arn:aws:iam::${acct}:role/${team}/${role}", ProviderARN: "arn:aws:iam::${acct}:saml-provider/idpbridge"}},
			groups: []string{
				"aws_123456789012_data_Analyst",
			},
			want: []Role{role("123456789012", "data/Analyst")},
		},
		{
			name:   "invalid expansion is the person's problem, valid ones still checked",
			rules:  []RoleRule{{Group: `^AWS-(\d+)-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"}},
			groups: []string{"AWS-123456789012-Good", "AWS-12345-Short", "AWS-111111111111-Has Space"},
			problems: []Problem{
				{Field: "roles[0].role_arn", Attribute: "groups", Value: "AWS-12345-Short",
					Message: `your group 'AWS-12345-Short' matches '^AWS-(\d+)-(.+)$' but makes the role ARN 'arn:aws:iam::12345:role/Short', which is not valid: the account '12345' is not 12 digits; a role ARN looks like arn:aws:iam::123456789012:role/name or arn:aws:iam::123456789012:role/path/name`},
				{Field: "roles[0].provider_arn", Attribute: "groups", Value: "AWS-12345-Short",
					Message: `your group 'AWS-12345-Short' matches '^AWS-(\d+)-(.+)$' but makes the SAML provider ARN 'arn:aws:iam::12345:saml-provider/idpbridge', which is not valid: the account '12345' is not 12 digits; a SAML provider ARN looks like arn:aws:iam::123456789012:saml-provider/name`},
				{Field: "roles[0].role_arn", Attribute: "groups", Value: "AWS-111111111111-Has Space",
					Message: `your group 'AWS-111111111111-Has Space' matches '^AWS-(\d+)-(.+)$' but makes the role ARN 'arn:aws:iam::111111111111:role/Has Space', which is not valid: the role name may only have letters A-Z and a-z, digits and _+=,.@- (found a space)`},
			},
		},
		{
			name:   "no role",
			rules:  []RoleRule{byGroup, {Group: "Admins", RoleARN: roleRO, ProviderARN: provider}},
			groups: []string{"Staff", "VPN"},
			problems: []Problem{{Field: "roles", Attribute: "groups", Value: "Staff\nVPN",
				Message: `no AWS role is mapped for your account: you are in none of the groups matching '^AWS-(\d{12})-(.+)$', 'Admins' (your groups are 'Staff', 'VPN')`}},
		},
		{
			name:   "no role and no groups",
			rules:  []RoleRule{byGroup},
			groups: nil,
			problems: []Problem{{Field: "roles", Attribute: "groups",
				Message: `no AWS role is mapped for your account: you are in none of the groups matching '^AWS-(\d{12})-(.+)$' (you are in no group)`}},
		},
		{
			name:   "no role lists at most ten groups",
			rules:  []RoleRule{byGroup},
			groups: strings.Split("g1 g2 g3 g4 g5 g6 g7 g8 g9 g10 g11 g12", " "),
			problems: []Problem{{Field: "roles", Attribute: "groups", Value: strings.ReplaceAll("g1 g2 g3 g4 g5 g6 g7 g8 g9 g10 g11 g12", " ", "\n"),
				Message: `no AWS role is mapped for your account: you are in none of the groups matching '^AWS-(\d{12})-(.+)$' (your groups are 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'g9', 'g10', and 2 more)`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustCompile(t, MappingConfig{Name: "roles", RoleSessionName: &ValueRule{From: "username"}, Roles: tc.rules})
			res, err := m.Apply(idp.Identity{Username: "diego", Groups: tc.groups})
			if tc.problems != nil {
				var me *MappingError
				if !errors.As(err, &me) {
					t.Fatalf("Apply = %+v, %v; want a *MappingError", res, err)
				}
				checkProblems(t, me.Problems, tc.problems)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.Roles, tc.want) {
				t.Errorf("roles\n%v\nwant\n%v", res.Roles, tc.want)
			}
		})
	}
}

func TestMappingErrorMessages(t *testing.T) {
	t.Parallel()
	m := mustCompile(t, exampleConfig())
	id := diego()
	id.Attributes["sAMAccountName"] = []string{"José García"}
	id.Groups = nil
	m2 := mustCompile(t, change(func(c *MappingConfig) { c.Roles = c.Roles[:1] }))
	for _, tc := range []struct {
		name    string
		m       *Mapping
		wantErr string
	}{
		{"one problem", m, `mapping "aws-default": your account's sAMAccountName 'José García' ('josé garcía' after lowercase) cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found 'é', a space, 'í')`},
		{"two problems", m2, `mapping "aws-default": your account's sAMAccountName 'José García' ('josé garcía' after lowercase) cannot be a source identity: only letters A-Z and a-z, digits and _+=,.@- are allowed (found 'é', a space, 'í'); no AWS role is mapped for your account: you are in none of the groups matching '^AWS-(\d{12})-(.+)$' (you are in no group)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Apply(id)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error\n%v\nwant\n%s", err, tc.wantErr)
			}
			if got := idp.ErrorCode(err); got != idp.EForbidden {
				t.Errorf("idp.ErrorCode = %q", got)
			}
			if got, want := idp.ErrorMessage(err), strings.TrimPrefix(tc.wantErr, `mapping "aws-default": `); got != want {
				t.Errorf("idp.ErrorMessage = %q, want %q", got, want)
			}
		})
	}
}

func TestApplyDoesNotShareState(t *testing.T) {
	t.Parallel()
	m := mustCompile(t, exampleConfig())
	a, err := m.Apply(diego())
	if err != nil {
		t.Fatal(err)
	}
	a.Attributes[0].Values[0] = "changed"
	saml := a.SAMLAttributes()
	saml[len(saml)-1].Values[0] = "changed again"
	id := diego()
	b, err := m.Apply(id)
	if err != nil {
		t.Fatal(err)
	}
	if b.Attributes[0].Values[0] != "platform" || a.Attributes[0].Values[0] != "changed" {
		t.Errorf("results share memory: %q, %q", a.Attributes[0].Values, b.Attributes[0].Values)
	}
}

func BenchmarkApply(b *testing.B) {
	m := mustCompile(b, exampleConfig())
	id := diego()
	for i := range 20 {
		id.Groups = append(id.Groups, fmt.Sprintf("Department-Group-%02d", i))
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := m.Apply(id)
		if err != nil {
			b.Fatal(err)
		}
		_ = res.SAMLAttributes()
	}
}
