package sts

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func validate(t *testing.T, src string, mod func(*BuildOptions)) []string {
	t.Helper()
	opt := BuildOptions{BaseURL: "https://idp.example.com", Getenv: func(k string) string { return testEnvVars[k] }}
	if mod != nil {
		mod(&opt)
	}
	return decodeConfig(t, src).Validate(opt)
}

// TestConfigProblems: every problem names its key path; policy problems
// name the statement and the reason.
func TestConfigProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"unknown condition operator", `
accounts:
  - id: "123456789012"
    roles:
      - name: Fine
        trust_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole}]}
      - name: Broken
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole, Condition: {StringEqualz: {sts:SourceIdentity: x}}}
`, `sts.accounts[0].roles[1].trust_policy: Statement[0].Condition: unknown operator "StringEqualz"`},
		{"NotPrincipal in a trust policy", `
accounts:
  - id: "123456789012"
    roles:
      - name: R
        trust_policy: {Version: "2012-10-17", Statement: [{Effect: Allow, NotPrincipal: {AWS: "123456789012"}, Action: sts:AssumeRole}]}
`, `sts.accounts[0].roles[0].trust_policy: Statement[0].NotPrincipal: not allowed in a trust policy`},
		{"Principal in an identity policy", `
accounts:
  - id: "123456789012"
    users:
      - name: U
        policies: [{name: p, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Principal: "*", Action: "*", Resource: "*"}]}}]
`, `sts.accounts[0].users[0].policies[0].document: Statement[0].Principal: not allowed in an identity policy`},
		{"no trust policy", `
accounts:
  - id: "123456789012"
    roles: [{name: R}]
`, `sts.accounts[0].roles[0].trust_policy: required`},
		{"account ID not quoted", `
accounts:
  - id: 12345
`, `sts.accounts[0].id: "12345" is not a 12-digit account ID`},
		{"secret env unset", `
accounts:
  - id: "123456789012"
    users: [{name: U, access_keys: [{id: AKIAQ3EGVEXAMPLE0001, secret_env: NOPE}]}]
`, `sts.accounts[0].users[0].access_keys[0]: environment variable NOPE is empty or unset`},
		{"no secret source", `
accounts:
  - id: "123456789012"
    users: [{name: U, access_keys: [{id: AKIAQ3EGVEXAMPLE0001}]}]
`, `sts.accounts[0].users[0].access_keys[0]: secret_env or secret_file is required`},
		{"access key used twice", `
accounts:
  - id: "123456789012"
    users:
      - {name: U, access_keys: [{id: AKIAQ3EGVEXAMPLE0001, secret_env: BOB_SECRET}]}
      - {name: V, access_keys: [{id: AKIAQ3EGVEXAMPLE0001, secret_env: BOB_SECRET}]}
`, `sts.accounts[0].users[1].access_keys[0].id: access key AKIAQ3EGVEXAMPLE0001 is already used at sts.accounts[0].users[0].access_keys[0]`},
		{"bad access key ID", `
accounts:
  - id: "123456789012"
    users: [{name: U, access_keys: [{id: ASIAQ3EGVEXAMPLE0001, secret_env: BOB_SECRET}]}]
`, `sts.accounts[0].users[0].access_keys[0].id: "ASIAQ3EGVEXAMPLE0001" is not an access key ID`},
		{"max session duration", `
accounts:
  - id: "123456789012"
    roles: [{name: R, max_session_duration: 60, trust_policy: {Statement: {Effect: Allow, Principal: "*", Action: sts:AssumeRole}}}]
`, `sts.accounts[0].roles[0].max_session_duration: 60 is outside 3600 to 43200 seconds`},
		{"metadata other than self", `
accounts:
  - id: "123456789012"
    saml_providers: [{name: p, metadata: other}]
`, `sts.accounts[0].saml_providers[0].metadata: "other": the only value is self`},
		{"two metadata sources", `
accounts:
  - id: "123456789012"
    saml_providers: [{name: p, metadata: self, metadata_url: "https://x.example.com/md"}]
`, `sts.accounts[0].saml_providers[0]: set exactly one of metadata: self, metadata_file and metadata_url`},
		{"OIDC provider over http", `
accounts:
  - id: "123456789012"
    oidc_providers: [{url: "http://xyz.com", client_ids: [c]}]
`, `sts.accounts[0].oidc_providers[0].url: "http://xyz.com" must be an https:// issuer URL`},
		{"OIDC provider without client IDs", `
accounts:
  - id: "123456789012"
    oidc_providers: [{url: "https://xyz.com"}]
`, `sts.accounts[0].oidc_providers[0].client_ids: at least one client ID`},
		{"role tag with aws: prefix", `
accounts:
  - id: "123456789012"
    roles: [{name: R, tags: {"aws:x": y}, trust_policy: {Statement: {Effect: Allow, Principal: "*", Action: sts:AssumeRole}}}]
`, `sts.accounts[0].roles[0].tags: key "aws:x"`},
		{"recipient not canonical", `
saml_recipients: ["signin.aws.amazon.com/saml"]
`, `sts.saml_recipients[0]: "signin.aws.amazon.com/saml" must be an absolute URL`},
		{"bad region", `
region: mars
`, `sts.region: "mars" is not a region name`},
		{"duplicate role", `
accounts:
  - id: "123456789012"
    roles:
      - {name: R, trust_policy: {Statement: {Effect: Allow, Principal: "*", Action: sts:AssumeRole}}}
      - {name: R, trust_policy: {Statement: {Effect: Allow, Principal: "*", Action: sts:AssumeRole}}}
`, `sts.accounts[0].roles[1].name: role R is listed twice`},
		{"document file missing", `
accounts:
  - id: "123456789012"
    roles: [{name: R, trust_policy_file: /nonexistent/trust.json}]
`, `sts.accounts[0].roles[0].trust_policy_file: /nonexistent/trust.json: no such file or directory`},
		{"document neither mapping nor string", `
accounts:
  - id: "123456789012"
    roles: [{name: R, trust_policy: [1, 2]}]
`, `sts.accounts[0].roles[0].trust_policy: line 4: a policy document must be a mapping or a JSON string`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			problems := validate(t, tc.src, nil)
			for _, p := range problems {
				if strings.HasPrefix(p, tc.want) {
					return
				}
			}
			t.Fatalf("problems %q lack %q", problems, tc.want)
		})
	}
}

