package attributes

import (
	"reflect"
	"strings"
	"testing"

	"idpbridge/idp"
)

const shorthandRoles = `
    roles:
      - {role_arn: 'arn:aws:iam::123456789012:role/ReadOnly', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
`

// TestValueRuleShorthand: "source_identity: mail" is {from: mail}, in every
// place a value rule stands.
func TestValueRuleShorthand(t *testing.T) {
	t.Parallel()
	short, err := decodeStrict(t, `
mappings:
  - name: short
    source_identity: mail
    role_session_name: username
    principal_tags: {Department: department}
`+shorthandRoles)
	if err != nil {
		t.Fatalf("shorthand: %v", err)
	}
	long, err := decodeStrict(t, `
mappings:
  - name: short
    source_identity: {from: mail}
    role_session_name: {from: username}
    principal_tags: {Department: {from: department}}
`+shorthandRoles)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(short, long) {
		t.Fatalf("shorthand decodes to %+v, want %+v", short.Mappings[0], long.Mappings[0])
	}
	m, err := Compile(short.Mappings[0])
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Apply(idp.Identity{Username: "diego", Attributes: map[string][]string{
		"mail": {"diego@example.com"}, "department": {"Platform"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.SourceIdentity != "diego@example.com" || res.RoleSessionName != "diego" ||
		!reflect.DeepEqual(res.PrincipalTags, []idp.Tag{{Key: "Department", Value: "Platform"}}) {
		t.Fatalf("result %+v", res)
	}
}

// TestValueRuleDecodeRefusals: the full form stays strict, and a value
// rule is neither a number nor a list.
func TestValueRuleDecodeRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rule, want string
	}{
		{"unknown key", "{from: mail, colour: blue}", "line 4: field colour not found in type attributes.ValueRule"},
		{"number", "42", `line 4: a value rule is an attribute name or {from: ...} / {value: ...}, not "42"`},
		{"list", "[mail]", "line 4: a value rule is an attribute name or {from: ...} / {value: ...}"},
		{"bad transform", "{from: mail, transforms: [shout]}", `unknown transform "shout"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeStrict(t, "\nmappings:\n  - name: x\n    source_identity: "+tc.rule+"\n"+
				"    role_session_name: username\n"+shorthandRoles)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("source_identity: %s: err %v, want %q", tc.rule, err, tc.want)
			}
		})
	}
}

// TestProblemAdminMessage: each problem speaks to the person in Message
// and about the person, by name, in AdminMessage.
func TestProblemAdminMessage(t *testing.T) {
	t.Parallel()
	m, err := Compile(MappingConfig{
		Name:            "aws",
		SourceIdentity:  &ValueRule{From: "mail", Required: true},
		RoleSessionName: &ValueRule{From: "username"},
		Roles:           []RoleRule{{Group: `^AWS-(\d{12})-(.+)$`, RoleARN: "arn:aws:iam::$1:role/$2", ProviderARN: "arn:aws:iam::$1:saml-provider/idpbridge"}},
		PrincipalTags:   map[string]ValueRule{"Team": {From: "team"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Apply(idp.Identity{Username: "diego", Groups: []string{"staff"},
		Attributes: map[string][]string{"team": {"a", "b"}}})
	me, ok := err.(*MappingError)
	if !ok {
		t.Fatalf("Apply: %v, want a *MappingError", err)
	}
	want := map[string][2]string{
		"source_identity": {"your account has no mail, which is required for the source identity",
			"diego has no attribute mail, which is required for the source identity"},
		"roles": {`no AWS role is mapped for your account: you are in none of the groups matching '^AWS-(\d{12})-(.+)$' (your groups are 'staff')`,
			`no AWS role is mapped for diego: diego is in none of the groups matching '^AWS-(\d{12})-(.+)$' (diego's groups are 'staff')`},
		"principal_tags.Team": {"your account has 2 values for team ('a', 'b') but the session tag 'Team' takes one; an administrator can add pick: first to the mapping to use the first",
			"diego has 2 values for team ('a', 'b') but the session tag 'Team' takes one; add pick: first to the rule to use the first"},
	}
	if len(me.Problems) != len(want) {
		t.Fatalf("%d problems, want %d: %+v", len(me.Problems), len(want), me.Problems)
	}
	for _, p := range me.Problems {
		w := want[p.Field]
		if p.Message != w[0] || p.AdminMessage != w[1] {
			t.Errorf("%s:\n person %q\n admin  %q\nwant\n person %q\n admin  %q", p.Field, p.Message, p.AdminMessage, w[0], w[1])
		}
		if strings.Contains(p.AdminMessage, "your") || strings.Contains(p.AdminMessage, " you ") {
			t.Errorf("%s: the administrator's message speaks to the person: %q", p.Field, p.AdminMessage)
		}
	}

	// A name that needs quoting is quoted.
	_, err = m.Apply(idp.Identity{Username: "Diego Ramírez", Attributes: map[string][]string{}})
	if me, ok := err.(*MappingError); !ok || me.Problems[0].AdminMessage != "'Diego Ramírez' has no attribute mail, which is required for the source identity" {
		t.Errorf("Apply of a name with a space: %v", err)
	}
}
