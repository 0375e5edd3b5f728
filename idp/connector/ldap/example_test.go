package ldap_test

import (
	"context"
	"errors"
	"log/slog"

	"idpbridge/idp/connector"
	"idpbridge/idp/connector/ldap"
)

// A connector for Active Directory: the preset fills the filters, the
// attributes, nested groups and the account checks.
func ExampleNew() {
	cfg := ldap.Config{
		Preset:           ldap.PresetActiveDirectory,
		URLs:             []string{"ldaps://dc1.corp.example", "ldaps://dc2.corp.example"},
		CAFile:           "/etc/idpbridge/corp-ca.pem",
		BindDN:           "CN=svc-idpbridge,OU=Service,DC=corp,DC=example",
		BindPasswordFile: "/run/secrets/ldap-bind",
		UserSearch:       ldap.UserSearch{BaseDN: "OU=People,DC=corp,DC=example"},
	}
	c, err := ldap.New("corp-ad", cfg, ldap.Options{Logger: slog.Default()})
	if err != nil {
		slog.Error("ldap connector", "err", err) // names the key at fault
		return
	}
	ctx := context.Background()
	if err := c.Check(ctx); err != nil {
		slog.Warn("directory not reachable yet", "connector", "corp-ad", "err", err)
	}
	id, ok, err := c.Login(ctx, "diego.ramirez", "password")
	switch {
	case errors.Is(err, connector.ErrUnavailable):
		// "the directory is unavailable", never "wrong password"
	case ok:
		_ = id.Values("sAMAccountName") // and id.Groups: DNs and CNs
	}
}
