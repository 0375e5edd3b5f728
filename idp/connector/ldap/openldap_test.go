package ldap

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/connector"
	"idpbridge/idp/connector/ldap/ldaptest"
)

const (
	olDiegoDN = "uid=diego,ou=people,dc=example,dc=org"
	olDevsDN  = "cn=developers,ou=groups,dc=example,dc=org"
	olAWSDN   = "cn=aws-123456789012-developer,ou=groups,dc=example,dc=org"
)

// TestOpenLDAP signs in against a real slapd.
func TestOpenLDAP(t *testing.T) {
	t.Parallel()
	s := startSlapd(t)

	t.Run("login", func(t *testing.T) {
		t.Parallel()
		c, _ := newTestConnector(t, slapdConfig(s), Options{})
		if err := c.Check(t.Context()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		id, outcome, err := c.Authenticate(t.Context(), "diego", "diego-pw")
		if err != nil || outcome != connector.Accepted {
			t.Fatalf("Authenticate(diego) = %v, %v; want accepted", outcome, err)
		}
		if id.Username != "diego" || id.Connector != "corp-ad" || id.Email != "diego@example.org" || id.DisplayName != "Diego Ramírez" {
			t.Errorf("identity = %+v", id)
		}
		if got, want := id.Attributes["mail"], []string{"diego@example.org", "diego.ramirez@example.org"}; !slices.Equal(got, want) {
			t.Errorf("mail = %q, want the two values %q", got, want)
		}
		if got := id.Attributes["employeeNumber"]; !slices.Equal(got, []string{"1234"}) {
			t.Errorf("employeeNumber = %q", got)
		}
		want := []string{olAWSDN, olDevsDN, "aws-123456789012-developer", "developers"}
		if !slices.Equal(id.Groups, want) {
			t.Errorf("Groups = %q\nwant %q (the nested group too, DNs then CNs)", id.Groups, want)
		}
		ok := func(user, pw string, want connector.Outcome) {
			t.Helper()
			if _, got, err := c.Authenticate(t.Context(), user, pw); err != nil || got != want {
				t.Errorf("Authenticate(%q) = %v, %v; want %v", user, got, err, want)
			}
		}
		ok("diego", "wrong", connector.WrongPassword)
		ok("diego", "", connector.WrongPassword)
		ok("nobody", "diego-pw", connector.UnknownUser)
		ok("*", "diego-pw", connector.UnknownUser)
		ok("locked", "locked-pw", connector.AccountDisabled)
		ok("alice", "alice-pw", connector.Accepted)

		id, err = c.Lookup(t.Context(), "diego")
		if err != nil || !slices.Equal(id.Groups, want) {
			t.Errorf("Lookup(diego) = %+v, %v", id, err)
		}
		if _, err := c.Lookup(t.Context(), "nobody"); !errors.Is(err, connector.ErrUnknownUser) {
			t.Errorf("Lookup(nobody) = %v, want ErrUnknownUser", err)
		}
		for user, want := range map[string]bool{"diego": true, "locked": false, "nobody": false} {
			if got, err := c.Active(t.Context(), user); err != nil || got != want {
				t.Errorf("Active(%s) = %v, %v; want %v", user, got, err, want)
			}
		}
	})

	t.Run("memberOf", func(t *testing.T) {
		t.Parallel()
		cfg := slapdConfig(s)
		cfg.GroupSearch = GroupSearch{MemberOf: true}
		c, _ := newTestConnector(t, cfg, Options{})
		id, ok, err := c.Login(t.Context(), "diego", "diego-pw")
		if err != nil || !ok {
			t.Fatalf("Login = %v, %v", ok, err)
		}
		if want := []string{olDevsDN, "developers"}; !slices.Equal(id.Groups, want) {
			t.Errorf("Groups from memberOf = %q, want %q", id.Groups, want)
		}
	})

	t.Run("StartTLS", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name   string
			change func(*Config)
			ok     bool
		}{
			{"CA file", func(c *Config) { c.CAFile = s.CAFile }, true},
			{"CA file and server_name", func(c *Config) { c.CAFile = s.CAFile; c.ServerName = "ldap.test" }, true},
			{"unknown CA", func(c *Config) {}, false},
			{"wrong server_name", func(c *Config) { c.CAFile = s.CAFile; c.ServerName = "other.test" }, false},
			{"insecure_skip_verify", func(c *Config) { c.InsecureSkipVerify = true }, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := slapdConfig(s)
				cfg.InsecureNoTLS, cfg.StartTLS = false, true
				tc.change(&cfg)
				c, logs := newTestConnector(t, cfg, Options{})
				_, ok, err := c.Login(t.Context(), "diego", "diego-pw")
				if tc.ok && (err != nil || !ok) {
					t.Fatalf("Login = %v, %v; want ok", ok, err)
				}
				if !tc.ok && (!errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "StartTLS")) {
					t.Fatalf("Login = %v, %v; want ErrUnavailable from StartTLS", ok, err)
				}
				if cfg.InsecureSkipVerify && !strings.Contains(logs.String(), "DOES NOT VERIFY") {
					t.Errorf("no loud warning for insecure_skip_verify; logs:\n%s", logs)
				}
			})
		}
	})

	t.Run("LDAPS", func(t *testing.T) {
		t.Parallel()
		cfg := slapdConfig(s)
		cfg.URLs, cfg.InsecureNoTLS, cfg.CAFile = []string{"ldaps://" + s.TLSAddr}, false, s.CAFile
		c, _ := newTestConnector(t, cfg, Options{})
		if _, ok, err := c.Login(t.Context(), "diego", "diego-pw"); err != nil || !ok {
			t.Fatalf("Login over ldaps:// = %v, %v", ok, err)
		}
		cfg.CAFile = ""
		c, _ = newTestConnector(t, cfg, Options{})
		if _, _, err := c.Login(t.Context(), "diego", "diego-pw"); !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Login over ldaps:// with an unknown CA = %v, want ErrUnavailable naming the certificate", err)
		}
	})

	t.Run("several hits", func(t *testing.T) {
		t.Parallel()
		cfg := slapdConfig(s)
		cfg.UserSearch.Filter = "(|(uid={username})(objectClass=inetOrgPerson))"
		c, logs := newTestConnector(t, cfg, Options{})
		if _, outcome, err := c.Authenticate(t.Context(), "diego", "diego-pw"); err != nil || outcome != connector.UnknownUser {
			t.Errorf("Authenticate with a filter matching everyone = %v, %v; want unknown user", outcome, err)
		}
		if _, err := c.Lookup(t.Context(), "diego"); !errors.Is(err, connector.ErrUnknownUser) {
			t.Errorf("Lookup with a filter matching everyone = %v, want ErrUnknownUser", err)
		}
		if !strings.Contains(logs.String(), "several entries match") {
			t.Errorf("no warning about several entries; logs:\n%s", logs)
		}
	})

	t.Run("failover", func(t *testing.T) {
		t.Parallel()
		cfg := slapdConfig(s)
		cfg.URLs = []string{"ldap://" + ldaptest.FreePort(t), "ldap://" + s.Addr}
		var (
			mu    sync.Mutex
			dials []bool
		)
		c, _ := newTestConnector(t, cfg, Options{Observe: func(op string, ok bool, _ time.Duration) {
			if op == "dial" {
				mu.Lock()
				defer mu.Unlock()
				dials = append(dials, ok)
			}
		}})
		if _, ok, err := c.Login(t.Context(), "diego", "diego-pw"); err != nil || !ok {
			t.Fatalf("Login with the first URL down = %v, %v", ok, err)
		}
		if !slices.Equal(dials, []bool{false, true}) {
			t.Errorf("dials = %v, want the first failing and the second working", dials)
		}
	})
}

