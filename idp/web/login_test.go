package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

func TestLoginFlow(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	b := ti.browser()

	res := b.get("/")
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2F" {
		t.Fatalf("GET / signed out = %d %q, want 303 to /login?next=%%2F", res.code, res.header.Get("Location"))
	}
	res = b.get("/login?next=%2F")
	if res.code != 200 || !strings.Contains(res.body, `name="username"`) || !strings.Contains(res.body, `name="password"`) ||
		!strings.Contains(res.body, `name="next" value="/"`) {
		t.Fatalf("login form = %d:\n%s", res.code, res.body)
	}
	res = b.login("admin", adminPassword, "/")
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/" {
		t.Fatalf("POST /login = %d %q:\n%s", res.code, res.header.Get("Location"), res.body)
	}
	res = b.get("/")
	if res.code != 200 || !strings.Contains(res.body, `href="/saml/idp-initiated?sp=aws"`) || !strings.Contains(res.body, "AWS Console") ||
		!strings.Contains(res.body, "Signed in as <strong>admin</strong>") || !strings.Contains(res.body, `action="/logout"`) {
		t.Fatalf("portal = %d:\n%s", res.code, res.body)
	}
	// Signed in, the login page sends the person on.
	if res := b.get("/login?next=%2Fsaml%2Fsso%3Fx%3D1"); res.code != http.StatusSeeOther || res.header.Get("Location") != "/saml/sso?x=1" {
		t.Fatalf("GET /login signed in = %d %q", res.code, res.header.Get("Location"))
	}

	recs := ti.events.records()
	if len(recs) != 1 {
		t.Fatalf("%d audit records, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.EventName != audit.EventSignIn || r.ErrorCode != "" || r.UserIdentity.UserName != "admin" ||
		r.UserIdentity.Type != audit.TypeIdpbridgeUser || r.SourceIPAddress != "127.0.0.1" || r.EventID == "" ||
		!r.EventTime.Equal(ti.clock.Now().Truncate(time.Second)) {
		t.Fatalf("sign-in record = %+v", r)
	}
	if !strings.Contains(string(r.ResponseElements), `"Success"`) {
		t.Fatalf("sign-in responseElements = %s", r.ResponseElements)
	}
}

func TestCurrentSession(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false, func(_ *testing.T, o *IdPOptions) { o.SessionLifetime = time.Hour })
	b := ti.browser()
	b.login("alice", alicePassword, "")
	req, _ := http.NewRequest("GET", ti.url+"/", nil)
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	sess, ok, err := ti.Current(req)
	if err != nil || !ok {
		t.Fatalf("Current = %v, %v", ok, err)
	}
	id := sess.Identity
	if id.Username != "alice" || id.Email != "alice@example.com" || id.Connector != "local" ||
		len(id.Groups) != 1 || id.Groups[0] != "AWS-123456789012-Developer" || len(sess.ID) != 64 {
		t.Fatalf("session = %+v", sess)
	}
	now := ti.clock.Now()
	if !sess.AuthnInstant.Equal(now) || !sess.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("AuthnInstant %v ExpiresAt %v, want %v and an hour later", sess.AuthnInstant, sess.ExpiresAt, now)
	}
	ti.clock.Add(time.Hour - time.Second)
	if _, ok, _ := ti.Current(req); !ok {
		t.Fatal("session ended before its lifetime")
	}
	ti.clock.Add(time.Second)
	if _, ok, _ := ti.Current(req); ok {
		t.Fatal("session outlived its lifetime")
	}
	if b.signedIn() {
		t.Fatal("portal shown with an expired session")
	}
}

