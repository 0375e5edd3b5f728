package sso

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"idpbridge/idp"
)

// carol has one AWS role under aws-map, so no chooser stands between
// opening an app and its assertion.
var carol = idp.Identity{Username: "carol", Email: "carol@example.com", Groups: []string{"AWS-123456789012-Admin"}, Connector: "local"}

// TestIdPInitiatedCredentialAppNeedsPost: a GET of the IdP-initiated URL
// of an app whose sign-in issues credentials (builtin) only asks to
// confirm, with a form that POSTs the request and the CSRF token; nothing
// is issued or recorded. The POST with the token issues; without it, it is
// refused. The aws preset still issues on a GET (console bookmarks).
func TestIdPInitiatedCredentialAppNeedsPost(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	cookie := env.sessions.signIn(carol)
	relay := "https://idp.test/after"

	w := env.do("GET", IdPInitiatedPath+"?sp=sts&RelayState="+url.QueryEscape(relay), nil, cookie)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("GET: status %d:\n%s", w.Code, body)
	}
	noAssertion(t, body)
	for _, want := range []string{"Open idpbridge STS?", "This will issue AWS credentials", `<form method="post" action="/saml/idp-initiated">`,
		`name="csrf_token" value="csrf-ok"`, `name="sp" value="sts"`, `name="RelayState" value="https://idp.test/after"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the confirm page lacks %s:\n%s", want, body)
		}
	}
	if n := issued(env); n != 0 {
		t.Fatalf("a GET wrote %d IssueAssertion records", n)
	}

	// The confirm page's form, without and with its token.
	for name, form := range map[string]url.Values{
		"no csrf token":    {"sp": {"sts"}, "RelayState": {relay}},
		"wrong csrf token": {"sp": {"sts"}, "RelayState": {relay}, "csrf_token": {"forged"}},
	} {
		w := env.do("POST", IdPInitiatedPath, form, cookie)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, w.Code)
		}
		noAssertion(t, w.Body.String())
	}
	if n := issued(env); n != 0 {
		t.Fatalf("refused POSTs wrote %d IssueAssertion records", n)
	}
	w = env.do("POST", IdPInitiatedPath, url.Values{"sp": {"sts"}, "RelayState": {relay}, "csrf_token": {csrfOK}}, cookie)
	if w.Code != http.StatusOK {
		t.Fatalf("POST: status %d:\n%s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.Action != testBase+BuiltinPath || form.RelayState != relay {
		t.Fatalf("form to %q relay %q", form.Action, form.RelayState)
	}
	verifyCrewjam(t, env, testBase+BuiltinPath, testBase+BuiltinPath, form.SAMLResponse, nil)
	if n := issued(env); n != 1 {
		t.Fatalf("%d IssueAssertion records after the POST, want 1", n)
	}

	// aws keeps the GET.
	w = env.do("GET", IdPInitiatedPath+"?sp=aws", nil, cookie)
	verifyCrewjam(t, env, AWSEntityID, AWSACSURL, parsePostForm(t, w.Body.String()).SAMLResponse, nil)
	if n := issued(env); n != 2 {
		t.Fatalf("%d IssueAssertion records after the aws GET, want 2", n)
	}
}

// TestIdPInitiatedCredentialAppChooser: with several roles the GET shows
// the role chooser, itself a POST form with the CSRF token, saying that
// credentials follow; nothing is issued.
func TestIdPInitiatedCredentialAppChooser(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", IdPInitiatedPath+"?sp=sts", nil, env.sessions.signIn(alice))
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, `name="role"`) || !strings.Contains(body, "will issue AWS credentials") ||
		!strings.Contains(body, `name="csrf_token" value="csrf-ok"`) {
		t.Fatalf("GET: status %d, want the chooser:\n%s", w.Code, body)
	}
	noAssertion(t, body)
	if n := issued(env); n != 0 {
		t.Fatalf("a GET wrote %d IssueAssertion records", n)
	}
}

// TestIdPInitiatedCredentialAppNotSignedIn: a GET without a session goes
// to the login page and comes back to the confirm page, not to an
// assertion.
func TestIdPInitiatedCredentialAppNotSignedIn(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	w := env.do("GET", IdPInitiatedPath+"?sp=sts", nil, nil)
	loc, _ := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || loc.Path != "/login" {
		t.Fatalf("status %d to %q, want the login page", w.Code, loc)
	}
	w = env.do("GET", loc.Query().Get("next"), nil, env.sessions.signIn(carol))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Open idpbridge STS?") {
		t.Fatalf("after signing in: status %d, want the confirm page:\n%s", w.Code, w.Body)
	}
	noAssertion(t, w.Body.String())
}

// TestAppsPost: the portal opens apps that issue credentials with a POST:
// the builtin preset, and any provider whose entity ID or ACS URL is the
// built-in STS sign-in.
func TestAppsPost(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) {
		o.ServiceProviders = append(o.ServiceProviders, ServiceProviderConfig{Name: "own", Mapping: "one-role", EntityID: "https://own.test", ACSURL: testBase + BuiltinPath})
	})
	post := map[string]bool{}
	for _, a := range env.idp.Apps(alice) {
		post[a.Name] = a.Post
		if a.URL != IdPInitiatedPath+"?sp="+a.Name {
			t.Errorf("%s: URL %q", a.Name, a.URL)
		}
	}
	want := map[string]bool{"aws": false, "app": false, "sts": true, "one": false, "strict": false, "own": true}
	for name, w := range want {
		if got, ok := post[name]; !ok || got != w {
			t.Errorf("%s: Post = %v (listed %v), want %v", name, got, ok, w)
		}
	}

	// "own" asks to confirm too.
	w := env.do("GET", IdPInitiatedPath+"?sp=own", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "This will issue AWS credentials") {
		t.Fatalf("GET own: status %d:\n%s", w.Code, w.Body)
	}
	noAssertion(t, w.Body.String())
}

// TestIdPInitiatedCredentialAppFromMetadata: a provider whose metadata
// (not its configuration) names the built-in STS sign-in as its ACS also
// asks to confirm on a GET.
func TestIdPInitiatedCredentialAppFromMetadata(t *testing.T) {
	t.Parallel()
	sts := newTestSP(t)
	sts.EntityID = "https://sts-by-metadata.test"
	u, _ := url.Parse(testBase + BuiltinPath)
	sts.AcsURL = *u
	meta := sts.metadataXML(t)
	env := newTestEnv(t, func(o *Options) {
		o.ServiceProviders = append(o.ServiceProviders, ServiceProviderConfig{Name: "meta", Mapping: "one-role", MetadataFile: "/etc/idpbridge/meta.xml"})
		read := o.ReadFile
		o.ReadFile = func(name string) ([]byte, error) {
			if name == "/etc/idpbridge/meta.xml" {
				return meta, nil
			}
			return read(name)
		}
	})
	cookie := env.sessions.signIn(alice)
	w := env.do("GET", IdPInitiatedPath+"?sp=meta", nil, cookie)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "This will issue AWS credentials") {
		t.Fatalf("GET: status %d, want the confirm page:\n%s", w.Code, w.Body)
	}
	noAssertion(t, w.Body.String())
	w = env.do("POST", IdPInitiatedPath, url.Values{"sp": {"meta"}, "csrf_token": {csrfOK}}, cookie)
	if form := parsePostForm(t, w.Body.String()); form.Action != testBase+BuiltinPath || issued(env) != 1 {
		t.Fatalf("POST: form to %q, %d records", form.Action, issued(env))
	}
}
