// Package ldaptest is an in-process LDAP server for tests that answers
// like Active Directory: simple binds against the entries' passwords (a
// disabled account, userAccountControl 514, is refused with AD's
// diagnostic "data 533"), and searches evaluated from their filters
// (equality, presence, and/or/not, and the matching rule
// LDAP_MATCHING_RULE_IN_CHAIN, member:1.2.840.113556.1.4.1941:, followed
// transitively). It records the filters and bind DNs it receives, so that
// tests can assert on what reached the directory. StartAD fills it with a
// small Active Directory: a service account and diego.ramirez, who is in
// AWS-123456789012-Developer through the nested group Developers.
//
// StartSlapd runs a real OpenLDAP server (Debian's slapd) with a fixture
// of the same shape: diego in developers, which is in
// aws-123456789012-developer.
package ldaptest

import (
	"context"
	"encoding/binary"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

// The Active Directory of StartAD.
const (
	// BaseDN is the domain's naming context.
	BaseDN = "DC=corp,DC=example"
	// ServiceDN and ServicePassword are the service account that searches.
	ServiceDN       = "CN=svc-idpbridge,OU=Service,DC=corp,DC=example"
	ServicePassword = "svc-secret"
	// DiegoDN is diego.ramirez's entry; DiegoPassword his password.
	DiegoDN       = "CN=Diego Ramirez,OU=People,DC=corp,DC=example"
	DiegoPassword = "diego-pw"
	// DevelopersDN is a group with diego.ramirez as member; it is itself a
	// member of AWSDeveloperDN.
	DevelopersDN = "CN=Developers,OU=Groups,DC=corp,DC=example"
	// AWSDeveloperDN is the group AWS-123456789012-Developer, whose only
	// member is the group Developers.
	AWSDeveloperDN = "CN=AWS-123456789012-Developer,OU=Groups,DC=corp,DC=example"
	// DiegoGUIDString and DiegoSIDString are the string forms of
	// diego.ramirez's objectGUID and objectSid.
	DiegoGUIDString = "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
	DiegoSIDString  = "S-1-5-21-3623811015-3361044348-30300820-1013"
)

// DiegoGUID is diego.ramirez's objectGUID as AD stores it (the GUID
// DiegoGUIDString, its first three fields little-endian).
var DiegoGUID = []byte{0xae, 0x4f, 0x1d, 0xf8, 0xec, 0x7d, 0xd0, 0x11, 0xa7, 0x65, 0x00, 0xa0, 0xc9, 0x1e, 0x6b, 0xf6}

// SIDBytes encodes the SID S-1-5-sub... as AD stores it.
func SIDBytes(sub ...uint32) []byte {
	b := []byte{1, byte(len(sub)), 0, 0, 0, 0, 0, 5}
	for _, s := range sub {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}

// entry is an entry of the directory.
type entry struct {
	dn       string
	password string // empty: cannot bind
	attrs    map[string][]string
}

// Directory is a running in-process LDAP server. Set its fields before
// the requests they concern.
type Directory struct {
	addr string

	// OnSearch, when set, runs before each search is answered.
	OnSearch func()
	// SizeLimit, when above 0, is the directory's own limit of entries
	// per search (AD's MaxPageSize); beyond it the search ends with
	// sizeLimitExceeded.
	SizeLimit int

	mu      sync.Mutex
	entries []*entry
	filters []string
	binds   []string
}

// Addr is the server's host:port.
func (d *Directory) Addr() string { return d.addr }

// URL is the server's ldap:// URL (clear text: a connector needs
// insecure_no_tls).
func (d *Directory) URL() string { return "ldap://" + d.addr }

// Add adds an entry. An empty password makes an entry that cannot bind.
// Attribute names match case-insensitively; binary values (objectGUID,
// objectSid) are strings of their bytes.
func (d *Directory) Add(dn, password string, attrs map[string][]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries = append(d.entries, &entry{dn: dn, password: password, attrs: attrs})
}

// Filters returns the search filters received so far, as the server
// received them.
func (d *Directory) Filters() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.filters...)
}

// Binds returns the DNs of the bind requests received so far.
func (d *Directory) Binds() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.binds...)
}

// Reset forgets the filters and binds received so far.
func (d *Directory) Reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.filters, d.binds = nil, nil
}

func (d *Directory) find(dn string) *entry {
	for _, e := range d.entries {
		if strings.EqualFold(e.dn, dn) {
			return e
		}
	}
	return nil
}

func values(e *entry, attr string) []string {
	for k, v := range e.attrs {
		if strings.EqualFold(k, attr) {
			return v
		}
	}
	return nil
}

// inChain reports whether group (transitively) has member. Called with
// d.mu held.
func (d *Directory) inChain(group *entry, member string, depth int) bool {
	if depth > 20 {
		return false
	}
	for _, m := range values(group, "member") {
		if strings.EqualFold(m, member) {
			return true
		}
		if g := d.find(m); g != nil && d.inChain(g, member, depth+1) {
			return true
		}
	}
	return false
}

