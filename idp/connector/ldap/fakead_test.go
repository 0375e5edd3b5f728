package ldap

import (
	"context"
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

// fakeEntry is an entry of the in-process directory.
type fakeEntry struct {
	dn       string
	password string // empty: cannot bind
	attrs    map[string][]string
}

// fakeDirectory is an in-process LDAP server that answers like Active
// Directory: it evaluates the filters it receives (equality, presence,
// and/or/not, and member:1.2.840.113556.1.4.1941: transitively) and
// records them.
type fakeDirectory struct {
	addr string

	// onSearch, when set, runs before each search is answered.
	onSearch func()
	// sizeLimit, when above 0, is the directory's own limit of entries
	// per search (AD's MaxPageSize); beyond it the search ends with
	// sizeLimitExceeded.
	sizeLimit int

	mu      sync.Mutex
	entries []*fakeEntry
	filters []string
	binds   []string
}

func (d *fakeDirectory) add(dn, password string, attrs map[string][]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.entries = append(d.entries, &fakeEntry{dn: dn, password: password, attrs: attrs})
}

// received returns the search filters received so far.
func (d *fakeDirectory) received() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.filters...)
}

// bound returns the DNs of the bind requests received so far.
func (d *fakeDirectory) bound() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.binds...)
}

func (d *fakeDirectory) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.filters, d.binds = nil, nil
}

func (d *fakeDirectory) find(dn string) *fakeEntry {
	for _, e := range d.entries {
		if strings.EqualFold(e.dn, dn) {
			return e
		}
	}
	return nil
}

func (d *fakeDirectory) values(e *fakeEntry, attr string) []string {
	for k, v := range e.attrs {
		if strings.EqualFold(k, attr) {
			return v
		}
	}
	return nil
}

// inChain reports whether group (transitively) has member.
func (d *fakeDirectory) inChain(group *fakeEntry, member string, depth int) bool {
	if depth > 20 {
		return false
	}
	for _, m := range d.values(group, "member") {
		if strings.EqualFold(m, member) {
			return true
		}
		if g := d.find(m); g != nil && d.inChain(g, member, depth+1) {
			return true
		}
	}
	return false
}

func (d *fakeDirectory) match(e *fakeEntry, f *ber.Packet) bool {
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
		return len(d.values(e, f.Data.String())) > 0
	case goldap.FilterEqualityMatch:
		attr, want := f.Children[0].Data.String(), f.Children[1].Data.String()
		for _, v := range d.values(e, attr) {
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

func (d *fakeDirectory) bind(w *gldap.ResponseWriter, r *gldap.Request) {
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
	if uac := d.values(e, "userAccountControl"); len(uac) > 0 && uac[0] == "514" {
		resp.SetDiagnosticMessage("80090308: LdapErr: DSID-0C09030B, comment: AcceptSecurityContext error, data 533, v893")
		return
	}
	resp.SetResultCode(gldap.ResultSuccess)
}

func (d *fakeDirectory) search(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	defer w.Write(done)
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	d.mu.Lock()
	d.filters = append(d.filters, m.Filter)
	entries := append([]*fakeEntry(nil), d.entries...)
	d.mu.Unlock()
	if d.onSearch != nil {
		d.onSearch()
	}
	f, err := goldap.CompileFilter(m.Filter)
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		return
	}
	base := strings.ToLower(m.BaseDN)
	sent := 0
	for _, e := range entries {
		if !strings.HasSuffix(strings.ToLower(e.dn), base) || !d.match(e, f) {
			continue
		}
		if (d.sizeLimit > 0 && sent == d.sizeLimit) || (m.SizeLimit > 0 && int64(sent) == m.SizeLimit) {
			done.SetResultCode(gldap.ResultSizeLimitExceeded)
			return
		}
		sent++
		attrs := map[string][]string{}
		for _, a := range m.Attributes {
			if v := d.values(e, a); len(v) > 0 {
				attrs[a] = v
			}
		}
		if err := w.Write(r.NewSearchResponseEntry(e.dn, gldap.WithAttributes(attrs))); err != nil {
			return
		}
	}
}

// startFakeDirectory runs a fakeDirectory on a free local port until the
// test ends.
func startFakeDirectory(t *testing.T) *fakeDirectory {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	d := &fakeDirectory{addr: addr}
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
	waitListening(t, addr, runErr)
	return d
}

// waitListening polls addr until it accepts a connection; failed, when it
// delivers, ends the wait with its error.
func waitListening(t testing.TB, addr string, failed <-chan error) {
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
