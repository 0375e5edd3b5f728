package sso

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"idpbridge/idp"
)

// ReauthURL and MAC complete fakeSessions as a Sessions.

func (f *fakeSessions) ReauthURL(next string) string {
	return "/login?reauth=1&next=" + url.QueryEscape(next)
}

func (f *fakeSessions) MAC(parts ...string) []byte {
	h := hmac.New(sha256.New, []byte("fake sessions mac key"))
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// signInAt creates a new session for id that signed in at authn, as a
// sign-in on the login page does, and returns its cookie.
func (f *fakeSessions) signInAt(id idp.Identity, authn time.Time) *http.Cookie {
	f.mu.Lock()
	defer f.mu.Unlock()
	sid := "sid-" + id.Username + "-" + strconv.FormatInt(authn.UnixNano(), 10)
	f.sessions[sid] = idp.Session{ID: "session-" + sid, Identity: id, AuthnInstant: authn, ExpiresAt: authn.Add(8 * time.Hour)}
	return &http.Cookie{Name: cookieName, Value: sid}
}

// authnRequest is a request of the test SP with ForceAuthn and IsPassive
// set as given, signed for binding.
func authnRequest(t *testing.T, env *testEnv, binding string, force, passive bool) *saml.AuthnRequest {
	t.Helper()
	req, err := env.sp.MakeAuthenticationRequest(testBase+SSOPath, binding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if force {
		req.ForceAuthn = &force
	}
	if passive {
		req.IsPassive = &passive
	}
	if binding == saml.HTTPPostBinding {
		req.Signature = nil
		if err := env.sp.SignAuthnRequest(req); err != nil {
			t.Fatal(err)
		}
	}
	return req
}

// startSSO sends req with binding the way a browser carries it from the
// SP and returns the first answer that is not the IdP's POST-to-GET
// continuation. The SP's cross-site POST carries no cookie; the
// continuation does.
func startSSO(t *testing.T, env *testEnv, req *saml.AuthnRequest, binding, relay string, cookie *http.Cookie) (string, *httpResult) {
	t.Helper()
	if binding == saml.HTTPRedirectBinding {
		u, err := req.Redirect(relay, env.sp.ServiceProvider)
		if err != nil {
			t.Fatal(err)
		}
		w := env.do("GET", u.RequestURI(), nil, cookie)
		return u.RequestURI(), &httpResult{w.Code, w.Header(), w.Body.String()}
	}
	w := env.do("POST", SSOPath, postRequest(t, req, relay), nil)
	if w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), SSOPath+"?") {
		t.Fatalf("POST binding: %d %q, want 303 to %s", w.Code, w.Header().Get("Location"), SSOPath)
	}
	next := w.Header().Get("Location")
	w = env.do("GET", next, nil, cookie)
	return next, &httpResult{w.Code, w.Header(), w.Body.String()}
}

type httpResult struct {
	code   int
	header http.Header
	body   string
}

// reauthNext checks that res sends the browser to the login page for
// entering the password again, and returns where it continues.
func reauthNext(t *testing.T, res *httpResult) string {
	t.Helper()
	if res.code != http.StatusFound {
		t.Fatalf("status %d, want 302 to the login page:\n%s", res.code, res.body)
	}
	noAssertion(t, res.body)
	loc, err := url.Parse(res.header.Get("Location"))
	if err != nil || loc.Path != "/login" || loc.Query().Get("reauth") != "1" {
		t.Fatalf("redirected to %q, want /login?reauth=1", res.header.Get("Location"))
	}
	next := loc.Query().Get("next")
	if !strings.HasPrefix(next, SSOPath+"?") || !strings.Contains(next, reauthParam+"=") {
		t.Fatalf("continues at %q, want the request with its proof", next)
	}
	return next
}

// responseStatus reads the Status of a Response from the IdP (in the tests,
// its own signed output).
func responseStatus(t *testing.T, raw []byte) (top, second, inResponseTo string, assertions int) {
	t.Helper()
	var r saml.Response
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response: %v\n%s", err, raw)
	}
	top = r.Status.StatusCode.Value
	if r.Status.StatusCode.StatusCode != nil {
		second = r.Status.StatusCode.StatusCode.Value
	}
	n := 0
	if r.Assertion != nil {
		n++
	}
	if r.EncryptedAssertion != nil {
		n++
	}
	return top, second, r.InResponseTo, n
}