// TestConfigSeedIsValid: the test configurations build without problems.
func TestConfigSeedIsValid(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{"seed": seedConfig, "vector6": vector6Config()} {
		if p := validate(t, src, nil); len(p) != 0 {
			t.Errorf("%s: %q", name, p)
		}
	}
}

// TestConfigDocumentForms: a policy may be a YAML mapping, a JSON string or
// a file, with the same meaning; MarshalYAML gives back what was written.
func TestConfigDocumentForms(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "trust.json")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true}}}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
accounts:
  - id: "123456789012"
    roles:
      - name: Inline
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "123456789012"}
              Action: sts:AssumeRole
              Condition: {NumericLessThan: {aws:MultiFactorAuthAge: 3600}, Bool: {aws:SecureTransport: true}}
      - name: String
        trust_policy: '` + doc + `'
      - name: File
        trust_policy_file: ` + file + `
`
	c := decodeConfig(t, src)
	d, err := Build(c, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := d.Account(acctA)
	for _, name := range []string{"Inline", "String", "File"} {
		r := a.Roles[name]
		if r == nil || r.Trust == nil || len(r.Trust.Statements) != 1 || len(r.Trust.Statements[0].Conditions) != 2 {
			t.Fatalf("%s: %+v", name, r)
		}
	}
	out, err := yaml.Marshal(c)
	if err != nil || !strings.Contains(string(out), "'aws:MultiFactorAuthAge': 3600") {
		t.Fatalf("MarshalYAML: %v\n%s", err, out)
	}
}

// TestStableIDs: user and role IDs depend only on account and name.
func TestStableIDs(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^(AROA|AIDA)[A-Z2-7]{17}$`)
	d1 := buildDirectory(t, seedConfig, nil)
	d2 := buildDirectory(t, seedConfig, nil)
	a1, _ := d1.Account(acctA)
	a2, _ := d2.Account(acctA)
	for name, r := range a1.Roles {
		if !shape.MatchString(r.ID) || !strings.HasPrefix(r.ID, "AROA") || a2.Roles[name].ID != r.ID {
			t.Fatalf("role %s: ID %q / %q", name, r.ID, a2.Roles[name].ID)
		}
	}
	for name, u := range a1.Users {
		if !shape.MatchString(u.ID) || !strings.HasPrefix(u.ID, "AIDA") || a2.Users[name].ID != u.ID {
			t.Fatalf("user %s: ID %q", name, u.ID)
		}
	}
	if RoleID(acctA, "R") == RoleID(acctB, "R") || RoleID(acctA, "R") == RoleID(acctA, "S") || UserID(acctA, "R")[4:] == RoleID(acctA, "R")[4:] {
		t.Fatal("IDs collide")
	}
}

