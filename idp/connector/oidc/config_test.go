package oidc

import (
	"reflect"
	"testing"
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
