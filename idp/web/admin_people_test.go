package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
)

// txLog is an AdminTxLog that keeps the records it is given, or fails.
type txLog struct {
	mu   sync.Mutex
	recs []audit.Record
	fail error
}

func (l *txLog) Append(_ context.Context, _ store.Tx, recs ...audit.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.recs = append(l.recs, recs...)
	return nil
}

func (l *txLog) take() []audit.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.recs
	l.recs = nil
	return r
}

func (l *txLog) setFail(err error) {
	l.mu.Lock()
	l.fail = err
	l.mu.Unlock()
}

// peopleFunc adapts a function to sso.People.
type peopleFunc func(ctx context.Context, name string) (idp.Identity, bool, error)

func (f peopleFunc) LookupIdentity(ctx context.Context, name string) (idp.Identity, bool, error) {
	return f(ctx, name)
}

type peopleShell struct {
	*testIdP
	log *txLog
}

func newPeopleShell(t *testing.T) *peopleShell {
	t.Helper()
	s := sqliteStore(t)
	seedUsers(t, s)
	ps := &peopleShell{testIdP: newTestIdP(t, s, false), log: &txLog{}}
	dir := peopleFunc(func(_ context.Context, name string) (idp.Identity, bool, error) {
		switch name {
		case "diego@corp-ad":
			return idp.Identity{Username: "diego", Connector: "corp-ad", Email: "diego.ramirez@example.com",
				Groups: []string{"AWS-Dev"}, Attributes: map[string][]string{"department": {"R&D"}}}, true, nil
		case "down@corp-ad":
			return idp.Identity{}, false, errors.New("ldap: dial 10.1.2.3:636: refused")
		}
		return idp.Identity{}, false, nil
	})
	people, err := ps.AdminPeople(AdminPeopleOptions{Store: s, Audit: ps.log, Local: true, Policy: local.PasswordPolicy{MinLength: 12},
		Hash: cheap, People: dir, Directories: []string{"corp-ad"}})
	if err != nil {
		t.Fatal(err)
	}
	m := ps.mux
	m.Handle("GET /admin/people", ps.AdminPage("people", "admin_people", people.List))
	m.Handle("POST /admin/people", ps.AdminAction(people.Create))
	m.Handle("GET /admin/people/{name}", ps.AdminPage("people", "admin_people_edit", people.Show))
	m.Handle("POST /admin/people/{name}", ps.AdminAction(people.Update))
	m.Handle("POST /admin/people/{name}/disable", ps.AdminAction(people.Disable))
	m.Handle("POST /admin/people/{name}/enable", ps.AdminAction(people.Enable))
	m.Handle("POST /admin/people/{name}/password", ps.AdminAction(people.Password))
	m.Handle("POST /admin/people/{name}/delete", ps.AdminAction(people.Delete))
	return ps
}

func (ps *peopleShell) admin() (*browser, string) {
	ps.t.Helper()
	b := ps.browser()
	if res := b.login("admin", adminPassword, ""); res.code != http.StatusSeeOther {
		ps.t.Fatalf("admin sign-in: %d", res.code)
	}
	return b, b.csrf("/admin/people")
}

