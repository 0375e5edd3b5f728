package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"idpbridge/idp/audit"
	"idpbridge/idp/store/postgres/pgtest"
)

// TestUserPasswdEndsSessions: while serve runs, `user passwd bob` ends
// every browser session of bob at once (the old cookies no longer open
// the portal), leaves other people's sessions alone, and its audit record
// says how many sessions it ended.
func TestUserPasswdEndsSessions(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testUserPasswdEndsSessions(t, pg)
		})
	}
}

func testUserPasswdEndsSessions(t *testing.T, pg bool) {
	c := newCLI(t)
	c.env["USER"] = "operator"
	kek := make([]byte, 32)
	rand.Read(kek)
	c.env["KEK"] = base64.StdEncoding.EncodeToString(kek)
	addr := freeAddr(t)
	base := "http://" + addr
	conf := fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\nkeys:\n  encryption_key_env: KEK\n", addr, base)
	if pg {
		c.env["DBURL"] = pgtest.Schema(t)
		conf += "database:\n  url_env: DBURL\n"
	}
	path := writeRawConfig(t, conf)
	const oldPassword, newPassword = "bob-old-password", "bob-new-password"
	for _, u := range []string{"bob", "carol"} {
		if out, stderr, code := c.run(oldPassword+"\n", "user", "add", u, "--password-stdin", "--config", path); code != 0 {
			t.Fatalf("user add %s: %d %s %s", u, code, out, stderr)
		}
	}

	serveOnce(t, c, path, func(base, _ string) {
		laptop, phone, carol := newWebClient(t, base), newWebClient(t, base), newWebClient(t, base)
		laptop.signIn("bob", oldPassword)
		phone.signIn("bob", oldPassword)
		carol.signIn("carol", oldPassword)
		for _, w := range []*webClient{laptop, phone, carol} {
			if code, body, _ := w.form("GET", "/", nil); code != http.StatusOK {
				t.Fatalf("portal before the change = %d:\n%s", code, body)
			}
		}

		out, stderr, code := c.run(newPassword+"\n", "user", "passwd", "bob", "--password-stdin", "--config", path)
		if code != 0 {
			t.Fatalf("user passwd = %d:\n%s%s", code, out, stderr)
		}
		if !strings.Contains(out, "ended 2 browser sessions") {
			t.Errorf("user passwd does not say it ended bob's 2 sessions:\n%s", out)
		}
		for name, w := range map[string]*webClient{"laptop": laptop, "phone": phone} {
			if code, _, loc := w.form("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Errorf("bob's old %s cookie after user passwd: GET / = %d %q, want a redirect to the login form", name, code, loc)
			}
		}
		if code, _, _ := carol.form("GET", "/", nil); code != http.StatusOK {
			t.Errorf("carol's session after bob's password change = %d, want 200", code)
		}
		fresh := newWebClient(t, base)
		fresh.signIn("bob", newPassword)
		if code, _, _ := fresh.form("GET", "/", nil); code != http.StatusOK {
			t.Errorf("a sign-in with the new password: GET / = %d", code)
		}
	})

	out, stderr, code := c.run("", "audit", "lookup", "--since", "-1h", "--event", string(audit.AdminUserPasswordChanged), "--json", "--config", path)
	var page struct{ Events []audit.Record }
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Events) != 1 {
		t.Fatalf("audit lookup = %d, %v:\n%s%s", code, err, out, stderr)
	}
	var ch audit.AdminChange
	if err := json.Unmarshal(page.Events[0].RequestParameters, &ch); err != nil || ch.Target != "bob" || ch.Details["browserSessionsRevoked"] != "2" {
		t.Fatalf("the record of the change = %s (%v), want target bob and browserSessionsRevoked 2", page.Events[0].RequestParameters, err)
	}
}
