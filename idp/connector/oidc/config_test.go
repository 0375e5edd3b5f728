package oidc

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := Config{Issuer: "https://login.example.com/", ClientID: "idpbridge", ClientSecretEnv: "S", RedirectURL: "https://idp.example.com/oidc/callback"}
	if p := valid.Validate(); len(p) != 0 {
		t.Fatalf("a valid config: %q", p)
	}
	local := Config{Issuer: "http://127.0.0.1:5556/dex", ClientID: "c", RedirectURL: "http://localhost:8080/oidc/callback"}
	if p := local.Validate(); len(p) != 0 {
		t.Errorf("plain http on loopback: %q", p)
	}
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"empty", func(c *Config) { *c = Config{} }, []string{"issuer: is required", "client_id: is required", "redirect_url: is required"}},
		{"plain http issuer", func(c *Config) { c.Issuer = "http://login.example.com" },
			[]string{`issuer: "http://login.example.com" must use https (plain http only for localhost)`}},
		{"issuer with a query", func(c *Config) { c.Issuer = "https://login.example.com/?tenant=x" },
			[]string{`issuer: "https://login.example.com/?tenant=x" must not have a query`}},
		{"issuer not a URL", func(c *Config) { c.Issuer = "login.example.com" }, []string{`issuer: "login.example.com" must be an https URL`}},
		{"redirect with a fragment", func(c *Config) { c.RedirectURL = "https://idp.example.com/cb#x" },
			[]string{`redirect_url: "https://idp.example.com/cb#x" must not have a fragment`}},
		{"redirect with a password", func(c *Config) { c.RedirectURL = "https://u:p@idp.example.com/cb" },
			[]string{`redirect_url: "https://u:xxxxx@idp.example.com/cb" must not carry a user or password`}},
		{"two secret sources", func(c *Config) { c.ClientSecret = "x" },
			[]string{"client_secret: set only one of client_secret, client_secret_env and client_secret_file"}},
		{"bad scope", func(c *Config) { c.Scopes = []string{"openid", "a b"} }, []string{`scopes[1]: "a b" is not a scope (no spaces, quotes or backslashes)`}},
		{"claim with spaces", func(c *Config) { c.UsernameClaim = " upn" }, []string{`username_claim: " upn" has leading or trailing spaces`}},
		{"mapping to a reserved name", func(c *Config) { c.ClaimMapping = map[string]string{"mail": "email"} },
			[]string{`claim_mapping.mail: "email" is reserved (username, email, displayName and groups come from username_claim, email_claim, display_name_claim and groups_claim)`}},
		{"two claims to one attribute", func(c *Config) { c.ClaimMapping = map[string]string{"upn": "login", "unique_name": "login"} },
			[]string{`claim_mapping.upn: attribute "login" is also the name of claim_mapping.unique_name`}},
		{"empty mapping names", func(c *Config) { c.ClaimMapping = map[string]string{"": "x", "y": ""} },
			[]string{"claim_mapping: a claim name is empty", "claim_mapping.y: the attribute name is empty"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := valid
			tc.edit(&c)
			if got := c.Validate(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestConfigYAML decodes the example of Config's doc comment strictly, as
// the connectors registry does: every key it documents exists.
func TestConfigYAML(t *testing.T) {
	t.Parallel()
	const doc = `
issuer: https://login.example.com/
client_id: idpbridge
client_secret_env: IDPBRIDGE_OIDC_SECRET
redirect_url: https://idp.example.com/oidc/callback
scopes: [openid, profile, email, groups]
userinfo: false
username_claim: preferred_username
email_claim: email
groups_claim: groups
display_name_claim: name
claim_mapping: {upn: userPrincipalName}
insecure_skip_email_verified: false
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if p := c.Validate(); len(p) != 0 {
		t.Errorf("the documented example: %q", p)
	}
	want := Config{
		Issuer: "https://login.example.com/", ClientID: "idpbridge", ClientSecretEnv: "IDPBRIDGE_OIDC_SECRET",
		RedirectURL: "https://idp.example.com/oidc/callback", Scopes: []string{"openid", "profile", "email", "groups"},
		UsernameClaim: "preferred_username", EmailClaim: "email", GroupsClaim: "groups", DisplayNameClaim: "name",
		ClaimMapping: map[string]string{"upn": "userPrincipalName"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("\n got %+v\nwant %+v", c, want)
	}
	bad := yaml.NewDecoder(strings.NewReader("issuer: x\nclient_secrets: y\n"))
	bad.KnownFields(true)
	if err := bad.Decode(&Config{}); err == nil {
		t.Error("an unknown key was accepted")
	}
}
