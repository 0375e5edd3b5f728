package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	formAction    = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	hiddenField   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	roleRadio     = regexp.MustCompile(`<input type="radio" name="role" value="([^"]*)"`)
	nextField     = regexp.MustCompile(`name="next" value="([^"]+)"`)
	sessionSource = regexp.MustCompile(`<dt>Source identity</dt><dd><code>([^<]*)</code></dd>`)
)

// pathOf turns an absolute URL on w's base into a path.
func (w *webClient) pathOf(u string) string {
	u = html.UnescapeString(u)
	return strings.TrimPrefix(u, w.base)
}

// pickRole posts a role chooser page (idpbridge's or the STS sign-in's)
// with the role whose value contains role ("" takes the first), and
// returns the status, body and Location.
func (w *webClient) pickRole(body, role string) (int, string, string) {
	w.t.Helper()
	a := formAction.FindStringSubmatch(body)
	if a == nil {
		w.t.Fatalf("no form on the role chooser:\n%s", body)
	}
	form := hiddenFields(body)
	chosen := ""
	for _, m := range roleRadio.FindAllStringSubmatch(body, -1) {
		if v := html.UnescapeString(m[1]); chosen == "" && strings.Contains(v, role) {
			chosen = v
		}
	}
	if chosen == "" {
		w.t.Fatalf("no role %q on the chooser:\n%s", role, body)
	}
	form.Set("role", chosen)
	return w.form("POST", w.pathOf(a[1]), form)
}

// openApp opens the portal application sp as user, signing in on the way
// when needed and choosing role on idpbridge's role chooser, and returns
// the action and the SAMLResponse of the auto-POST form.
func (w *webClient) openApp(sp, user, password, role string) (action, samlResponse string) {
	w.t.Helper()
	code, body, loc := w.form("GET", "/saml/idp-initiated?sp="+url.QueryEscape(sp), nil)
	if code == http.StatusFound && strings.HasPrefix(loc, "/login?") {
		code, body, _ = w.form("GET", loc, nil)
		tok, next := csrfField.FindStringSubmatch(body), nextField.FindStringSubmatch(body)
		if code != 200 || tok == nil || next == nil {
			w.t.Fatalf("login form = %d:\n%s", code, body)
		}
		code, body, loc = w.form("POST", "/login", url.Values{"csrf_token": {tok[1]}, "username": {user},
			"password": {password}, "next": {html.UnescapeString(next[1])}})
		if code != http.StatusSeeOther {
			w.t.Fatalf("POST /login as %s = %d:\n%s", user, code, body)
		}
		code, body, _ = w.form("GET", loc, nil)
	}
	if a := formAction.FindStringSubmatch(body); code == 200 && a != nil && a[1] == "/saml/idp-initiated" {
		// An app that issues credentials asks to confirm a GET: press
		// its button, as the person would.
		code, body, _ = w.form("POST", a[1], hiddenFields(body))
	}
	if code == 200 && roleRadio.MatchString(body) {
		code, body, _ = w.pickRole(body, role)
	}
	a, m := formAction.FindStringSubmatch(body), samlResponseField.FindStringSubmatch(body)
	if code != 200 || a == nil || m == nil {
		w.t.Fatalf("opening %s as %s = %d, no auto-POST form:\n%s", sp, user, code, body)
	}
	return html.UnescapeString(a[1]), html.UnescapeString(m[1])
}

// stsSignIn posts samlResponse to the built-in STS sign-in endpoint as
// the auto-POST form does, choosing role on its chooser if it shows one,
// and returns the status and the page.
func (w *webClient) stsSignIn(action, samlResponse, role string) (int, string) {
	w.t.Helper()
	code, body, _ := w.form("POST", w.pathOf(action), url.Values{"SAMLResponse": {samlResponse}})
	if code == 200 && strings.Contains(body, `name="choice_token"`) {
		code, body, _ = w.pickRole(body, role)
	}
	return code, html.UnescapeString(body)
}

// hiddenFields are the hidden inputs of the form on a page.
func hiddenFields(body string) url.Values {
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return form
}
