package main

import (
	"strings"
	"testing"
)

// TestConnectorTypesLDAPAndOIDC: the ldap and oidc types are registered;
// their config blocks are decoded strictly and validated by their
// packages, with problems under the entry's key path, and a valid pair
// passes config check.
func TestConnectorTypesLDAPAndOIDC(t *testing.T) {
	t.Parallel()
	good := `connectors:
  - name: local
    type: local
  - name: corp-ad
    type: ldap
    route_suffixes: ["@corp.example"]
    config:
      preset: active_directory
      urls: [ldaps://dc1.corp.example]
      bind_dn: CN=idpbridge,OU=Service,DC=corp,DC=example
      bind_password_env: AD_BIND_PASSWORD
      user_search:
        base_dn: OU=People,DC=corp,DC=example
  - name: okta
    type: oidc
    display_name: Okta
    config:
      issuer: https://corp.okta.example
      client_id: idpbridge
      client_secret_env: OKTA_SECRET
`
	c := newCLI(t)
	if out, stderr, code := c.run("", "config", "check", "--config", writeConfig(t, good)); code != 0 {
		t.Fatalf("config check of ldap and oidc connectors = %d:\n%s%s", code, out, stderr)
	}

	bad := `connectors:
  - name: corp-ad
    type: ldap
    config:
      urls: [http://dc1]
      user_search: {base_dn: "DC=corp"}
      bind_pasword: x
  - name: okta
    type: oidc
    config:
      client_id: idpbridge
`
	_, stderr, code := c.run("", "config", "check", "--config", writeConfig(t, bad))
	if code != 2 {
		t.Fatalf("config check of bad connectors = %d, want 2:\n%s", code, stderr)
	}
	for _, want := range []string{"connectors[0].config.bind_pasword: unknown key", "connectors[1].config.issuer"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("config check does not say %q:\n%s", want, stderr)
		}
	}
}
