package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAdminConsolePeopleServed: through the served console, an admin adds
// a person, edits their groups, ends their browser sessions and disables
// them; each change is in the audit trail (written in the change's own
// transaction by the server's writer) with the admin as the actor, and
// the person's session stops working.
func TestAdminConsolePeopleServed(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	addUsers(t, c, path, "correct-horse-battery", []string{"root", "--group", "idpbridge-admins"})
	serveMain(t, c, path, func(m *Main, base string) {
		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")
		_, page, _ := admin.form("GET", "/admin/people", nil)
		tok := csrfField.FindStringSubmatch(page)
		if tok == nil {
			t.Fatalf("no form on the People page:\n%s", page)
		}
		post := func(p string, f url.Values) string {
			t.Helper()
			f.Set("csrf_token", tok[1])
			status, body, loc := admin.form("POST", p, f)
			if status != http.StatusSeeOther {
				t.Fatalf("POST %s = %d:\n%s", p, status, body)
			}
			return loc
		}
		post("/admin/people", url.Values{"username": {"diego"}, "password": {"diego-password-1"}, "password2": {"diego-password-1"},
			"groups": {"AWS-Dev"}, "attributes": {"mail=diego.ramirez@example.com"}})
		diego := newWebClient(t, base)
		diego.signIn("diego", "diego-password-1")
		post("/admin/people/diego", url.Values{"groups": {"AWS-Dev\nops"}, "attributes": {"mail=diego.ramirez@example.com"}})
		loc := post("/admin/sessions/revoke-all", url.Values{"person": {"diego"}})
		if !strings.Contains(loc, "Ended+1+browser+session") {
			t.Errorf("revoke-all notice: %s", loc)
		}
		if status, _, _ := diego.form("GET", "/", nil); status != http.StatusSeeOther {
			t.Errorf("diego's revoked session still opens the portal: %d", status)
		}
		post("/admin/people/diego/disable", url.Values{})
		_, page, _ = admin.form("GET", "/admin/people/diego", nil)
		if !strings.Contains(page, "disabled") || !strings.Contains(page, "AWS-Dev\nops") {
			t.Errorf("diego's page:\n%s", page)
		}
		_, home, _ := admin.form("GET", "/admin/", nil)
		if !strings.Contains(home, `<span class="admin-stat-value">2</span> <span class="admin-stat-label">Local people</span>`) {
			t.Errorf("the home page does not count 2 local people:\n%s", home)
		}
	})
	out, stderr, code := c.run("", "audit", "lookup", "--principal", "local:root", "--json", "--config", path)
	if code != 0 {
		t.Fatalf("audit lookup: %s", stderr)
	}
	var res struct {
		Events []struct {
			EventName         string          `json:"eventName"`
			RequestParameters json.RawMessage `json:"requestParameters"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var names []string
	for _, e := range res.Events {
		if strings.HasPrefix(e.EventName, "Admin") {
			names = append(names, e.EventName)
		}
		if strings.Contains(string(e.RequestParameters), "diego-password-1") || strings.Contains(string(e.RequestParameters), "argon2") {
			t.Errorf("a password reached the trail: %s", e.RequestParameters)
		}
	}
	if got := strings.Join(names, ","); got != "AdminUserDisabled,AdminSessionsRevoked,AdminUserUpdated,AdminUserAdded" {
		t.Errorf("the trail's admin events by root, newest first: %s\n%s", got, out)
	}
}