func issued(env *testEnv) int {
	n := 0
	for _, r := range env.events.records() {
		if r.EventName == "IssueAssertion" {
			n++
		}
	}
	return n
}

// TestForceAuthn: a ForceAuthn request with a live session sends the person
// to enter the password again, and the assertion made after that carries
// the new sign-in's AuthnInstant. The old session, a forged or a borrowed
// proof get the login page again, never an assertion.
func TestForceAuthn(t *testing.T) {
	t.Parallel()
	for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		t.Run(binding[strings.LastIndexByte(binding, ':')+1:], func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, nil)
			old := env.sessions.signIn(alice)
			oldAuthn := testNow.Add(-10 * time.Minute)

			req := authnRequest(t, env, binding, true, false)
			_, res := startSSO(t, env, req, binding, "force-state", old)
			next := reauthNext(t, res)
			if issued(env) != 0 {
				t.Fatal("an assertion was recorded before the password was asked again")
			}

			// Coming back without signing in again: asked again.
			w := env.do("GET", next, nil, old)
			reauthNext(t, &httpResult{w.Code, w.Header(), w.Body.String()})

			// A forged proof (an earlier time, the MAC of another) and
			// a proof made for another request are refused.
			q, _ := url.ParseQuery(strings.SplitN(next, "?", 2)[1])
			asked, mac, _ := strings.Cut(q.Get(reauthParam), ".")
			ms, _ := strconv.ParseInt(asked, 10, 64)
			forged := strings.Replace(next, url.QueryEscape(q.Get(reauthParam)), url.QueryEscape(strconv.FormatInt(ms-3600_000, 10)+"."+mac), 1)
			if forged == next {
				t.Fatal("could not forge the proof")
			}
			w = env.do("GET", forged, nil, old)
			reauthNext(t, &httpResult{w.Code, w.Header(), w.Body.String()})
			other := authnRequest(t, env, saml.HTTPRedirectBinding, true, false)
			ou, _ := other.Redirect("", env.sp.ServiceProvider)
			w = env.do("GET", ou.RequestURI()+"&"+reauthParam+"="+url.QueryEscape(q.Get(reauthParam)), nil, env.sessions.signInAt(alice, testNow))
			if w.Code != http.StatusFound {
				t.Fatalf("a proof of another request: status %d, want the login page", w.Code)
			}
			if issued(env) != 0 {
				t.Fatal("an assertion was recorded without a new sign-in")
			}

			// Signed in again (the login page makes a new session).
			fresh := env.sessions.signInAt(alice, testNow)
			w = env.do("GET", next, nil, fresh)
			if w.Code != http.StatusOK {
				t.Fatalf("after signing in again: status %d:\n%s", w.Code, w.Body)
			}
			form := parsePostForm(t, w.Body.String())
			if form.Action != spACS || form.RelayState != "force-state" {
				t.Fatalf("form to %q relay %q", form.Action, form.RelayState)
			}
			a := verifyCrewjam(t, env, spEntityID, spACS, form.SAMLResponse, []string{req.ID})
			got := a.AuthnStatements[0].AuthnInstant
			if !got.Equal(testNow) || !got.After(oldAuthn) {
				t.Fatalf("AuthnInstant %s, want the new sign-in's %s (the old one was %s)", got, testNow, oldAuthn)
			}
			if issued(env) != 1 {
				t.Fatalf("%d IssueAssertion records, want 1", issued(env))
			}
		})
	}
}

