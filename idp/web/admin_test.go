package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// adminShell is a test IdP with the console's home page, a test page and a
// test action mounted the way cmd/idpbridge mounts them.
type adminShell struct {
	*testIdP
	// ran counts the test action's runs.
	ran atomic.Int32
	// actionErr is what the test action returns.
	actionErr atomic.Value
}

func newAdminShell(t *testing.T) *adminShell {
	t.Helper()
	s := sqliteStore(t)
	seedUsers(t, s)
	a := &adminShell{testIdP: newTestIdP(t, s, false)}
	a.mux.Handle("GET /admin/{$}", a.AdminPage("home", "admin_home", a.AdminHome(s)))
	a.mux.Handle("GET /admin/broken", a.AdminPage("people", "admin_home", func(*http.Request, idp.Session) (any, error) {
		return nil, errors.New("dial tcp 10.0.0.9:5432: password=hunter2")
	}))
	a.mux.Handle("GET /admin/missing", a.AdminPage("people", "admin_home", func(*http.Request, idp.Session) (any, error) {
		return nil, idp.Errorf(idp.ENotFound, "no person %q", "zoe")
	}))
	a.mux.Handle("/admin/zz/", a.AdminNotFound())
	a.mux.Handle("POST /admin/act", a.AdminAction(func(w http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
		a.ran.Add(1)
		if err, ok := a.actionErr.Load().(error); ok && err != nil {
			return "", err
		}
		return AdminNotice("/admin/", "Saved "+r.PostFormValue("name")+" as "+s.Identity.Username), nil
	}))
	return a
}

func (a *adminShell) signedIn(user, password string) *browser {
	a.t.Helper()
	b := a.browser()
	if res := b.login(user, password, ""); res.code != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: %d\n%s", user, res.code, res.body)
	}
	return b
}

// TestAdminShellAccess: anonymous browsers go to the login page, people
// outside idpbridge-admins get the 403 page, administrators the console
// with its nav and the header's Admin link.
func TestAdminShellAccess(t *testing.T) {
	t.Parallel()
	a := newAdminShell(t)

	res := a.browser().get("/admin/")
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2Fadmin%2F" {
		t.Fatalf("anonymous GET /admin/ = %d Location %q, want 303 to the login page", res.code, res.header.Get("Location"))
	}

	alice := a.signedIn("alice", alicePassword)
	for _, path := range []string{"/admin/", "/admin/broken", "/admin/zz/no-such-page"} {
		res = alice.get(path)
		if res.code != http.StatusForbidden || !strings.Contains(res.body, "Only administrators may do this.") ||
			!strings.Contains(res.body, "Signed in as <strong>alice</strong>") {
			t.Errorf("non-admin GET %s = %d, want the 403 page:\n%s", path, res.code, res.body)
		}
		if strings.Contains(res.body, `href="/admin/"`) {
			t.Errorf("the 403 page of %s links the console for a non-admin", path)
		}
	}
	if res = alice.get("/"); res.code != 200 || strings.Contains(res.body, `class="admin-link"`) {
		t.Errorf("a non-admin's portal (%d) shows the Admin link", res.code)
	}

	admin := a.signedIn("admin", adminPassword)
	res = admin.get("/admin/")
	if res.code != http.StatusOK {
		t.Fatalf("admin GET /admin/ = %d:\n%s", res.code, res.body)
	}
	for _, want := range []string{
		`<nav class="adminnav" aria-label="Administration">`,
		`<a href="/admin/" aria-current="page">Home</a>`,
		`<a href="/admin/people">People</a>`,
		`<a href="/admin/keys">Signing keys</a>`,
		`<a class="admin-link" href="/admin/">Admin</a>`,
		`<span class="admin-stat-value">3</span> <span class="admin-stat-label">Local people</span>`,
		`Live STS sessions`,
		`Audit digests`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the console's home page lacks %q:\n%s", want, res.body)
		}
	}
	if res = admin.get("/"); !strings.Contains(res.body, `<a class="admin-link" href="/admin/">Admin</a>`) {
		t.Errorf("an admin's portal has no Admin link:\n%s", res.body)
	}
	if res = admin.get("/admin/zz/no-such-page"); res.code != http.StatusNotFound || !strings.Contains(res.body, "There is no console page at /admin/zz/no-such-page.") {
		t.Errorf("admin GET of an unknown console page = %d:\n%s", res.code, res.body)
	}
}