func change(t *testing.T, rec audit.Record) audit.AdminChange {
	t.Helper()
	var ch audit.AdminChange
	if err := json.Unmarshal(rec.RequestParameters, &ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestAdminPeopleCreate: a person is added with the password policy
// checked and the AdminUserAdded record written; bad input is a 400 page
// naming the field, and nothing is added.
func TestAdminPeopleCreate(t *testing.T) {
	t.Parallel()
	ps := newPeopleShell(t)
	b, tok := ps.admin()
	form := func(name, pw, pw2 string) url.Values {
		return url.Values{"csrf_token": {tok}, "username": {name}, "password": {pw}, "password2": {pw2},
			"groups": {"AWS-Dev\r\n\r\nAWS-Dev\r\nreaders"}, "attributes": {"mail=bob@example.com\r\nnick=b\r\nnick=bobby"}}
	}
	for _, tc := range []struct {
		form   url.Values
		status int
		msg    string
	}{
		{form("bob", "short-pw", "short-pw"), 400, "Password: a password has at least 12 characters, this one has 8."},
		{form("bob", "password1234", "password1234"), 400, "on the list of commonly used passwords"},
		{form("bob", "a-long-enough-pw", "another-long-pw"), 400, "Password: the two passwords differ."},
		{form("b ob", "a-long-enough-pw", "a-long-enough-pw"), 400, "contains a space or control character"},
		{form("ALICE", "a-long-enough-pw", "a-long-enough-pw"), 409, "A person named &#34;ALICE&#34; exists already."},
		{func() url.Values {
			f := form("bob", "a-long-enough-pw", "a-long-enough-pw")
			f.Set("attributes", "mail")
			return f
		}(), 400,
			"Attributes, line 1: &#34;mail&#34; is not name=value."},
	} {
		res := b.post("/admin/people", tc.form, nil)
		if res.code != tc.status || !strings.Contains(res.body, tc.msg) {
			t.Errorf("create %v = %d, want %d with %q:\n%s", tc.form, res.code, tc.status, tc.msg, res.body)
		}
	}
	if recs := ps.log.take(); len(recs) != 0 {
		t.Fatalf("refused creations were recorded: %v", recs)
	}
	res := b.post("/admin/people", form("bob", "a-long-enough-pw", "a-long-enough-pw"), nil)
	if res.code != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/admin/people/bob?notice=") {
		t.Fatalf("create bob = %d %s", res.code, res.header.Get("Location"))
	}
	u, err := ps.store.GetUser(context.Background(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := local.VerifyPassword(u.PasswordHash, "a-long-enough-pw"); !ok || strings.Join(u.Groups, ",") != "AWS-Dev,readers" ||
		strings.Join(u.Attributes["nick"], ",") != "b,bobby" || u.Attributes["mail"][0] != "bob@example.com" {
		t.Errorf("stored %+v", u)
	}
	recs := ps.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminUserAdded" || recs[0].UserIdentity.UserName != "admin" {
		t.Fatalf("records %+v", recs)
	}
	ch := change(t, recs[0])
	if ch.Target != "bob" || ch.Details["after"] != `{"attributes":{"mail":["bob@example.com"],"nick":["b","bobby"]},"disabled":false,"groups":["AWS-Dev","readers"]}` ||
		strings.Contains(string(recs[0].RequestParameters), "argon2") {
		t.Errorf("record %s", recs[0].RequestParameters)
	}
	page := b.get(res.header.Get("Location"))
	for _, want := range []string{`<p class="notice" role="status">Added bob.</p>`, "mail=bob@example.com\nnick=b\nnick=bobby", "AWS-Dev\nreaders"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("bob's page lacks %q:\n%s", want, page.body)
		}
	}
}

// TestAdminPeopleChanges: edit, disable, enable, password and delete each
// change the account, end its browser sessions where they must, and write
// their record with before and after; a record that cannot be written
// undoes the change.
func TestAdminPeopleChanges(t *testing.T) {
	t.Parallel()
	ps := newPeopleShell(t)
	b, tok := ps.admin()
	alice := ps.browser()
	alice.login("alice", alicePassword, "")
	post := func(path string, f url.Values) response {
		t.Helper()
		if f == nil {
			f = url.Values{}
		}
		f.Set("csrf_token", tok)
		return b.post(path, f, nil)
	}

	res := post("/admin/people/alice", url.Values{"groups": {"AWS-123456789012-Developer\nops"}, "attributes": {"mail=alice@example.org"}})
	if res.code != http.StatusSeeOther {
		t.Fatalf("update = %d:\n%s", res.code, res.body)
	}
	recs := ps.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminUserUpdated" {
		t.Fatalf("update records %v", recs)
	}
	ch := change(t, recs[0])
	if ch.Details["before"] != `{"attributes":{"mail":["alice@example.com"]},"groups":["AWS-123456789012-Developer"]}` ||
		ch.Details["after"] != `{"attributes":{"mail":["alice@example.org"]},"groups":["AWS-123456789012-Developer","ops"]}` {
		t.Errorf("update details %v", ch.Details)
	}
	if !alice.signedIn() {
		t.Fatal("an attribute change signed alice out")
	}

	ps.log.setFail(errLogDown)
	res = post("/admin/people/alice/disable", nil)
	if res.code != http.StatusInternalServerError {
		t.Errorf("disable with the trail down = %d", res.code)
	}
	if u, _ := ps.store.GetUser(context.Background(), "alice"); u.Disabled || !alice.signedIn() {
		t.Fatal("a disable whose record failed took effect")
	}
	ps.log.setFail(nil)

	res = post("/admin/people/alice/disable", nil)
	if res.code != http.StatusSeeOther || alice.signedIn() {
		t.Fatalf("disable = %d; alice still signed in: %v", res.code, alice.signedIn())
	}
	recs = ps.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminUserDisabled" || change(t, recs[0]).Details["after"] != `{"browserSessionsRevoked":1,"disabled":true}` {
		t.Fatalf("disable records %v", recs)
	}
	if res = post("/admin/people/alice/enable", nil); res.code != http.StatusSeeOther {
		t.Fatalf("enable = %d", res.code)
	}
	if recs = ps.log.take(); len(recs) != 1 || recs[0].EventName != "AdminUserEnabled" {
		t.Fatalf("enable records %v", recs)
	}
	alice.login("alice", alicePassword, "")
	if !alice.signedIn() {
		t.Fatal("alice cannot sign in once enabled")
	}

	res = post("/admin/people/alice/password", url.Values{"password": {"a-new-password-1"}, "password2": {"a-new-password-1"}})
	if res.code != http.StatusSeeOther || alice.signedIn() {
		t.Fatalf("password = %d; alice still signed in: %v", res.code, alice.signedIn())
	}
	recs = ps.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminUserPasswordChanged" || strings.Contains(string(recs[0].RequestParameters), "a-new-password") {
		t.Fatalf("password records %v", recs)
	}
	if res := alice.login("alice", "a-new-password-1", ""); res.code != http.StatusSeeOther {
		t.Fatalf("alice with the new password: %d", res.code)
	}

	res = post("/admin/people/alice/delete", nil)
	if res.code != http.StatusSeeOther || alice.signedIn() {
		t.Fatalf("delete = %d; alice still signed in: %v", res.code, alice.signedIn())
	}
	if _, err := ps.store.GetUser(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alice after delete: %v", err)
	}
	recs = ps.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminUserDeleted" || change(t, recs[0]).Details["after"] != `{"browserSessionsRevoked":1}` {
		t.Fatalf("delete records %v", recs)
	}
	if res = post("/admin/people/alice/enable", nil); res.code != http.StatusNotFound || !strings.Contains(res.body, "There is no local person &#34;alice&#34;.") {
		t.Errorf("enable a deleted person = %d", res.code)
	}
}