// TestForceAuthnNotSignedIn: without a session ForceAuthn is one sign-in;
// the session it makes answers the request without asking twice, and a
// session from before the request does not.
func TestForceAuthnNotSignedIn(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	req := authnRequest(t, env, saml.HTTPRedirectBinding, true, false)
	start, res := startSSO(t, env, req, saml.HTTPRedirectBinding, "", nil)
	loc, _ := url.Parse(res.header.Get("Location"))
	next := loc.Query().Get("next")
	if res.code != http.StatusFound || loc.Path != "/login" || loc.Query().Has("reauth") ||
		!strings.HasPrefix(next, start+"&"+reauthParam+"=") {
		t.Fatalf("%d %q, want the login page continuing at the request with its proof", res.code, res.header.Get("Location"))
	}
	w := env.do("GET", next, nil, env.sessions.signIn(alice))
	reauthNext(t, &httpResult{w.Code, w.Header(), w.Body.String()})
	w = env.do("GET", next, nil, env.sessions.signInAt(alice, testNow))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", w.Code, w.Body)
	}
	verifyCrewjam(t, env, spEntityID, spACS, parsePostForm(t, w.Body.String()).SAMLResponse, []string{req.ID})
}

// TestIsPassive: a passive request that would need a page (no session, a
// new password for ForceAuthn, the role chooser) gets a Response with the
// status Responder/NoPassive at the SP's ACS, and no page of ours; with a
// usable session it gets the assertion.
func TestIsPassive(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		force   bool
		session bool
		single  bool // "app" takes one role: alice has two
		want    string
	}{
		{name: "no session", want: saml.StatusNoPassive},
		{name: "session", session: true, want: saml.StatusSuccess},
		{name: "session ForceAuthn", force: true, session: true, want: saml.StatusNoPassive},
		{name: "no session ForceAuthn", force: true, want: saml.StatusNoPassive},
		{name: "session role chooser", session: true, single: true, want: saml.StatusNoPassive},
	}
	for _, tc := range tests {
		for _, binding := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
			t.Run(tc.name+"/"+binding[strings.LastIndexByte(binding, ':')+1:], func(t *testing.T) {
				t.Parallel()
				env := newTestEnv(t, func(o *Options) {
					if tc.single {
						yes := true
						o.ServiceProviders[1].SingleRole = &yes
					}
				})
				var cookie *http.Cookie
				if tc.session {
					cookie = env.sessions.signIn(alice)
				}
				req := authnRequest(t, env, binding, tc.force, true)
				_, res := startSSO(t, env, req, binding, "passive-state", cookie)
				if res.code != http.StatusOK || res.header.Get("Location") != "" {
					t.Fatalf("status %d to %q, want the response to the SP:\n%s", res.code, res.header.Get("Location"), res.body)
				}
				for _, page := range []string{`name="password"`, `name="role"`, "/login"} {
					if strings.Contains(res.body, page) {
						t.Fatalf("a passive request was shown a page (%s):\n%s", page, res.body)
					}
				}
				form := parsePostForm(t, res.body)
				if form.Action != spACS || form.RelayState != "passive-state" {
					t.Fatalf("form to %q relay %q", form.Action, form.RelayState)
				}
				top, second, inResponseTo, n := responseStatus(t, form.SAMLResponse)
				if inResponseTo != req.ID {
					t.Errorf("InResponseTo %q, want %q", inResponseTo, req.ID)
				}
				if tc.want == saml.StatusSuccess {
					if top != saml.StatusSuccess || n != 1 {
						t.Fatalf("status %s/%s with %d assertions, want success", top, second, n)
					}
					verifyCrewjam(t, env, spEntityID, spACS, form.SAMLResponse, []string{req.ID})
					return
				}
				if top != saml.StatusResponder || second != saml.StatusNoPassive || n != 0 {
					t.Fatalf("status %s/%s with %d assertions, want %s/%s and none", top, second, n, saml.StatusResponder, saml.StatusNoPassive)
				}
				if issued(env) != 0 {
					t.Fatal("an IssueAssertion record for a NoPassive answer")
				}
			})
		}
	}
}

func TestWithoutParam(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                               "",
		"reauth=1":                       "",
		"SAMLRequest=a%2Bb&reauth=x&x=1": "SAMLRequest=a%2Bb&x=1",
		"re%61uth=1&RelayState=%20":      "RelayState=%20",
		"a=1&&reauth&b=2":                "a=1&b=2",
	} {
		if got := withoutParam(in, reauthParam); got != want {
			t.Errorf("withoutParam(%q) = %q, want %q", in, got, want)
		}
	}
}