// TestAdminPageErrors: a page whose loader fails shows its *idp.Error's
// status and message, and for any other error a 500 with a generic message
// that reveals nothing.
func TestAdminPageErrors(t *testing.T) {
	t.Parallel()
	a := newAdminShell(t)
	admin := a.signedIn("admin", adminPassword)
	res := admin.get("/admin/missing")
	if res.code != http.StatusNotFound || !strings.Contains(res.body, "no person &#34;zoe&#34;") || !strings.Contains(res.body, `aria-current="page">People</a>`) {
		t.Errorf("GET /admin/missing = %d:\n%s", res.code, res.body)
	}
	res = admin.get("/admin/broken")
	if res.code != http.StatusInternalServerError || strings.Contains(res.body, "hunter2") || !strings.Contains(res.body, "the details are in the server&#39;s log") {
		t.Errorf("GET /admin/broken = %d:\n%s", res.code, res.body)
	}
}

// TestAdminActionChecks: a console form is refused without its CSRF token
// and from another origin, and by non-admins; the action then never runs.
// With both, it runs and its notice shows on the next page.
func TestAdminActionChecks(t *testing.T) {
	t.Parallel()
	a := newAdminShell(t)
	admin := a.signedIn("admin", adminPassword)
	token := admin.csrf("/admin/")

	res := admin.post("/admin/act", url.Values{"name": {"x"}}, nil)
	if res.code != http.StatusForbidden || !strings.Contains(res.body, "This form has expired or was sent from another site.") {
		t.Errorf("POST without CSRF token = %d:\n%s", res.code, res.body)
	}
	res = admin.post("/admin/act", url.Values{"name": {"x"}, "csrf_token": {"AAAA" + token[4:]}}, nil)
	if res.code != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token = %d", res.code)
	}
	res = admin.post("/admin/act", url.Values{"name": {"x"}, "csrf_token": {token}}, map[string]string{"Origin": "https://evil.example"})
	if res.code != http.StatusForbidden || !strings.Contains(res.body, "Requests that change data must come from this site.") {
		t.Errorf("POST from another origin = %d:\n%s", res.code, res.body)
	}
	admin.Origin = "-"
	res = admin.post("/admin/act", url.Values{"name": {"x"}, "csrf_token": {token}}, nil)
	if res.code != http.StatusForbidden {
		t.Errorf("POST with neither Origin nor Referer = %d", res.code)
	}
	admin.Origin = a.url

	alice := a.signedIn("alice", alicePassword)
	res = alice.post("/admin/act", url.Values{"name": {"x"}, "csrf_token": {alice.csrf("/")}}, nil)
	if res.code != http.StatusForbidden {
		t.Errorf("non-admin POST = %d", res.code)
	}
	anon := a.browser()
	res = anon.post("/admin/act", url.Values{"name": {"x"}, "csrf_token": {anon.csrf("/login")}}, nil)
	if res.code != http.StatusUnauthorized {
		t.Errorf("anonymous POST = %d", res.code)
	}
	if n := a.ran.Load(); n != 0 {
		t.Fatalf("the action ran %d times on refused requests", n)
	}

	res = admin.post("/admin/act", url.Values{"name": {"<b>"}, "csrf_token": {token}}, nil)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/admin/?notice=Saved+%3Cb%3E+as+admin" || a.ran.Load() != 1 {
		t.Fatalf("POST with token = %d Location %q", res.code, res.header.Get("Location"))
	}
	res = admin.get(res.header.Get("Location"))
	if !strings.Contains(res.body, `<p class="notice" role="status">Saved &lt;b&gt; as admin</p>`) {
		t.Errorf("the notice is not shown, escaped:\n%s", res.body)
	}
}

// TestAdminActionInvalid: an EInvalid error is a 400 page with its message
// and a link back to the page the form was on; a form over the size bound
// is refused before the action runs.
func TestAdminActionInvalid(t *testing.T) {
	t.Parallel()
	a := newAdminShell(t)
	admin := a.signedIn("admin", adminPassword)
	token := admin.csrf("/admin/")
	a.actionErr.Store(idp.Errorf(idp.EInvalid, "name %q is not a user name", "a b"))
	res := admin.post("/admin/act", url.Values{"name": {"a b"}, "csrf_token": {token}},
		map[string]string{"Referer": a.url + "/admin/people?q=a"})
	if res.code != http.StatusBadRequest || !strings.Contains(res.body, "name &#34;a b&#34; is not a user name") ||
		!strings.Contains(res.body, `<a href="/admin/people?q=a">Go back</a>`) {
		t.Errorf("invalid action = %d:\n%s", res.code, res.body)
	}
	res = admin.post("/admin/act", url.Values{"name": {"a b"}, "csrf_token": {token}},
		map[string]string{"Referer": "https://evil.example/x"})
	if strings.Contains(res.body, "evil.example") {
		t.Errorf("the back link leads to another site:\n%s", res.body)
	}
	ran := a.ran.Load()
	res = admin.post("/admin/act", url.Values{"name": {strings.Repeat("x", AdminFormMaxBytes)}, "csrf_token": {token}}, nil)
	if res.code != http.StatusRequestEntityTooLarge || a.ran.Load() != ran {
		t.Errorf("oversized form = %d, ran %d times", res.code, a.ran.Load()-ran)
	}
}