func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	other := ti.browser()
	otherToken := other.csrf("/login")

	for _, tc := range []struct {
		name   string
		token  func(b *browser) string
		header map[string]string
		origin string // "" keeps the right one
	}{
		{name: "missing token", token: func(b *browser) string { b.csrf("/login"); return "" }},
		{name: "wrong token", token: func(b *browser) string { b.csrf("/login"); return strings.Repeat("A", 43) }},
		{name: "malformed token", token: func(b *browser) string { b.csrf("/login"); return "not base64 !" }},
		{name: "token of another browser", token: func(b *browser) string { b.csrf("/login"); return otherToken }},
		{name: "token without cookie", token: func(b *browser) string { return otherToken }},
		{name: "wrong origin", token: func(b *browser) string { return b.csrf("/login") }, origin: "http://evil.example"},
		{name: "origin with another port", token: func(b *browser) string { return b.csrf("/login") }, origin: "http://127.0.0.1:1"},
		{name: "null origin", token: func(b *browser) string { return b.csrf("/login") }, origin: "null"},
		{name: "no origin nor referer", token: func(b *browser) string { return b.csrf("/login") }, origin: "-"},
		{name: "referer of another site", token: func(b *browser) string { return b.csrf("/login") }, origin: "-",
			header: map[string]string{"Referer": "http://evil.example/login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ti.browser()
			form := url.Values{"csrf_token": {tc.token(b)}, "username": {"admin"}, "password": {adminPassword}}
			if tc.origin != "" {
				b.Origin = tc.origin
			}
			res := b.post("/login", form, tc.header)
			if res.code != http.StatusForbidden {
				t.Fatalf("POST /login = %d, want 403:\n%s", res.code, res.body)
			}
			if _, ok := setCookies(res.header)[ti.sessName]; ok {
				t.Fatal("a refused POST set a session cookie")
			}
			if !strings.Contains(res.body, "reload the page") {
				t.Fatalf("403 page does not say what to do:\n%s", res.body)
			}
			b.Origin = ti.url
			if b.signedIn() {
				t.Fatal("signed in after a refused POST")
			}
		})
	}
	if n := len(ti.verify.take()); n != 0 {
		t.Fatalf("passwords were checked %d times for requests refused by CSRF", n)
	}

	t.Run("referer of this site without origin", func(t *testing.T) {
		b := ti.browser()
		b.Origin = "-"
		form := url.Values{"csrf_token": {b.csrf("/login")}, "username": {"admin"}, "password": {adminPassword}}
		if res := b.post("/login", form, map[string]string{"Referer": ti.url + "/login"}); res.code != http.StatusSeeOther {
			t.Fatalf("POST /login with a same-origin Referer = %d:\n%s", res.code, res.body)
		}
	})
}

func TestSessionFixation(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)

	t.Run("planted cookie", func(t *testing.T) {
		b := ti.browser()
		b.setCookie(ti.sessName, "attacker-chosen")
		b.setCookie(ti.csrfName, strings.Repeat("A", 43))
		res := b.login("alice", alicePassword, "")
		if res.code != http.StatusSeeOther {
			t.Fatalf("login = %d", res.code)
		}
		if got := b.cookie(ti.sessName); got == "attacker-chosen" || got == "" {
			t.Fatalf("session cookie after login = %q", got)
		}
		if got := b.cookie(ti.csrfName); got == strings.Repeat("A", 43) {
			t.Fatal("the pre-session CSRF cookie was not rotated at sign-in")
		}
	})

	t.Run("earlier session of the same browser", func(t *testing.T) {
		b := ti.browser()
		b.login("alice", alicePassword, "")
		before := b.cookie(ti.sessName)
		oldID, ok := ti.sessionID(requestWithCookie(ti.sessName, before))
		if !ok {
			t.Fatal("no session ID in the first cookie")
		}
		b.login("admin", adminPassword, "")
		after := b.cookie(ti.sessName)
		newID, _ := ti.sessionID(requestWithCookie(ti.sessName, after))
		if string(oldID) == string(newID) {
			t.Fatal("signing in again kept the session ID")
		}
		old, err := s.GetBrowserSession(context.Background(), hashID(oldID))
		if err != nil || old.RevokedAt.IsZero() {
			t.Fatalf("the replaced session is not revoked: %+v, %v", old, err)
		}
		replay := ti.browser()
		replay.setCookie(ti.sessName, before)
		if replay.signedIn() {
			t.Fatal("the replaced session's cookie still signs in")
		}
	})
}

func requestWithCookie(name, value string) *http.Request {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	return r
}