// TestDefaultsAndLookups: default region and recipient; roles are found
// by their exact ARN, path included.
func TestDefaultsAndLookups(t *testing.T) {
	t.Parallel()
	d := buildDirectory(t, `
accounts:
  - id: "123456789012"
    roles:
      - {name: Pathed, path: /teams/platform/, trust_policy: {Statement: {Effect: Allow, Principal: "*", Action: sts:AssumeRole}}}
`, nil)
	if d.Region != DefaultRegion {
		t.Fatalf("Region = %q", d.Region)
	}
	want := []string{"https://idp.example.com/sts/saml"}
	if strings.Join(d.SAMLRecipients, " ") != strings.Join(want, " ") {
		t.Fatalf("SAMLRecipients = %q", d.SAMLRecipients)
	}
	tests := []struct {
		arn   string
		found bool
	}{
		{"arn:aws:iam::123456789012:role/teams/platform/Pathed", true},
		{"arn:aws:iam::123456789012:role/Pathed", false},
		{"arn:aws:iam::123456789012:role/other/Pathed", false},
		{"arn:aws:iam::999999999999:role/teams/platform/Pathed", false},
		{"arn:aws-cn:iam::123456789012:role/teams/platform/Pathed", false},
	}
	for _, tc := range tests {
		if _, ok := d.RoleByARN(tc.arn); ok != tc.found {
			t.Errorf("RoleByARN(%s) = %v, want %v", tc.arn, ok, tc.found)
		}
	}
}

// TestParseSAMLMetadata: entityID and signing certificates; DOCTYPE and
// keyless metadata are refused.
func TestParseSAMLMetadata(t *testing.T) {
	t.Parallel()
	k := testSAMLKey(t, "example")
	raw, err := os.ReadFile(metadataFile(t, samlIssuer, k))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ParseSAMLMetadata(raw)
	if err != nil || md.EntityID != samlIssuer || len(md.Certs) != 1 || !md.Certs[0].Equal(k.cert) {
		t.Fatalf("ParseSAMLMetadata = %+v, %v", md, err)
	}
	for name, bad := range map[string]string{
		"doctype":  `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + string(raw),
		"no keys":  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor/></md:EntityDescriptor>`,
		"not md":   `<EntityDescriptor entityID="x"/>`,
		"no idp":   `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`,
		"garbage":  `<<<`,
		"no id":    strings.Replace(string(raw), `entityID="`+samlIssuer+`"`, "", 1),
		"enc only": strings.Replace(string(raw), `use="signing"`, `use="encryption"`, 1),
	} {
		if _, err := ParseSAMLMetadata([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
