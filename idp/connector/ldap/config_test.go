package ldap

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func validConfig() Config {
	return Config{
		Preset:       PresetActiveDirectory,
		URLs:         []string{"ldaps://dc1.corp.example", "ldaps://dc2.corp.example:636"},
		BindDN:       "CN=svc,DC=corp,DC=example",
		BindPassword: "secret",
		UserSearch:   UserSearch{BaseDN: "DC=corp,DC=example"},
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	if p := validConfig().Validate(); len(p) != 0 {
		t.Fatalf("valid config: %q", p)
	}
	zero := 0
	big := MaxPoolSize + 1
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // a problem starting with this
	}{
		{"no url", func(c *Config) { c.URLs = nil }, "urls: "},
		{"bad scheme", func(c *Config) { c.URLs = []string{"http://x"} }, "urls[0]: "},
		{"no host", func(c *Config) { c.URLs = []string{"ldaps://"} }, "urls[0]: "},
		{"clear text", func(c *Config) { c.URLs = []string{"ldaps://a", "ldap://b"} }, "urls[1]: \"ldap://b\" would send passwords in clear"},
		{"start_tls with ldaps", func(c *Config) { c.StartTLS = true }, "urls[0]: "},
		{"unknown preset", func(c *Config) { c.Preset = "novell" }, "preset: "},
		{"no bind_dn", func(c *Config) { c.BindDN = "" }, "bind_dn: "},
		{"bad bind_dn", func(c *Config) { c.BindDN = "not a dn" }, "bind_dn: "},
		{"no password", func(c *Config) { c.BindPassword = "" }, "bind_password: set one of"},
		{"two passwords", func(c *Config) { c.BindPasswordEnv = "X" }, "bind_password: set only one"},
		{"negative timeout", func(c *Config) { c.Timeout = Duration(-time.Second) }, "timeout: "},
		{"negative dial_timeout", func(c *Config) { c.DialTimeout = Duration(-time.Second) }, "dial_timeout: "},
		{"pool too big", func(c *Config) { c.PoolSize = &big }, "pool_size: "},
		{"bad account_state", func(c *Config) { c.AccountState = "x" }, "account_state: "},
		{"no base_dn", func(c *Config) { c.UserSearch.BaseDN = "" }, "user_search.base_dn: "},
		{"filter without placeholder", func(c *Config) { c.UserSearch.Filter = "(uid=diego)" }, "user_search.filter: "},
		{"filter that does not parse", func(c *Config) { c.UserSearch.Filter = "(uid={username}" }, "user_search.filter: "},
		{"no filter without preset", func(c *Config) { c.Preset = "" }, "user_search.filter: "},
		{"bad scope", func(c *Config) { c.UserSearch.Scope = "base" }, "user_search.scope: "},
		{"group filter without placeholder", func(c *Config) { c.GroupSearch.Filter = "(cn=x)" }, "group_search.filter: "},
		{"member_of and filter", func(c *Config) { c.GroupSearch = GroupSearch{MemberOf: true, Filter: "(member={dn})"} }, "group_search: "},
		{"nested with username", func(c *Config) { c.GroupSearch = GroupSearch{Filter: "(memberUid={username})", Nested: true} }, "group_search.nested: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.change(&c)
			p := c.Validate()
			found := false
			for _, s := range p {
				found = found || strings.HasPrefix(s, tc.want)
			}
			if !found {
				t.Errorf("Validate() = %q, want a problem starting %q", p, tc.want)
			}
			if _, err := New("x", c, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want the problem %q", err, tc.want)
			}
		})
	}
	c := validConfig()
	c.PoolSize = &zero
	if p := c.Validate(); len(p) != 0 {
		t.Errorf("pool_size 0 (no pool): %q", p)
	}
}

