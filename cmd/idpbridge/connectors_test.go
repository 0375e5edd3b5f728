package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"idpbridge/idp"
	"idpbridge/idp/connector"
)

// fakeConfig is the configuration of the test-only connector types.
type fakeConfig struct {
	URL          string              `yaml:"url"`
	BindPassword string              `yaml:"bind_password"`
	Users        map[string][]string `yaml:"users"` // name: groups
}

func (c *fakeConfig) Validate() []string {
	if c.URL == "" {
		return []string{"url: must be set (ldaps://dc1.corp.example)"}
	}
	return nil
}

// fakeConn is a password connector and Looker over fakeConfig.Users; the
// password of everyone is "pw".
type fakeConn struct {
	name        string
	callbackURL string
	cfg         fakeConfig
}

func (f *fakeConn) person(username string) (idp.Identity, bool) {
	groups, ok := f.cfg.Users[username]
	return idp.Identity{Username: username, Groups: groups, Attributes: map[string][]string{"sAMAccountName": {username}}}, ok
}

func (f *fakeConn) Login(_ context.Context, username, password string) (idp.Identity, bool, error) {
	id, ok := f.person(username)
	return id, ok && password == "pw", nil
}

func (f *fakeConn) Lookup(_ context.Context, username string) (idp.Identity, error) {
	id, ok := f.person(username)
	if !ok {
		return idp.Identity{}, fmt.Errorf("%s: %w", username, connector.ErrUnknownUser)
	}
	return id, nil
}

func (f *fakeConn) Check(context.Context) error { return nil }

// fakeRedirectConn is a redirect connector that remembers its callback URL.
type fakeRedirectConn struct{ fakeConn }

func (f *fakeRedirectConn) LoginURL(_ context.Context, ch connector.Challenge) (string, error) {
	return "https://provider.test/authorize?state=" + url.QueryEscape(ch.State) + "&redirect_uri=" + url.QueryEscape(f.callbackURL), nil
}

func (f *fakeRedirectConn) HandleCallback(context.Context, connector.Challenge, url.Values) (idp.Identity, error) {
	return idp.Identity{}, errors.New("not in this test")
}

// opened records the connectors the fake types built, by name.
var opened sync.Map

func init() {
	connectorTypes["fake"] = typed(false, (*fakeConfig).Validate,
		func(_ context.Context, name string, c *fakeConfig, env connectorEnv) (any, error) {
			f := &fakeConn{name: name, callbackURL: env.CallbackURL, cfg: *c}
			opened.Store(name, f)
			return f, nil
		})
	connectorTypes["fakeredirect"] = typed(true, nil,
		func(_ context.Context, name string, c *fakeConfig, env connectorEnv) (any, error) {
			f := &fakeRedirectConn{fakeConn{name: name, callbackURL: env.CallbackURL, cfg: *c}}
			opened.Store(name, f)
			return f, nil
		})
}

func TestConnectorsConfigProblems(t *testing.T) {
	t.Parallel()
	body := `connectors:
  - name: local
    type: local
  - name: corp-ad
    type: fake
    config:
      urll: ldaps://dc1
  - name: Corp_AD
    type: kerberos
  - name: corp-ad
    type: fake
    route_suffixes: ["corp.example", "@corp.example"]
    config: {url: ldaps://dc1}
  - name: staff
    type: local
  - name: okta
    type: fakeredirect
    route_suffixes: ["@okta.example"]
  - name: local
    type: fake
    strip_suffix: true
    config: {url: ldaps://dc2}
  - name: partner
    type: fake
    route_suffixes: ["@CORP.example"]
    config: [1, 2]
  - name: other
    type: fake
`
	_, stderr, code := newCLI(t).run("", "config", "check", "--config", writeConfig(t, body))
	if code != 2 {
		t.Fatalf("config check = %d, want 2:\n%s", code, stderr)
	}
	for _, want := range []string{
		"connectors[1].config.urll: unknown key (line 11)",
		`connectors[2].name: "Corp_AD" must be 1 to 63 characters of a-z, 0-9 and -`,
		`connectors[2].type: "kerberos" is not one of fake, fakeredirect, ldap, local, oidc`,
		`connectors[3].name: "corp-ad" is the name of connectors[1] already`,
		`connectors[3].route_suffixes[0]: "corp.example" must be @ and a domain`,
		"connectors[4].type: local: connectors[0] is the local connector already",
		`connectors[4].name: the local connector is named local (its people keep their bare names), not "staff"`,
		"connectors[5].route_suffixes: a fakeredirect connector signs people in at its provider",
		`connectors[6].name: "local" is the name of connectors[0] already`,
		"connectors[6].strip_suffix: has no effect without route_suffixes",
		`connectors[7].route_suffixes[0]: "@CORP.example" routes to connectors[3] already`,
		"connectors[7].config: must be a mapping of the connector type's keys (line 30)",
		"connectors[8].config.url: must be set",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("config check does not report %q:\n%s", want, stderr)
		}
	}
}

