package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "5s", "1m".
type Duration time.Duration

// UnmarshalYAML reads a duration such as "5s".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (e.g. 5s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as "5s".
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Presets fill what an empty key leaves open.
const (
	PresetActiveDirectory = "active_directory"
	PresetOpenLDAP        = "openldap"
)

// Account state checks (Config.AccountState).
const (
	AccountStateNone            = "none"
	AccountStateActiveDirectory = "active_directory"
	AccountStatePPolicy         = "ppolicy"
)

// Defaults of the keys left empty.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultTimeout     = 10 * time.Second
	DefaultPoolSize    = 4
	// MaxPoolSize bounds pool_size.
	MaxPoolSize = 256
)

// Config is one LDAP connector. Keys left empty take the preset's value,
// then the default shown. Example (Active Directory):
//
//	preset: active_directory          # or openldap; fills filters, attributes, group search
//	urls: [ldaps://dc1.corp.example:636, ldaps://dc2.corp.example:636]  # tried in order
//	start_tls: false                  # ldap:// URLs need start_tls: true (or insecure_no_tls: true)
//	ca_file: /etc/idpbridge/corp-ca.pem   # default: the system's roots
//	server_name: corp.example         # default: each URL's host
//	insecure_skip_verify: false       # never in production; logged loudly at start
//	insecure_no_tls: false            # allow ldap:// without StartTLS; logged loudly at start
//	bind_dn: CN=idpbridge,OU=Service,DC=corp,DC=example
//	bind_password_file: /run/secrets/ldap-bind   # or bind_password_env, or bind_password
//	dial_timeout: 5s                  # per server
//	timeout: 10s                      # per operation (bind, search)
//	pool_size: 4                      # service-bound connections kept; 0 dials per sign-in
//	account_state: active_directory   # none | active_directory | ppolicy (preset: AD → active_directory)
//	user_search:
//	  base_dn: OU=People,DC=corp,DC=example
//	  filter: (&(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))
//	  scope: sub                      # sub | one
//	  username_attribute: sAMAccountName   # becomes the Identity's Username
//	  email_attribute: mail
//	  display_name_attribute: displayName
//	  attributes: [sAMAccountName, userPrincipalName, mail, employeeID, objectGUID, objectSid]
//	group_search:
//	  member_of: false                # true: groups from the user's memberOf attribute
//	  base_dn: OU=Groups,DC=corp,DC=example   # default: user_search.base_dn
//	  filter: (&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))  # {dn} and {username}
//	  scope: sub
//	  name_attribute: cn
//	  nested: false                   # follow groups of groups by repeated {dn} searches
//
// Every value put into a filter template is escaped (ldap.EscapeFilter).
// Groups reach the mappings twice: as full DNs and as their CN.
type Config struct {
	Preset             string   `yaml:"preset"`
	URLs               []string `yaml:"urls"`
	StartTLS           bool     `yaml:"start_tls"`
	CAFile             string   `yaml:"ca_file"`
	ServerName         string   `yaml:"server_name"`
	InsecureSkipVerify bool     `yaml:"insecure_skip_verify"`
	InsecureNoTLS      bool     `yaml:"insecure_no_tls"`

	BindDN           string `yaml:"bind_dn"`
	BindPassword     string `yaml:"bind_password"`
	BindPasswordEnv  string `yaml:"bind_password_env"`
	BindPasswordFile string `yaml:"bind_password_file"`

	DialTimeout Duration `yaml:"dial_timeout"`
	Timeout     Duration `yaml:"timeout"`
	// PoolSize is a pointer so that an explicit 0 (no pool) differs from
	// an absent key (DefaultPoolSize).
	PoolSize *int `yaml:"pool_size"`

	AccountState string `yaml:"account_state"`

	UserSearch  UserSearch  `yaml:"user_search"`
	GroupSearch GroupSearch `yaml:"group_search"`
}

// UserSearch finds the person's entry.
type UserSearch struct {
	BaseDN               string   `yaml:"base_dn"`
	Filter               string   `yaml:"filter"`
	Scope                string   `yaml:"scope"`
	UsernameAttribute    string   `yaml:"username_attribute"`
	EmailAttribute       string   `yaml:"email_attribute"`
	DisplayNameAttribute string   `yaml:"display_name_attribute"`
	Attributes           []string `yaml:"attributes"`
}