// TestAdminRecord: the record names the acting admin, the client, the
// target, and holds before and after as compact JSON with secrets
// redacted; a trail that cannot be written is an error.
func TestAdminRecord(t *testing.T) {
	t.Parallel()
	a := newAdminShell(t)
	s := idp.Session{Identity: idp.Identity{Username: "admin", Connector: "local", Groups: []string{AdminGroup}}}
	r, _ := http.NewRequest("POST", a.url+"/admin/people/alice", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("User-Agent", "test-browser")
	type user struct {
		Name     string            `json:"name"`
		Password string            `json:"password"`
		Attrs    map[string]string `json:"attrs"`
	}
	before := user{Name: "alice", Password: "hunter2hunter2", Attrs: map[string]string{"mail": "a@example.com"}}
	after := user{Name: "alice", Password: "correct horse battery", Attrs: map[string]string{"mail": "alice@example.com"}}
	if err := a.AdminRecord(r, s, audit.AdminUserUpdated, audit.TargetUser, "alice", before, after); err != nil {
		t.Fatal(err)
	}
	if err := a.AdminRecord(r, s, audit.AdminUserDeleted, audit.TargetUser, "bob", nil, nil); err != nil {
		t.Fatal(err)
	}
	recs := a.events.records()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	rec := recs[0]
	if rec.EventName != "AdminUserUpdated" || rec.UserIdentity.UserName != "admin" || rec.SourceIPAddress != "192.0.2.7" || rec.UserAgent != "test-browser" {
		t.Errorf("record %+v", rec)
	}
	var ch audit.AdminChange
	if err := json.Unmarshal(rec.RequestParameters, &ch); err != nil {
		t.Fatal(err)
	}
	wantBefore := `{"name":"alice","password":"` + audit.Hidden + `","attrs":{"mail":"a@example.com"}}`
	wantAfter := `{"name":"alice","password":"` + audit.Hidden + `","attrs":{"mail":"alice@example.com"}}`
	if ch.TargetType != audit.TargetUser || ch.Target != "alice" || ch.Details["before"] != wantBefore || ch.Details["after"] != wantAfter {
		t.Errorf("change %+v\nwant before %s\nafter %s", ch, wantBefore, wantAfter)
	}
	if strings.Contains(string(rec.RequestParameters), "hunter2") || strings.Contains(string(rec.RequestParameters), "horse") {
		t.Errorf("a password reached the trail: %s", rec.RequestParameters)
	}
	var ch2 audit.AdminChange
	if err := json.Unmarshal(recs[1].RequestParameters, &ch2); err != nil || len(ch2.Details) != 0 {
		t.Errorf("nil before and after are not omitted: %s", recs[1].RequestParameters)
	}

	a.events.LogFunc = func([]audit.Record) error { return errLogDown }
	if err := a.AdminRecord(r, s, audit.AdminUserDisabled, audit.TargetUser, "alice", nil, nil); !errors.Is(err, errLogDown) {
		t.Errorf("AdminRecord with the trail down = %v", err)
	}
	if err := a.AdminRecord(r, s, "UserDisabled", audit.TargetUser, "alice", nil, nil); err == nil {
		t.Error("an action not named Admin* was recorded")
	}
}

// TestAdminNotice: the notice is appended url-encoded, after an existing
// query too.
func TestAdminNotice(t *testing.T) {
	t.Parallel()
	if got := AdminNotice("/admin/people", "Deleted bob & co"); got != "/admin/people?notice=Deleted+bob+%26+co" {
		t.Errorf("AdminNotice = %q", got)
	}
	if got := AdminNotice("/admin/people?q=b", "ok"); got != "/admin/people?q=b&notice=ok" {
		t.Errorf("AdminNotice = %q", got)
	}
}