// TestOpenLDAPPoolSurvivesRestart: pooled connections broken by a slapd
// restart are replaced, and while slapd is down a sign-in fails as
// "unavailable", not as a wrong password.
func TestOpenLDAPPoolSurvivesRestart(t *testing.T) {
	t.Parallel()
	s := startSlapd(t)
	cfg := slapdConfig(s)
	n := 2
	cfg.PoolSize = &n
	var dials atomic.Int64
	c, _ := newTestConnector(t, cfg, Options{Observe: func(op string, ok bool, _ time.Duration) {
		if op == "dial" && ok {
			dials.Add(1)
		}
	}})
	login := func() error {
		_, ok, err := c.Login(t.Context(), "diego", "diego-pw")
		if err == nil && !ok {
			return errors.New("refused")
		}
		return err
	}
	for range 3 {
		if err := login(); err != nil {
			t.Fatalf("before restart: %v", err)
		}
	}
	if got := dials.Load(); got != 1 {
		t.Fatalf("3 sequential logins dialed %d times, want 1 (the pooled connection reused)", got)
	}
	// Restarted behind the pool's back: the pooled connection is dead.
	s.Stop()
	s.Start()
	if err := login(); err != nil {
		t.Fatalf("first sign-in after a restart: %v", err)
	}
	if got := dials.Load(); got != 2 {
		t.Errorf("dials after the restart = %d, want 2 (the dead connection replaced once)", got)
	}
	s.Stop()
	if err := login(); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("with slapd down: %v, want ErrUnavailable", err)
	}
	if err := c.Check(t.Context()); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("Check with slapd down: %v, want ErrUnavailable", err)
	}
	s.Start()
	for range 3 {
		if err := login(); err != nil {
			t.Fatalf("after restart: %v", err)
		}
	}
	if err := c.Check(t.Context()); err != nil {
		t.Fatalf("Check after restart: %v", err)
	}
}