func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	b := ti.browser() // one browser: the CSRF token is the same in every answer
	hashes := map[string]string{}
	for _, name := range []string{"alice", "mallory"} {
		u, _ := s.GetUser(context.Background(), name)
		hashes[name] = u.PasswordHash
	}

	type answer struct {
		code int
		body string
	}
	answers := map[string]answer{}
	for _, tc := range []struct {
		name, username, password string
		checked                  string
		code                     string
		identity                 string
	}{
		{"unknown user", "nobody", "whatever-pass", ti.conn.DummyHash(), audit.CodeInvalidCredentials, audit.TypeAnonymous},
		{"wrong password", "alice", "wrong-password", hashes["alice"], audit.CodeInvalidCredentials, audit.TypeIdpbridgeUser},
		{"disabled user", "mallory", malPassword, hashes["mallory"], audit.CodeAccountDisabled, audit.TypeIdpbridgeUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ti.verify.take()
			n := len(ti.events.records())
			res := b.login(tc.username, tc.password, "")
			// The name typed is echoed back; take it out to compare.
			answers[tc.name] = answer{res.code, strings.ReplaceAll(res.body, `value="`+tc.username+`"`, `value="NAME"`)}
			if got := ti.verify.take(); len(got) != 1 || got[0] != tc.checked {
				t.Errorf("hashes checked = %q, want exactly %q", got, tc.checked)
			}
			recs := ti.events.records()[n:]
			if len(recs) != 1 || recs[0].ErrorCode != tc.code || recs[0].UserIdentity.Type != tc.identity {
				t.Fatalf("audit = %+v, want one %s record for a %s identity", recs, tc.code, tc.identity)
			}
			if recs[0].ErrorMessage != msgInvalid {
				t.Errorf("errorMessage %q, want the message the person saw", recs[0].ErrorMessage)
			}
			if strings.Contains(string(recs[0].RequestParameters), "nobody") {
				t.Errorf("an unknown name was recorded: %s", recs[0].RequestParameters)
			}
		})
	}
	first := answers["unknown user"]
	if first.code != http.StatusUnauthorized || !strings.Contains(first.body, msgInvalid) {
		t.Fatalf("refusal = %d:\n%s", first.code, first.body)
	}
	for name, a := range answers {
		if a != first {
			t.Errorf("%s answered %d, unknown user %d; bodies equal: %v", name, a.code, first.code, a.body == first.body)
		}
	}
}

func TestOpenRedirect(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	for _, next := range []string{
		"//evil.example", "/\\evil.example", "https://evil.example", "http:evil.example", "javascript:alert(1)",
		"JavaScript:alert(1)", "/\t/evil.example", "/\n/evil.example", " /x", "evil", "/" + strings.Repeat("a", 5*1024),
		"///evil.example", "/%0d%0aSet-Cookie:x=1#", "/\x00", "/é",
	} {
		t.Run(strconv.Quote(next), func(t *testing.T) {
			b := ti.browser()
			res := b.get("/login?next=" + url.QueryEscape(next))
			if strings.Contains(res.body, `name="next"`) {
				t.Errorf("the login form carries the unsafe next %q", next)
			}
			res = b.login("alice", alicePassword, next)
			if res.code != http.StatusSeeOther || res.header.Get("Location") != "/" {
				t.Fatalf("after login with next=%q: %d Location %q, want /", next, res.code, res.header.Get("Location"))
			}
		})
	}
}

// TestLoginURLRoundTrip is the contract idp/sso relies on: the browser sent
// to LoginURL(next) ends, once signed in, exactly at next.
func TestLoginURLRoundTrip(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	for _, next := range []string{
		"/saml/sso?SAMLRequest=fZJNT8MwDIbv%2FIoq9%2B6jXwFrKQx7&RelayState=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigAlg=x",
		"/saml/idp-initiated?sp=aws",
		"/",
		"/admin/?tab=users",
	} {
		b := ti.browser()
		loginURL := ti.LoginURL(next)
		page := b.get(loginURL)
		m := regexpNext.FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("GET %s has no next field:\n%s", loginURL, page.body)
		}
		form := url.Values{"csrf_token": {b.csrf(loginURL)}, "username": {"alice"}, "password": {alicePassword}, "next": {htmlUnescape(m[1])}}
		res := b.post("/login", form, nil)
		if res.header.Get("Location") != next {
			t.Errorf("LoginURL(%q) = %q led to %q", next, loginURL, res.header.Get("Location"))
		}
	}
	if got := ti.LoginURL("https://evil.example/"); got != "/login" {
		t.Errorf("LoginURL(absolute) = %q, want /login", got)
	}
}

