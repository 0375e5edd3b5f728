package ldap

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"

	"idpbridge/idp/connector"
	"idpbridge/idp/connector/ldap/ldaptest"
)

// The Active Directory of ldaptest.StartAD.
const (
	adBase    = ldaptest.BaseDN
	adSvcDN   = ldaptest.ServiceDN
	adSvcPW   = ldaptest.ServicePassword
	adDiegoDN = ldaptest.DiegoDN
	adDevsDN  = ldaptest.DevelopersDN
	adAWSDN   = ldaptest.AWSDeveloperDN
)

// adNow is the fake clock of the Active Directory tests.
var adNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// fileTime is the inverse of FileTime, for fixtures.
func fileTime(t time.Time) string {
	return strconv.FormatInt(t.UnixNano()/100+windowsEpochOffset, 10)
}

// The objectGUID f81d4fae-7dec-11d0-a765-00a0c91e6bf6 as AD stores it.
var diegoGUID = ldaptest.DiegoGUID

// sidBytes encodes S-1-5-sub... as AD stores it.
var sidBytes = ldaptest.SIDBytes

func adUser(sam, password string, extra map[string][]string) (string, string, map[string][]string) {
	dn := "CN=" + sam + ",OU=People," + adBase
	attrs := map[string][]string{
		"objectClass":        {"top", "person", "organizationalPerson", "user"},
		"sAMAccountName":     {sam},
		"userPrincipalName":  {sam + "@corp.example"},
		"userAccountControl": {"512"},
		"accountExpires":     {"9223372036854775807"},
		"lockoutTime":        {"0"},
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return dn, password, attrs
}

// newFakeAD starts a directory holding diego.ramirez (in Developers, which
// is in AWS-123456789012-Developer), admin, and accounts that are
// disabled, locked out, expired and expiring later.
func newFakeAD(t *testing.T) *ldaptest.Directory {
	d := ldaptest.StartAD(t)
	d.Add(adUser("admin", "admin-pw", nil))
	d.Add(adUser("disabled.user", "pw", map[string][]string{"userAccountControl": {"514"}}))
	d.Add(adUser("locked.user", "pw", map[string][]string{"lockoutTime": {"133000000000000000"}}))
	d.Add(adUser("expired.user", "pw", map[string][]string{"accountExpires": {fileTime(adNow.Add(-time.Hour))}}))
	d.Add(adUser("later.user", "pw", map[string][]string{"accountExpires": {fileTime(adNow.Add(time.Hour))}}))
	return d
}

func adConfig(d *ldaptest.Directory) Config {
	return Config{
		Preset:        PresetActiveDirectory,
		URLs:          []string{"ldap://" + d.Addr()},
		InsecureNoTLS: true,
		BindDN:        adSvcDN,
		BindPassword:  adSvcPW,
		UserSearch:    UserSearch{BaseDN: adBase},
	}
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newTestConnector(t *testing.T, cfg Config, opt Options) (*Connector, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if opt.Now == nil {
		opt.Now = func() time.Time { return adNow }
	}
	c, err := New("corp-ad", cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, logs
}

func TestActiveDirectoryLogins(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	c, _ := newTestConnector(t, adConfig(d), Options{})
	if err := c.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for _, name := range []string{"diego.ramirez", "diego.ramirez@corp.example", "DIEGO.RAMIREZ"} {
		t.Run(name, func(t *testing.T) {
			id, outcome, err := c.Authenticate(t.Context(), name, "diego-pw")
			if err != nil || outcome != connector.Accepted {
				t.Fatalf("Authenticate = %v, %v; want accepted", outcome, err)
			}
			if id.Username != "diego.ramirez" || id.Connector != "corp-ad" {
				t.Errorf("Username, Connector = %q, %q; want diego.ramirez, corp-ad", id.Username, id.Connector)
			}
			if id.Email != "diego.ramirez@corp.example" || id.DisplayName != "Diego Ramírez" {
				t.Errorf("Email, DisplayName = %q, %q", id.Email, id.DisplayName)
			}
			wantGroups := []string{adAWSDN, adDevsDN, "AWS-123456789012-Developer", "Developers"}
			if !slices.Equal(id.Groups, wantGroups) {
				t.Errorf("Groups = %q\nwant %q (nested through the matching rule, DNs then CNs)", id.Groups, wantGroups)
			}
			for attr, want := range map[string]string{
				"objectGUID":        "f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
				"objectSid":         "S-1-5-21-3623811015-3361044348-30300820-1013",
				"employeeID":        "E-1234",
				"sAMAccountName":    "diego.ramirez",
				"userPrincipalName": "diego.ramirez@corp.example",
			} {
				if got := id.Attributes[attr]; !slices.Equal(got, []string{want}) {
					t.Errorf("Attributes[%s] = %q, want [%q]", attr, got, want)
				}
			}
		})
	}
	if _, outcome, err := c.Authenticate(t.Context(), "diego.ramirez", "wrong"); err != nil || outcome != connector.WrongPassword {
		t.Errorf("wrong password: %v, %v; want wrong password", outcome, err)
	}
	if _, outcome, err := c.Authenticate(t.Context(), "nobody", "diego-pw"); err != nil || outcome != connector.UnknownUser {
		t.Errorf("unknown user: %v, %v; want unknown user", outcome, err)
	}
	// The nested group came from one group search with the in-chain rule.
	var chained bool
	for _, f := range d.Filters() {
		if strings.Contains(f, "member:1.2.840.113556.1.4.1941:=CN=Diego Ramirez") {
			chained = true
		}
	}
	if !chained {
		t.Errorf("no group search with LDAP_MATCHING_RULE_IN_CHAIN among %q", d.Filters())
	}
}

func TestActiveDirectoryLookupAndActive(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	c, _ := newTestConnector(t, adConfig(d), Options{})
	id, err := c.Lookup(t.Context(), "diego.ramirez@corp.example")
	if err != nil || id.Username != "diego.ramirez" || !slices.Contains(id.Groups, "AWS-123456789012-Developer") {
		t.Fatalf("Lookup = %+v, %v", id, err)
	}
	for _, b := range d.Binds() {
		if b == adDiegoDN {
			t.Errorf("Lookup bound as the user")
		}
	}
	if _, err := c.Lookup(t.Context(), "nobody"); !errors.Is(err, connector.ErrUnknownUser) {
		t.Errorf("Lookup(nobody) = %v, want ErrUnknownUser", err)
	}
	for name, want := range map[string]bool{"diego.ramirez": true, "disabled.user": false, "locked.user": false,
		"expired.user": false, "later.user": true, "nobody": false} {
		if got, err := c.Active(t.Context(), name); err != nil || got != want {
			t.Errorf("Active(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

func TestActiveDirectoryAccountState(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	c, logs := newTestConnector(t, adConfig(d), Options{})
	for _, tc := range []struct {
		user   string
		want   connector.Outcome
		reason string
	}{
		{"disabled.user", connector.AccountDisabled, "disabled"},
		{"locked.user", connector.AccountDisabled, "locked out"},
		{"expired.user", connector.AccountDisabled, "expired"},
		{"later.user", connector.Accepted, ""},
		{"admin", connector.Accepted, ""},
	} {
		t.Run(tc.user, func(t *testing.T) {
			id, outcome, err := c.Authenticate(t.Context(), tc.user, "pw")
			if tc.user == "admin" {
				id, outcome, err = c.Authenticate(t.Context(), tc.user, "admin-pw")
			}
			if err != nil || outcome != tc.want {
				t.Fatalf("Authenticate = %v, %v; want %v", outcome, err, tc.want)
			}
			if id.Username != tc.user || id.Connector != "corp-ad" {
				t.Errorf("identity = %+v", id)
			}
			if tc.reason != "" && !strings.Contains(logs.String(), "user="+tc.user+" reason=\"the account "+map[string]string{
				"disabled": "is disabled", "locked out": "is locked out", "expired": "has expired"}[tc.reason]) {
				t.Errorf("no log line naming %s and why; logs:\n%s", tc.user, logs)
			}
			if _, ok, _ := c.Login(t.Context(), tc.user, "pw"); ok && tc.want != connector.Accepted {
				t.Errorf("Login accepted %s", tc.user)
			}
		})
	}
	if strings.Contains(logs.String(), "admin-pw") {
		t.Errorf("a password reached the log:\n%s", logs)
	}
}

// TestLDAPInjection: the inputs of SECURITY.md, each tried with the
// password of admin, authenticate nobody and reach the directory only
// escaped: the server decodes each as one literal value.
func TestLDAPInjection(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	c, _ := newTestConnector(t, adConfig(d), Options{})
	long := strings.Repeat("a", 10*1024)
	for _, tc := range []struct {
		name, user, password string
		escaped              string // as the value appears in the received filter; "" = no search at all
	}{
		{"star", "*", "admin-pw", `\2a`},
		{"prefix star", "admin*", "admin-pw", `admin\2a`},
		{"close and reopen", "*)(uid=*", "admin-pw", `\2a\29\28uid=\2a`},
		{"or injection", "admin)(|(uid=*", "admin-pw", `admin\29\28|\28uid=\2a`},
		{"NUL", "admin\x00", "admin-pw", `admin\00`},
		{"NUL alone", "\x00", "admin-pw", `\00`},
		{"placeholder", "{dn}", "admin-pw", "{dn}"},
		{"backslash", `admin\2a`, "admin-pw", `admin\5c2a`},
		{"10 KB", long, "admin-pw", ""},
		{"empty name", "", "admin-pw", ""},
		{"empty password", "admin", "", "admin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d.Reset()
			_, outcome, err := c.Authenticate(t.Context(), tc.user, tc.password)
			if err != nil || outcome == connector.Accepted {
				t.Fatalf("Authenticate(%.40q) = %v, %v; want a refusal", tc.user, outcome, err)
			}
			if _, ok, _ := c.Login(t.Context(), tc.user, tc.password); ok {
				t.Fatalf("Login(%.40q) authenticated", tc.user)
			}
			if slices.Contains(d.Binds(), "CN=admin,OU=People,"+adBase) && tc.password == "" {
				t.Errorf("an empty password was sent in a bind")
			}
			if tc.user != "admin" && slices.Contains(d.Binds(), "CN=admin,OU=People,"+adBase) {
				t.Errorf("%.40q led to a bind as admin", tc.user)
			}
			filters := userFilters(d.Filters())
			if tc.escaped == "" {
				if len(filters) != 0 {
					t.Fatalf("%.40q reached the directory: %q", tc.user, filters)
				}
				return
			}
			want := strings.NewReplacer("{username}", tc.escaped).Replace(c.cfg.UserSearch.Filter)
			for _, f := range filters {
				if f != want {
					t.Errorf("received filter %q\nwant              %q", f, want)
				}
				// The server sees the input as one literal value.
				p, err := goldap.CompileFilter(f)
				if err != nil {
					t.Fatalf("received filter does not compile: %v", err)
				}
				for _, v := range equalityValues(p, "sAMAccountName") {
					if v != tc.user {
						t.Errorf("server decoded sAMAccountName=%q, want the literal %q", v, tc.user)
					}
				}
			}
			if len(filters) == 0 {
				t.Errorf("no user search received")
			}
		})
	}
}

// userFilters keeps the user searches among filters.
func userFilters(filters []string) []string {
	var out []string
	for _, f := range filters {
		if strings.Contains(f, "sAMAccountName=") {
			out = append(out, f)
		}
	}
	return out
}

func equalityValues(p *ber.Packet, attr string) []string {
	if p.Tag == goldap.FilterEqualityMatch && strings.EqualFold(p.Children[0].Data.String(), attr) {
		return []string{p.Children[1].Data.String()}
	}
	var out []string
	for _, c := range p.Children {
		if p.Tag == goldap.FilterAnd || p.Tag == goldap.FilterOr || p.Tag == goldap.FilterNot {
			out = append(out, equalityValues(c, attr)...)
		}
	}
	return out
}

func TestUnreachableDirectoryIsUnavailable(t *testing.T) {
	t.Parallel()
	d := ldaptest.Start(t) // only for a port; its service account does not exist
	cfg := adConfig(d)
	c, _ := newTestConnector(t, cfg, Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Check(ctx); !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "service account") {
		t.Errorf("Check with a refused service account = %v, want ErrUnavailable naming the service account", err)
	}
	if strings.Contains(errString(c.Check(ctx)), adSvcPW) {
		t.Error("the bind password is in the error")
	}
	cfg.URLs = []string{"ldap://127.0.0.1:1"}
	c2, _ := newTestConnector(t, cfg, Options{})
	if _, _, err := c2.Authenticate(ctx, "diego.ramirez", "diego-pw"); !errors.Is(err, connector.ErrUnavailable) {
		t.Errorf("Authenticate with no server = %v, want ErrUnavailable", err)
	}
	if _, err := c2.Lookup(ctx, "diego.ramirez"); !errors.Is(err, connector.ErrUnavailable) || errors.Is(err, connector.ErrUnknownUser) {
		t.Errorf("Lookup with no server = %v, want ErrUnavailable", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestGroupSearchByUsername: memberUid={username} is filled with the
// directory's name for the person, not with what they typed.
func TestGroupSearchByUsername(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	d.Add("CN=unix-users,OU=Groups,"+adBase, "", map[string][]string{"objectClass": {"posixGroup"}, "cn": {"unix-users"}, "memberUid": {"diego.ramirez"}})
	cfg := adConfig(d)
	cfg.GroupSearch = GroupSearch{Filter: "(&(objectClass=posixGroup)(memberUid={username}))"}
	c, _ := newTestConnector(t, cfg, Options{})
	id, ok, err := c.Login(t.Context(), "diego.ramirez@corp.example", "diego-pw")
	if err != nil || !ok {
		t.Fatalf("Login = %v, %v", ok, err)
	}
	if want := []string{"CN=unix-users,OU=Groups," + adBase, "unix-users"}; !slices.Equal(id.Groups, want) {
		t.Errorf("Groups = %q, want %q", id.Groups, want)
	}
}

// TestGroupsCutBySizeLimit: when the directory stops a group search at
// its size limit, the sign-in fails as an error rather than carrying an
// incomplete group list into the mappings.
func TestGroupsCutBySizeLimit(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	d.SizeLimit = 1
	c, _ := newTestConnector(t, adConfig(d), Options{})
	id, ok, err := c.Login(t.Context(), "diego.ramirez", "diego-pw")
	if ok || err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("Login with 2 groups and a size limit of 1 = %+v, %v, %v; want an error naming the size limit", id, ok, err)
	}
	if _, err := c.Lookup(t.Context(), "diego.ramirez"); err == nil || !strings.Contains(err.Error(), "size limit") {
		t.Errorf("Lookup = %v, want an error naming the size limit", err)
	}
}

// TestNonASCIIUsername: a name outside ASCII is escaped byte by byte and
// still finds its entry.
func TestNonASCIIUsername(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	d.Add(adUser("josé.núñez", "jose-pw", nil))
	c, _ := newTestConnector(t, adConfig(d), Options{})
	id, ok, err := c.Login(t.Context(), "josé.núñez", "jose-pw")
	if err != nil || !ok || id.Username != "josé.núñez" {
		t.Fatalf("Login = %+v, %v, %v", id, ok, err)
	}
	for _, f := range userFilters(d.Filters()) {
		if !strings.Contains(f, `jos\c3\a9.n\c3\ba\c3\b1ez`) {
			t.Errorf("filter %q does not carry the name escaped", f)
		}
	}
}
