package ldap

import (
	"testing"

	"idpbridge/idp/connector/ldap/ldaptest"
)

// slapd is an OpenLDAP server run by the test (ldaptest.StartSlapd).
type slapd = ldaptest.Slapd

func startSlapd(t testing.TB) *slapd { return ldaptest.StartSlapd(t) }

// slapdConfig is the openldap connector of s: clear text, the fixture's
// service account, and ppolicy account state.
func slapdConfig(s *slapd) Config {
	return Config{
		Preset:        PresetOpenLDAP,
		URLs:          []string{"ldap://" + s.Addr},
		InsecureNoTLS: true,
		BindDN:        ldaptest.SlapdServiceDN,
		BindPassword:  ldaptest.SlapdServicePassword,
		UserSearch:    UserSearch{BaseDN: ldaptest.SlapdBase},
		AccountState:  AccountStatePPolicy,
	}
}