func TestPresetsAndDefaults(t *testing.T) {
	t.Parallel()
	ad := validConfig().withDefaults()
	if !strings.Contains(ad.GroupSearch.Filter, "1.2.840.113556.1.4.1941") || ad.UserSearch.UsernameAttribute != "sAMAccountName" ||
		ad.AccountState != AccountStateActiveDirectory || ad.GroupSearch.BaseDN != "DC=corp,DC=example" ||
		time.Duration(ad.Timeout) != DefaultTimeout || *ad.PoolSize != DefaultPoolSize {
		t.Errorf("active_directory preset = %+v", ad)
	}
	ol := validConfig()
	ol.Preset = PresetOpenLDAP
	ol.UserSearch.Filter = "(&(objectClass=posixAccount)(uid={username}))"
	got := ol.withDefaults()
	if got.UserSearch.Filter != ol.UserSearch.Filter || got.UserSearch.UsernameAttribute != "uid" || !got.GroupSearch.Nested {
		t.Errorf("openldap preset with an explicit filter = %+v", got)
	}
}

func TestConfigYAML(t *testing.T) {
	t.Parallel()
	const doc = `
preset: openldap
urls: [ldap://ldap.example.org]
start_tls: true
bind_dn: cn=idpbridge,dc=example,dc=org
bind_password_env: LDAP_BIND_PASSWORD
dial_timeout: 2s
timeout: 3s
pool_size: 0
user_search: {base_dn: "ou=people,dc=example,dc=org"}
group_search: {filter: "(&(objectClass=posixGroup)(memberUid={username}))"}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if p := c.Validate(); len(p) != 0 {
		t.Fatalf("Validate: %q", p)
	}
	if time.Duration(c.DialTimeout) != 2*time.Second || c.PoolSize == nil || *c.PoolSize != 0 {
		t.Errorf("decoded %+v", c)
	}
	if _, err := New("x", c, Options{Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "bind_password_env: environment variable LDAP_BIND_PASSWORD") {
		t.Errorf("New with the variable unset: %v", err)
	}
	conn, err := New("x", c, Options{Getenv: func(k string) string { return map[string]string{"LDAP_BIND_PASSWORD": "s3cret"}[k] }})
	if err != nil || conn.password != "s3cret" || conn.idle != nil {
		t.Errorf("New = %v; password resolved, no pool expected", err)
	}
	if err := yaml.Unmarshal([]byte("timeout: soon"), &c); err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("timeout: soon: %v", err)
	}
	out, _ := yaml.Marshal(Config{BindPassword: "s3cret"}.Redacted())
	if strings.Contains(string(out), "s3cret") {
		t.Errorf("Redacted keeps the password:\n%s", out)
	}
}

func TestNewFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := validConfig()
	c.BindPassword, c.BindPasswordFile = "", filepath.Join(dir, "missing")
	if _, err := New("x", c, Options{}); err == nil || !strings.Contains(err.Error(), "bind_password_file") {
		t.Errorf("missing password file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.BindPasswordFile = filepath.Join(dir, "pw")
	if conn, err := New("x", c, Options{}); err != nil || conn.password != "from-file" {
		t.Errorf("password file: %v", err)
	}
	c.CAFile = filepath.Join(dir, "pw")
	if _, err := New("x", c, Options{}); err == nil || !strings.Contains(err.Error(), "ca_file: ") {
		t.Errorf("ca_file without a certificate: %v", err)
	}
	c.CAFile = filepath.Join(dir, "none.pem")
	if _, err := New("x", c, Options{}); err == nil || !strings.Contains(err.Error(), "ca_file: ") {
		t.Errorf("missing ca_file: %v", err)
	}
}

func TestNewWarnsAboutInsecureTransport(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.URLs = []string{"ldap://dc1.corp.example", "ldaps://dc2.corp.example"}
	c.InsecureNoTLS, c.InsecureSkipVerify = true, true
	logs := &logBuffer{}
	if _, err := New("corp-ad", c, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"LDAP CONNECTOR DOES NOT VERIFY", "level=WARN msg=\"LDAP CONNECTOR SENDS PASSWORDS IN CLEAR TEXT", "url=ldap://dc1.corp.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ldaps://dc2") || strings.Contains(out, c.BindPassword) {
		t.Errorf("logs name the ldaps:// URL as clear text, or the password:\n%s", out)
	}
	logs = &logBuffer{}
	if _, err := New("corp-ad", validConfig(), Options{Logger: slog.New(slog.NewTextHandler(logs, nil))}); err != nil || logs.String() != "" {
		t.Errorf("a secure configuration logged %q (%v)", logs, err)
	}
}