// TestAdminPeopleSelf: an administrator cannot disable or delete their own
// account, nor leave idpbridge-admins, from the console.
func TestAdminPeopleSelf(t *testing.T) {
	t.Parallel()
	ps := newPeopleShell(t)
	b, tok := ps.admin()
	for path, f := range map[string]url.Values{
		"/admin/people/admin/disable": {},
		"/admin/people/Admin/delete":  {},
		"/admin/people/admin":         {"groups": {"ops"}},
	} {
		f.Set("csrf_token", tok)
		if res := b.post(path, f, nil); res.code != http.StatusBadRequest || !strings.Contains(res.body, "You cannot") {
			t.Errorf("POST %s = %d:\n%s", path, res.code, res.body)
		}
	}
	if recs := ps.log.take(); len(recs) != 0 {
		t.Errorf("refused self changes were recorded: %v", recs)
	}
	if page := b.get("/admin/people/admin"); strings.Contains(page.body, "/admin/people/admin/delete") {
		t.Error("the admin's own page offers to delete the account")
	}
}

// TestAdminPeopleListAndLookup: the search matches names, groups and
// attribute values; a directory person shows read-only, and a directory
// that fails shows a message without its error's detail.
func TestAdminPeopleListAndLookup(t *testing.T) {
	t.Parallel()
	ps := newPeopleShell(t)
	b, _ := ps.admin()
	res := b.get("/admin/people?q=EXAMPLE.COM")
	if !strings.Contains(res.body, `<a href="/admin/people/alice">alice</a>`) || strings.Contains(res.body, `<a href="/admin/people/mallory">`) ||
		!strings.Contains(res.body, "1 of 3 local people match") || !strings.Contains(res.body, `<th scope="col">Name</th>`) {
		t.Errorf("search:\n%s", res.body)
	}
	if res = b.get("/admin/people"); !strings.Contains(res.body, `<span class="badge badge-off">disabled</span>`) {
		t.Errorf("mallory is not shown disabled:\n%s", res.body)
	}
	res = b.get("/admin/people?lookup=diego@corp-ad")
	for _, want := range []string{"diego@corp-ad", "read-only: from the connector corp-ad", "diego.ramirez@example.com", "R&amp;D", "AWS-Dev"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("lookup lacks %q:\n%s", want, res.body)
		}
	}
	if res = b.get("/admin/people?lookup=zoe@corp-ad"); !strings.Contains(res.body, "The connector corp-ad knows no person zoe.") {
		t.Errorf("unknown person:\n%s", res.body)
	}
	if res = b.get("/admin/people?lookup=down@corp-ad"); res.code != 200 || strings.Contains(res.body, "10.1.2.3") || !strings.Contains(res.body, "could not be asked") {
		t.Errorf("failing directory = %d:\n%s", res.code, res.body)
	}
	if res = b.get("/admin/people?lookup=diego"); !strings.Contains(res.body, "Write the name as user@connector") {
		t.Errorf("unqualified lookup:\n%s", res.body)
	}
}