func TestLogoutInvalidatesServerSide(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	b := ti.browser()
	b.login("alice", alicePassword, "")
	stolen := b.cookie(ti.sessName)

	token := b.csrf("/")
	if res := b.post("/logout", url.Values{}, nil); res.code != http.StatusForbidden {
		t.Fatalf("POST /logout without a token = %d, want 403", res.code)
	}
	if !b.signedIn() {
		t.Fatal("a refused logout ended the session")
	}
	res := b.post("/logout", url.Values{"csrf_token": {token}}, nil)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login" {
		t.Fatalf("POST /logout = %d %q", res.code, res.header.Get("Location"))
	}
	if c := setCookies(res.header)[ti.sessName]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout did not clear the session cookie: %+v", c)
	}
	if b.signedIn() {
		t.Fatal("still signed in after logout")
	}
	replay := ti.browser()
	replay.setCookie(ti.sessName, stolen)
	if replay.signedIn() {
		t.Fatal("the session cookie replayed after logout still signs in")
	}
	var out []string
	for _, r := range ti.events.records() {
		out = append(out, r.EventName+":"+r.UserIdentity.UserName)
	}
	if strings.Join(out, ",") != "SignIn:alice,SignOut:alice" {
		t.Fatalf("audit events = %v", out)
	}
}

func TestEndForSingleLogout(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	b := ti.browser()
	b.login("alice", alicePassword, "")
	req := requestWithCookie(ti.sessName, b.cookie(ti.sessName))
	rec := newRecorder()
	if err := ti.End(rec, req); err != nil {
		t.Fatal(err)
	}
	if c := setCookies(rec.Header())[ti.sessName]; c == nil || c.MaxAge >= 0 {
		t.Fatalf("End did not clear the cookie: %v", rec.Header())
	}
	if _, ok, _ := ti.Current(req); ok {
		t.Fatal("Current after End is still signed in")
	}
	if err := ti.End(newRecorder(), requestWithCookie("other", "x")); err != nil {
		t.Fatalf("End without a session: %v", err)
	}
	var out []string
	for _, r := range ti.events.records() {
		out = append(out, r.EventName+":"+r.UserIdentity.UserName)
	}
	if strings.Join(out, ",") != "SignIn:alice,SignOut:alice" {
		t.Fatalf("audit events after single logout = %v", out)
	}
}

func TestUserDisableRevokesAtOnce(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	ctx := context.Background()

	t.Run("revocation in the disabling transaction", func(t *testing.T) {
		b := ti.browser()
		b.login("alice", alicePassword, "")
		if !b.signedIn() {
			t.Fatal("not signed in")
		}
		err := s.InTx(ctx, func(tx store.Tx) error {
			_, err := tx.RevokeUserBrowserSessions(ctx, "local", "alice", ti.clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if b.signedIn() {
			t.Fatal("signed in after the account's sessions were revoked")
		}
	})
	t.Run("disabled account without revocation", func(t *testing.T) {
		b := ti.browser()
		b.login("alice", alicePassword, "")
		u, _ := s.GetUser(ctx, "alice")
		u.Disabled = true
		if err := s.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if b.signedIn() {
			t.Fatal("a disabled account's session still signs in")
		}
	})
}

func TestAuditFailClosed(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	ti.events.LogFunc = func([]audit.Record) error { return errLogDown }
	b := ti.browser()

	res := b.login("alice", alicePassword, "")
	if res.code != http.StatusServiceUnavailable || !strings.Contains(res.body, "try again") {
		t.Fatalf("login with the trail down = %d:\n%s", res.code, res.body)
	}
	if _, ok := setCookies(res.header)[ti.sessName]; ok {
		t.Fatal("a session cookie was sent although the sign-in was not recorded")
	}
	if b.signedIn() {
		t.Fatal("signed in although the sign-in was not recorded")
	}
	// A refusal is still a refusal.
	if res := b.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
		t.Fatalf("wrong password with the trail down = %d", res.code)
	}
	ti.events.LogFunc = nil
	if res := b.login("alice", alicePassword, ""); res.code != http.StatusSeeOther {
		t.Fatalf("login once the trail is back = %d", res.code)
	}
}

func TestPasswordNeverRecorded(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	b := ti.browser()
	b.login(alicePassword, alicePassword, "") // typed into both fields
	b.login("alice", "wrong-password-typed", "")
	b.login("alice", alicePassword, "")
	for _, r := range ti.events.records() {
		raw, _ := json.Marshal(r)
		for _, secret := range []string{alicePassword, "wrong-password-typed"} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("record %s contains a password:\n%s", r.EventName, raw)
			}
		}
	}
}

func TestCookieFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name              string
		tls               bool
		sessName, csrfNam string
	}{
		{"http base URL", false, "idpbridge_session", "idpbridge_csrf"},
		{"https base URL", true, "__Host-idpbridge_session", "__Host-idpbridge_csrf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sqliteStore(t)
			seedUsers(t, s)
			ti := newTestIdP(t, s, tc.tls, func(_ *testing.T, o *IdPOptions) { o.SessionLifetime = 2 * time.Hour })
			b := ti.browser()
			form := setCookies(b.get("/login").header)
			res := b.login("alice", alicePassword, "")
			got := setCookies(res.header)
			for name, c := range map[string]*http.Cookie{tc.csrfNam: form[tc.csrfNam], tc.sessName: got[tc.sessName], "rotated " + tc.csrfNam: got[tc.csrfNam]} {
				if c == nil {
					t.Fatalf("cookie %s not set (form %v, login %v)", name, form, got)
				}
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != tc.tls || c.Domain != "" {
					t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q Secure=%v Domain=%q; want HttpOnly, Lax, /, Secure=%v, host-only",
						name, c.HttpOnly, c.SameSite, c.Path, c.Secure, c.Domain, tc.tls)
				}
			}
			if c := got[tc.sessName]; c.MaxAge != 7200 {
				t.Errorf("session cookie Max-Age = %d, want the session lifetime 7200", c.MaxAge)
			}
			if strings.Contains(got[tc.sessName].Value, "alice") {
				t.Error("the session cookie shows its content")
			}
			if !b.signedIn() {
				t.Fatal("the browser is not signed in with these cookies")
			}
		})
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	ti := newTestIdP(t, s, false)
	b := ti.browser()
	if res := b.get("/static/style.css"); res.code != 200 || !strings.Contains(res.body, "body") {
		t.Fatalf("GET /static/style.css = %d", res.code)
	}
	for _, p := range []string{"/static/", "/static/nope.css"} {
		if res := b.get(p); res.code != 404 {
			t.Errorf("GET %s = %d, want 404", p, res.code)
		}
	}
}

func TestRequireAdmin(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	anon, alice, admin := ti.browser(), ti.browser(), ti.browser()
	alice.login("alice", alicePassword, "")
	admin.login("admin", adminPassword, "")

	for _, tc := range []struct {
		name     string
		b        *browser
		method   string
		path     string
		origin   string
		code     int
		contains string
	}{
		{"api, signed out", anon, "GET", "/admin/api/users", "", 401, `"code":"unauthorized"`},
		{"api POST, signed out", anon, "POST", "/admin/api/users", "", 401, `"code":"unauthorized"`},
		{"ui, signed out", anon, "GET", "/admin/users?x=1", "", 303, ""},
		{"api, not an admin", alice, "GET", "/admin/api/users", "", 403, `"code":"forbidden"`},
		{"ui, not an admin", alice, "GET", "/admin/", "", 403, "Only administrators"},
		{"api, admin", admin, "GET", "/admin/api/users", "", 200, "admin page for admin"},
		{"api POST, admin, same origin", admin, "POST", "/admin/api/users", "", 200, "admin page for admin"},
		{"api POST, admin, other origin", admin, "POST", "/admin/api/users", "http://evil.example", 403, `"code":"forbidden"`},
		{"api POST, admin, no origin", admin, "POST", "/admin/api/users", "-", 403, `"code":"forbidden"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.method == "GET" {
				res = tc.b.get(tc.path)
			} else {
				saved := tc.b.Origin
				if tc.origin != "" {
					tc.b.Origin = tc.origin
				}
				res = tc.b.post(tc.path, url.Values{}, nil)
				tc.b.Origin = saved
			}
			if res.code != tc.code || !strings.Contains(res.body, tc.contains) {
				t.Fatalf("%s %s = %d, want %d containing %q:\n%s", tc.method, tc.path, res.code, tc.code, tc.contains, res.body)
			}
			if strings.HasPrefix(tc.path, "/admin/api/") && tc.code != 200 && !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				t.Errorf("API refusal is %s, want JSON", res.header.Get("Content-Type"))
			}
			if tc.code == 303 && res.header.Get("Location") != "/login?next=%2Fadmin%2Fusers%3Fx%3D1" {
				t.Errorf("redirect to %q", res.header.Get("Location"))
			}
		})
	}
}