// match evaluates the filter f on e. Called with d.mu held.
func (d *Directory) match(e *entry, f *ber.Packet) bool {
	switch f.Tag {
	case goldap.FilterAnd:
		for _, c := range f.Children {
			if !d.match(e, c) {
				return false
			}
		}
		return true
	case goldap.FilterOr:
		for _, c := range f.Children {
			if d.match(e, c) {
				return true
			}
		}
		return false
	case goldap.FilterNot:
		return !d.match(e, f.Children[0])
	case goldap.FilterPresent:
		return len(values(e, f.Data.String())) > 0
	case goldap.FilterEqualityMatch:
		attr, want := f.Children[0].Data.String(), f.Children[1].Data.String()
		for _, v := range values(e, attr) {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	case goldap.FilterExtensibleMatch:
		var rule, attr, value string
		for _, c := range f.Children {
			switch c.Tag {
			case 1:
				rule = c.Data.String()
			case 2:
				attr = c.Data.String()
			case 3:
				value = c.Data.String()
			}
		}
		return rule == "1.2.840.113556.1.4.1941" && strings.EqualFold(attr, "member") && d.inChain(e, value, 0)
	}
	return false // substrings and the rest never match here
}

func (d *Directory) bind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	defer w.Write(resp)
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.binds = append(d.binds, m.UserName)
	e := d.find(m.UserName)
	if e == nil || e.password == "" || string(m.Password) == "" || string(m.Password) != e.password {
		return
	}
	if uac := values(e, "userAccountControl"); len(uac) > 0 && uac[0] == "514" {
		resp.SetDiagnosticMessage("80090308: LdapErr: DSID-0C09030B, comment: AcceptSecurityContext error, data 533, v893")
		return
	}
	resp.SetResultCode(gldap.ResultSuccess)
}

func (d *Directory) search(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	defer w.Write(done)
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	d.mu.Lock()
	d.filters = append(d.filters, m.Filter)
	d.mu.Unlock()
	if d.OnSearch != nil {
		d.OnSearch()
	}
	f, err := goldap.CompileFilter(m.Filter)
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	type hit struct {
		dn    string
		attrs map[string][]string
	}
	var hits []hit
	exceeded := false
	base := strings.ToLower(m.BaseDN)
	d.mu.Lock()
	for _, e := range d.entries {
		if !strings.HasSuffix(strings.ToLower(e.dn), base) || !d.match(e, f) {
			continue
		}
		if (d.SizeLimit > 0 && len(hits) == d.SizeLimit) || (m.SizeLimit > 0 && int64(len(hits)) == m.SizeLimit) {
			exceeded = true
			break
		}
		attrs := map[string][]string{}
		for _, a := range m.Attributes {
			if v := values(e, a); len(v) > 0 {
				attrs[a] = v
			}
		}
		hits = append(hits, hit{e.dn, attrs})
	}
	d.mu.Unlock()
	for _, h := range hits {
		if err := w.Write(r.NewSearchResponseEntry(h.dn, gldap.WithAttributes(h.attrs))); err != nil {
			return
		}
	}
	if exceeded {
		done.SetResultCode(gldap.ResultSizeLimitExceeded)
	}
}

// Start runs an empty Directory on a free local port until the test
// ends.
func Start(t testing.TB) *Directory {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := &Directory{addr: addr}
	s, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux, err := gldap.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	if err := mux.Bind(d.bind); err != nil {
		t.Fatal(err)
	}
	if err := mux.Search(d.search); err != nil {
		t.Fatal(err)
	}
	if err := s.Router(mux); err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(addr) }()
	t.Cleanup(func() { s.Stop() })
	WaitListening(t, addr, runErr)
	return d
}

// StartAD runs a Directory holding a small Active Directory under BaseDN:
// the service account ServiceDN, and diego.ramirez (DiegoDN, password
// DiegoPassword, userPrincipalName and mail diego.ramirez@corp.example,
// employeeID E-1234, objectGUID DiegoGUID, objectSid DiegoSIDString),
// member of Developers (DevelopersDN, in his memberOf), which is a member
// of AWS-123456789012-Developer (AWSDeveloperDN).
func StartAD(t testing.TB) *Directory {
	t.Helper()
	d := Start(t)
	d.Add(ServiceDN, ServicePassword, map[string][]string{"objectClass": {"user"}, "sAMAccountName": {"svc-idpbridge"}})
	d.Add(DiegoDN, DiegoPassword, map[string][]string{
		"objectClass":        {"top", "person", "organizationalPerson", "user"},
		"sAMAccountName":     {"diego.ramirez"},
		"userPrincipalName":  {"diego.ramirez@corp.example"},
		"mail":               {"diego.ramirez@corp.example"},
		"displayName":        {"Diego Ramírez"},
		"employeeID":         {"E-1234"},
		"userAccountControl": {"512"},
		"accountExpires":     {"0"},
		"lockoutTime":        {"0"},
		"memberOf":           {DevelopersDN},
		"objectGUID":         {string(DiegoGUID)},
		"objectSid":          {string(SIDBytes(21, 3623811015, 3361044348, 30300820, 1013))},
	})
	d.Add(DevelopersDN, "", map[string][]string{"objectClass": {"group"}, "cn": {"Developers"}, "member": {DiegoDN}})
	d.Add(AWSDeveloperDN, "", map[string][]string{"objectClass": {"group"}, "cn": {"AWS-123456789012-Developer"}, "member": {DevelopersDN}})
	return d
}

// WaitListening polls addr until it accepts a connection; failed, when it
// delivers, ends the wait with its error.
func WaitListening(t testing.TB, addr string, failed <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-failed:
			t.Fatalf("server at %s stopped: %v", addr, err)
		case <-ctx.Done():
			t.Fatalf("server at %s did not start listening", addr)
		case <-tick.C:
		}
	}
}