// GroupSearch finds the person's groups.
type GroupSearch struct {
	MemberOf      bool   `yaml:"member_of"`
	BaseDN        string `yaml:"base_dn"`
	Filter        string `yaml:"filter"`
	Scope         string `yaml:"scope"`
	NameAttribute string `yaml:"name_attribute"`
	Nested        bool   `yaml:"nested"`
}

// Redacted returns the configuration with a literal bind password
// replaced, for printing.
func (c Config) Redacted() Config {
	if c.BindPassword != "" {
		c.BindPassword = "REDACTED"
	}
	return c
}

// withDefaults fills empty keys from the preset, then the defaults.
func (c Config) withDefaults() Config {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	switch c.Preset {
	case PresetActiveDirectory:
		set(&c.UserSearch.Filter, "(&(objectClass=user)(|(sAMAccountName={username})(userPrincipalName={username})))")
		set(&c.UserSearch.UsernameAttribute, "sAMAccountName")
		set(&c.UserSearch.EmailAttribute, "mail")
		set(&c.UserSearch.DisplayNameAttribute, "displayName")
		if c.UserSearch.Attributes == nil {
			c.UserSearch.Attributes = []string{"sAMAccountName", "userPrincipalName", "mail", "displayName", "employeeID", "objectGUID", "objectSid"}
		}
		if !c.GroupSearch.MemberOf {
			set(&c.GroupSearch.Filter, "(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={dn}))")
		}
		set(&c.AccountState, AccountStateActiveDirectory)
	case PresetOpenLDAP:
		set(&c.UserSearch.Filter, "(&(objectClass=inetOrgPerson)(uid={username}))")
		set(&c.UserSearch.UsernameAttribute, "uid")
		set(&c.UserSearch.EmailAttribute, "mail")
		set(&c.UserSearch.DisplayNameAttribute, "displayName")
		if c.UserSearch.Attributes == nil {
			c.UserSearch.Attributes = []string{"uid", "mail", "cn", "displayName", "employeeNumber"}
		}
		if !c.GroupSearch.MemberOf && c.GroupSearch.Filter == "" {
			c.GroupSearch.Filter = "(&(objectClass=groupOfNames)(member={dn}))"
			c.GroupSearch.Nested = true
		}
	}
	set(&c.UserSearch.Scope, "sub")
	set(&c.UserSearch.DisplayNameAttribute, "cn")
	set(&c.GroupSearch.Scope, "sub")
	set(&c.GroupSearch.NameAttribute, "cn")
	set(&c.GroupSearch.BaseDN, c.UserSearch.BaseDN)
	set(&c.AccountState, AccountStateNone)
	if c.DialTimeout == 0 {
		c.DialTimeout = Duration(DefaultDialTimeout)
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.PoolSize == nil {
		n := DefaultPoolSize
		c.PoolSize = &n
	}
	return c
}

// Validate reports every problem of the configuration, each naming its
// key. It reads no file and no environment variable.
func (c Config) Validate() []string {
	var p []string
	add := func(key, format string, a ...any) { p = append(p, key+": "+fmt.Sprintf(format, a...)) }
	switch c.Preset {
	case "", PresetActiveDirectory, PresetOpenLDAP:
	default:
		add("preset", "unknown preset %q (want %s or %s)", c.Preset, PresetActiveDirectory, PresetOpenLDAP)
	}
	c = c.withDefaults()
	if len(c.URLs) == 0 {
		add("urls", "at least one ldap:// or ldaps:// URL is required")
	}
	for i, raw := range c.URLs {
		key := fmt.Sprintf("urls[%d]", i)
		u, err := url.Parse(raw)
		if err != nil {
			add(key, "%q is not a URL", raw)
			continue
		}
		switch {
		case u.Host == "":
			add(key, "%q has no host", raw)
		case u.Scheme == "ldaps" && c.StartTLS:
			add(key, "%q is ldaps:// (TLS from the start): start_tls applies only to ldap:// URLs", raw)
		case u.Scheme == "ldap" && !c.StartTLS && !c.InsecureNoTLS:
			add(key, "%q would send passwords in clear: set start_tls: true, use ldaps://, or set insecure_no_tls: true", raw)
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			add(key, "%q: scheme must be ldap or ldaps", raw)
		}
	}
	if c.BindDN == "" {
		add("bind_dn", "the service account's DN is required (it searches for users)")
	} else if _, err := goldap.ParseDN(c.BindDN); err != nil {
		add("bind_dn", "%q is not a DN: %v", c.BindDN, err)
	}
	n := 0
	for _, v := range []string{c.BindPassword, c.BindPasswordEnv, c.BindPasswordFile} {
		if v != "" {
			n++
		}
	}
	switch {
	case n == 0:
		add("bind_password", "set one of bind_password, bind_password_env and bind_password_file")
	case n > 1:
		add("bind_password", "set only one of bind_password, bind_password_env and bind_password_file")
	}
	if c.DialTimeout < 0 {
		add("dial_timeout", "must be a positive duration, got %s", time.Duration(c.DialTimeout))
	}
	if c.Timeout < 0 {
		add("timeout", "must be a positive duration, got %s", time.Duration(c.Timeout))
	}
	if *c.PoolSize < 0 || *c.PoolSize > MaxPoolSize {
		add("pool_size", "must be between 0 (no pool) and %d, got %d", MaxPoolSize, *c.PoolSize)
	}
	switch c.AccountState {
	case AccountStateNone, AccountStateActiveDirectory, AccountStatePPolicy:
	default:
		add("account_state", "unknown %q (want none, active_directory or ppolicy)", c.AccountState)
	}
	us := c.UserSearch
	if us.BaseDN == "" {
		add("user_search.base_dn", "required")
	} else if _, err := goldap.ParseDN(us.BaseDN); err != nil {
		add("user_search.base_dn", "%q is not a DN: %v", us.BaseDN, err)
	}
	switch {
	case us.Filter == "":
		add("user_search.filter", "required (or a preset), e.g. (uid={username})")
	case !strings.Contains(us.Filter, "{username}"):
		add("user_search.filter", "%q must contain {username}", us.Filter)
	default:
		if _, err := goldap.CompileFilter(fill(us.Filter, "u", "")); err != nil {
			add("user_search.filter", "%q is not an LDAP filter: %v", us.Filter, err)
		}
	}
	if _, ok := scopes[us.Scope]; !ok {
		add("user_search.scope", "unknown %q (want sub or one)", us.Scope)
	}
	if us.UsernameAttribute == "" {
		add("user_search.username_attribute", "required (or a preset), e.g. uid or sAMAccountName")
	}
	gs := c.GroupSearch
	if gs.MemberOf && gs.Filter != "" {
		add("group_search", "set either member_of or filter, not both")
	}
	if gs.Filter != "" {
		switch {
		case !strings.Contains(gs.Filter, "{dn}") && !strings.Contains(gs.Filter, "{username}"):
			add("group_search.filter", "%q must contain {dn} or {username}", gs.Filter)
		case gs.Nested && !strings.Contains(gs.Filter, "{dn}"):
			add("group_search.nested", "needs a filter with {dn}")
		default:
			if _, err := goldap.CompileFilter(fill(gs.Filter, "u", "cn=x")); err != nil {
				add("group_search.filter", "%q is not an LDAP filter: %v", gs.Filter, err)
			}
		}
		if _, err := goldap.ParseDN(gs.BaseDN); err != nil || gs.BaseDN == "" {
			add("group_search.base_dn", "%q is not a DN", gs.BaseDN)
		}
		if _, ok := scopes[gs.Scope]; !ok {
			add("group_search.scope", "unknown %q (want sub or one)", gs.Scope)
		}
	}
	if gs.Nested && gs.MemberOf {
		add("group_search.nested", "applies to a group search filter, not member_of")
	}
	return p
}

var scopes = map[string]int{"sub": goldap.ScopeWholeSubtree, "one": goldap.ScopeSingleLevel}

// fill puts escaped values into a filter template.
func fill(template, username, dn string) string {
	return strings.NewReplacer("{username}", goldap.EscapeFilter(username), "{dn}", goldap.EscapeFilter(dn)).Replace(template)
}

// bindPassword resolves the service account's password.
func (c Config) bindPassword(getenv func(string) string) (string, error) {
	switch {
	case c.BindPasswordEnv != "":
		v := getenv(c.BindPasswordEnv)
		if v == "" {
			return "", fmt.Errorf("bind_password_env: environment variable %s is empty or unset", c.BindPasswordEnv)
		}
		return v, nil
	case c.BindPasswordFile != "":
		b, err := os.ReadFile(c.BindPasswordFile)
		if err != nil {
			return "", fmt.Errorf("bind_password_file: %w", err)
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", errors.New("bind_password_file: " + c.BindPasswordFile + " is empty")
		}
		return v, nil
	}
	return c.BindPassword, nil
}
