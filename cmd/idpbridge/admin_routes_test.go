package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAdminConsoleRouteTable walks every console route mounted under
// /admin/ outside the JSON API (the server's own table, so that a new page
// cannot skip a check): a GET sends an anonymous browser to the login page
// and gives a signed-in non-administrator the 403 page; a POST (or any
// other method) is refused to both, and to an administrator without the
// form's CSRF token or from another origin. An administrator gets past the
// guard.
func TestAdminConsoleRouteTable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	addUsers(t, c, path, "correct-horse-battery", []string{"alice"}, []string{"root", "--group", "idpbridge-admins"})
	serveMain(t, c, path, func(m *Main, base string) {
		var routes []string
		for _, r := range m.server.Routes() {
			_, p, ok := strings.Cut(r, " ")
			if !ok {
				p = r
			}
			if (p == "/admin" || strings.HasPrefix(p, "/admin/")) && !strings.HasPrefix(p, "/admin/api/") {
				routes = append(routes, r)
			}
		}
		for _, want := range []string{"GET /admin/{$}", "GET /admin", "/admin/"} {
			if !slices.Contains(routes, want) {
				t.Errorf("the console's routes %v lack %s", routes, want)
			}
		}
		anon := newWebClient(t, base)
		alice := newWebClient(t, base)
		alice.signIn("alice", "correct-horse-battery")
		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")
		_, home, _ := admin.form("GET", "/admin/", nil)
		tok := csrfField.FindStringSubmatch(home)
		if tok == nil {
			t.Fatalf("the console's home page has no form token:\n%s", home)
		}

		for _, route := range routes {
			method, p, ok := strings.Cut(route, " ")
			if !ok {
				// A catch-all takes every method: check it as a page and
				// as a form.
				p = route + "no-such-page"
			}
			p = pathWildcard.ReplaceAllString(strings.ReplaceAll(p, "{$}", ""), "x")
			var methods []string
			if ok {
				methods = []string{method}
			} else {
				methods = []string{http.MethodGet, http.MethodPost}
			}
			for _, method := range methods {
				t.Run(method+" "+p, func(t *testing.T) {
					if method == http.MethodGet || method == http.MethodHead {
						status, body, loc := anon.form(method, p, nil)
						if status != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape(p) {
							t.Errorf("anonymous: %d Location %q; want 303 to the login page\n%s", status, loc, body)
						}
						status, body, _ = alice.form(method, p, nil)
						if status != http.StatusForbidden || !strings.Contains(body, "Only administrators may do this.") {
							t.Errorf("non-admin: %d; want the 403 page\n%s", status, body)
						}
						if status, body, _ := admin.form(method, p, nil); status == http.StatusUnauthorized || status == http.StatusForbidden {
							t.Errorf("admin: %d; want past the guard\n%s", status, body)
						}
						return
					}
					form := url.Values{"csrf_token": {tok[1]}}
					if status, body, _ := anon.form(method, p, form); status != http.StatusUnauthorized {
						t.Errorf("anonymous: %d; want 401\n%s", status, body)
					}
					if status, body, _ := alice.form(method, p, form); status != http.StatusForbidden {
						t.Errorf("non-admin: %d; want 403\n%s", status, body)
					}
					if status, body, _ := admin.form(method, p, url.Values{}); !ok && status == http.StatusNotFound {
						// The catch-all changes nothing: it only says there
						// is no such page.
					} else if status != http.StatusForbidden || !strings.Contains(body, "This form has expired or was sent from another site.") {
						t.Errorf("admin without the CSRF token: %d; want 403\n%s", status, body)
					}
					if status, body := admin.do(method, p, "application/x-www-form-urlencoded", "https://evil.example", form.Encode()); status != http.StatusForbidden {
						t.Errorf("admin from another origin: %d; want 403\n%s", status, body)
					}
				})
			}
		}
	})
}
