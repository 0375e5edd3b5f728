package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLoginNotices: the login form says why it is shown: a session that
// expired ("Your session expired; sign in again"), or a sign-out a moment
// ago ("You are signed out"); each once, and nothing to a browser that was
// never signed in.
func TestLoginNotices(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	for _, tls := range []bool{false, true} {
		ti := newTestIdP(t, s, tls, func(_ *testing.T, o *IdPOptions) { o.SessionLifetime = time.Hour })
		notice := func(b *browser, path string) string {
			t.Helper()
			res := b.get(path)
			if res.code != http.StatusOK {
				t.Fatalf("GET %s = %d, want the login form", path, res.code)
			}
			if i := strings.Index(res.body, `id="login-notice">`); i >= 0 {
				rest := res.body[i+len(`id="login-notice">`):]
				return rest[:strings.Index(rest, "<")]
			}
			return ""
		}

		b := ti.browser()
		if n := notice(b, "/login"); n != "" {
			t.Errorf("tls=%v: a new browser is told %q", tls, n)
		}

		// The session expires on the server while the browser still holds
		// its cookies: the portal sends it to the form, which says so.
		b.login("alice", alicePassword, "")
		ti.clock.Add(time.Hour)
		res := b.get("/")
		if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login?next=%2F" {
			t.Fatalf("tls=%v: GET / after expiry = %d %q", tls, res.code, res.header.Get("Location"))
		}
		if n := notice(b, "/login?next=%2F"); n != "Your session expired; sign in again." {
			t.Errorf("tls=%v: after expiry the form says %q", tls, n)
		}
		if n := notice(b, "/login"); n != "" {
			t.Errorf("tls=%v: the expiry is told twice: %q", tls, n)
		}

		// The browser dropped the session cookie at the end of its life:
		// the state cookie still tells.
		b = ti.browser()
		state := setCookies(b.login("alice", alicePassword, "").header)[ti.stateName]
		if state == nil || state.Value != "in" || !state.HttpOnly || state.Secure != tls || state.SameSite != http.SameSiteLaxMode ||
			state.MaxAge != int((time.Hour+stateGrace)/time.Second) {
			t.Fatalf("tls=%v: state cookie at sign-in: %+v", tls, state)
		}
		later := ti.browser()
		later.setCookie(ti.stateName, "in")
		if n := notice(later, "/login"); n != "Your session expired; sign in again." {
			t.Errorf("tls=%v: with only the state cookie the form says %q", tls, n)
		}

		// Sign-out.
		token := b.csrf("/")
		res = b.post("/logout", url.Values{"csrf_token": {token}}, nil)
		if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login" {
			t.Fatalf("tls=%v: POST /logout = %d %q", tls, res.code, res.header.Get("Location"))
		}
		if n := notice(b, "/login"); n != "You are signed out." {
			t.Errorf("tls=%v: after sign-out the form says %q", tls, n)
		}
		if n := notice(b, "/login"); n != "" {
			t.Errorf("tls=%v: the sign-out is told twice: %q", tls, n)
		}

		// A state cookie of another value says nothing.
		odd := ti.browser()
		odd.setCookie(ti.stateName, "<script>")
		if n := notice(odd, "/login"); n != "" {
			t.Errorf("tls=%v: a forged state cookie shows %q", tls, n)
		}
	}
}
