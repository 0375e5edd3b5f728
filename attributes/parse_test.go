package attributes

import (
	"errors"
	"strings"
	"testing"

	"idpbridge/idp"
)

const parseRoles = `roles:
  - {role_arn: 'arn:aws:iam::123456789012:role/ReadOnly', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
`

// TestParseMappingFieldPaths: every problem of a console mapping body names
// its key path and line, for the editor to show next to the field.
func TestParseMappingFieldPaths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		body       string
		path, text string
		line       int
	}{
		{"unknown key", "name: aws\nrole_session_name: {from: username}\ncolour: blue\n" + parseRoles, "colour", "unknown key colour", 3},
		{"unknown transform", "name: aws\nrole_session_name: {from: username}\nsource_identity:\n  from: mail\n  transforms: [strip_domains]\n" + parseRoles, "source_identity.transforms", `unknown transform "strip_domains"`, 5},
		{"no role session name", "name: aws\n" + parseRoles, "role_session_name", "AWS requires a RoleSessionName", 0},
		{"bad regex", "name: aws\nrole_session_name: {from: username}\nroles:\n  - group: '(['\n    role_arn: x\n    provider_arn: y\n", "roles[0].group", "invalid regular expression", 4},
		{"both from and value", "name: aws\nrole_session_name: {from: username, value: x}\n" + parseRoles, "role_session_name", "keep one", 2},
		{"not YAML", "name: [aws\n", "", "did not find expected", 0},
		{"not a mapping", "- aws\n", "", "must be a YAML mapping", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, errs := ParseMapping([]byte(tc.body))
			for _, err := range errs {
				var ce *ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("%v is not a *ConfigError", err)
				}
				if ce.Key == tc.path && strings.Contains(ce.Msg, tc.text) {
					if tc.line != 0 && ce.Line != tc.line {
						t.Fatalf("%s: line %d, want %d", ce.Key, ce.Line, tc.line)
					}
					return
				}
			}
			t.Fatalf("problems %q, want one at %q saying %q", errs, tc.path, tc.text)
		})
	}
}

// TestParseMappingValid: a valid body decodes to its MappingConfig with no
// problem, in the short and the full form of a value rule.
func TestParseMappingValid(t *testing.T) {
	t.Parallel()
	mc, errs := ParseMapping([]byte("name: aws\nsource_identity: {from: mail, transforms: [strip_domain]}\nrole_session_name: username\n" + parseRoles))
	if errs != nil {
		t.Fatal(errs)
	}
	m, err := Compile(mc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Apply(idp.Identity{Username: "diego", Attributes: map[string][]string{"mail": {"diego.ramirez@example.com"}}})
	if err != nil || res.SourceIdentity != "diego.ramirez" || res.RoleSessionName != "diego" {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
}

// TestMappingHints: the first trap. "source_identity: mail" is
// accepted (it means {from: mail}), and the editor says how to add
// strip_domain; a list or a name with spaces gets the full form too.
func TestMappingHints(t *testing.T) {
	t.Parallel()
	cases := []struct{ body, path, want string }{
		{"source_identity: mail\n", "source_identity", "write {from: mail, transforms: [strip_domain]}"},
		{"source_identity: mail strip_domain\n", "source_identity", "write {from: mail, transforms: [strip_domain]}"},
		{"source_identity: [mail, strip_domain]\n", "source_identity", "write {from: mail, transforms: [strip_domain]}"},
		{"principal_tags: {Team: team}\n", "principal_tags.Team", "is short for {from: team}"},
	}
	for _, tc := range cases {
		hints := MappingHints([]byte(tc.body))
		if len(hints) != 1 || hints[0].Key != tc.path || !strings.Contains(hints[0].Msg, tc.want) || hints[0].Line != 1 {
			t.Errorf("MappingHints(%q) = %+v, want one at %s saying %q", tc.body, hints, tc.path, tc.want)
		}
	}
	if h := MappingHints([]byte("source_identity: {from: mail, transforms: [strip_domain]}\n")); h != nil {
		t.Errorf("the full form got hints %+v", h)
	}
}