func TestConnectorsLocalNameReserved(t *testing.T) {
	t.Parallel()
	body := "connectors:\n  - {name: local, type: fake, config: {url: ldaps://dc1}}\n"
	_, stderr, code := newCLI(t).run("", "config", "check", "--config", writeConfig(t, body))
	if code != 2 || !strings.Contains(stderr, "connectors[0].name: local is the name of the local accounts' connector") {
		t.Errorf("a fake connector named local = %d:\n%s", code, stderr)
	}
}

func TestConnectorsDefaultIsLocal(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(writeConfig(t, ""), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.connectorList()
	if len(cfg.Connectors) != 0 || len(got) != 1 || got[0].Name != "local" || got[0].Type != "local" {
		t.Errorf("without connectors: %+v", got)
	}
	out, _, code := newCLI(t).run("", "config", "check", "--print", "--config", writeConfig(t, ""))
	if code != 0 || strings.Contains(out, "connectors") {
		t.Errorf("the default configuration prints connectors (%d):\n%s", code, out)
	}
}

func TestConnectorsRedactedSecrets(t *testing.T) {
	t.Parallel()
	body := `connectors:
  - name: corp-ad
    type: fake
    config:
      url: ldaps://dc1
      bind_password: s3cret-bind
`
	out, stderr, code := newCLI(t).run("", "config", "check", "--print", "--config", writeConfig(t, body))
	if code != 0 {
		t.Fatalf("config check --print = %d: %s", code, stderr)
	}
	if strings.Contains(out, "s3cret-bind") || !strings.Contains(out, "bind_password: REDACTED") || !strings.Contains(out, "url: ldaps://dc1") {
		t.Errorf("printed configuration:\n%s", out)
	}
}

const corpConnectors = `connectors:
  - name: local
    type: local
  - name: fake
    type: fake
    display_name: Corp directory
    route_suffixes: ["@corp.example"]
    strip_suffix: true
    config:
      url: ldaps://dc1
      users:
        x: [AWS-123456789012-Developer]
        diego.ramirez: [AWS-123456789012-Developer]
  - name: okta
    type: fakeredirect
    display_name: Okta
    config: {url: https://okta.example}
`

// TestMappingTestThroughLookup: mapping test names a person of a
// connector as user@connector and finds them with its Lookup, without a
// password; the report names them so.
func TestMappingTestThroughLookup(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, corpConnectors)
	if _, stderr, code := c.run("", "migrate", "--config", path); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	out, stderr, _ := c.run("", "mapping", "test", "--sp", "builtin", "--user", "x@fake", "--config", path)
	if !strings.Contains(out, "user x@fake") {
		t.Errorf("mapping test of x@fake:\n%s%s", out, stderr)
	}
	out, stderr, _ = c.run("", "mapping", "test", "--sp", "builtin", "--user", "x@fake", "--json", "--config", path)
	if !strings.Contains(out, `"user": "x@fake"`) {
		t.Errorf("mapping test --json of x@fake:\n%s%s", out, stderr)
	}
	out, stderr, code := c.run("", "mapping", "test", "--sp", "builtin", "--user", "diego.ramirez@fake", "--config", path)
	if code != 0 || !strings.Contains(out, "user diego.ramirez@fake") || !strings.Contains(out, "role/Developer") || !strings.Contains(out, "diego.ramirez\n") {
		t.Errorf("mapping test of diego.ramirez@fake = %d:\n%s%s", code, out, stderr)
	}
	_, stderr, code = c.run("", "mapping", "test", "--sp", "builtin", "--user", "nobody@fake", "--config", path)
	if code != 1 || !strings.Contains(stderr, `no user "nobody@fake"`) {
		t.Errorf("an unknown person of fake = %d: %s", code, stderr)
	}
	// A name whose suffix is no connector is a local account's.
	_, stderr, code = c.run("", "mapping", "test", "--sp", "builtin", "--user", "x@elsewhere", "--config", path)
	if code != 1 || !strings.Contains(stderr, `no user "x@elsewhere"`) {
		t.Errorf("x@elsewhere = %d: %s", code, stderr)
	}
}

// TestServeWithConnectors: serve builds the configured connectors: the
// login page offers them, /readyz lists the one that can be checked, and
// the redirect connector got <base_url>/login/callback/<name>.
func TestServeWithConnectors(t *testing.T) {
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, corpConnectors))
	serveOnce(t, c, path, func(base, _ string) {
		code, body := get(t, base+"/login")
		for _, want := range []string{`<option value="fake">Corp directory</option>`, `<option value="local">local</option>`, "Sign in with Okta"} {
			if code != 200 || !strings.Contains(body, want) {
				t.Errorf("GET /login (%d) lacks %s:\n%s", code, want, body)
			}
		}
		code, body = get(t, base+"/readyz")
		if code != 200 || !strings.Contains(body, `"connectors":{"fake":"up","okta":"up"}`) {
			t.Errorf("/readyz = %d %s", code, body)
		}
	})
	v, ok := opened.Load("okta")
	if !ok {
		t.Fatal("okta was not built")
	}
	if got := v.(*fakeRedirectConn).callbackURL; got != base+"/login/callback/okta" {
		t.Errorf("okta's callback URL = %q", got)
	}
}
