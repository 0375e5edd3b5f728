package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector"
	"idpbridge/idp/ui"
	"idpbridge/templates"
)

// fakeDirectory is an in-test password connector: passwords by name.
type fakeDirectory struct {
	mu     sync.Mutex
	users  map[string]string
	err    error // when set, every call fails with it
	names  []string
	health error
	checks int // calls of Check
}

func (f *fakeDirectory) Login(_ context.Context, username, password string) (idp.Identity, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.names = append(f.names, username)
	if f.err != nil {
		return idp.Identity{}, false, f.err
	}
	if pw, ok := f.users[username]; !ok || pw != password {
		return idp.Identity{}, false, nil
	}
	// The connector names itself by its type: the IdP namespaces by name.
	return idp.Identity{Username: username, Groups: []string{"staff"}, Connector: "ldap"}, true, nil
}

func (f *fakeDirectory) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return f.health
}

func (f *fakeDirectory) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

// asked returns the names the directory was asked about.
func (f *fakeDirectory) asked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.names...)
}

// fakeProvider is an in-test redirect connector. Its sign-in page is
// https://provider.test/authorize; the callback names the person in
// "user", or carries an OAuth error.
type fakeProvider struct {
	mu      sync.Mutex
	calls   int
	got     []connector.Challenge
	err     error
	health  error
	started []connector.Challenge
}

func (f *fakeProvider) LoginURL(_ context.Context, ch connector.Challenge) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, ch)
	return "https://provider.test/authorize?state=" + url.QueryEscape(ch.State) + "&nonce=" + url.QueryEscape(ch.Nonce), nil
}

func (f *fakeProvider) HandleCallback(_ context.Context, ch connector.Challenge, q url.Values) (idp.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.got = append(f.got, ch)
	if f.err != nil {
		return idp.Identity{}, f.err
	}
	if e := q.Get("error"); e != "" {
		return idp.Identity{}, &connector.ProviderError{Code: e, Description: q.Get("error_description")}
	}
	return idp.Identity{Username: q.Get("user"), Email: q.Get("user") + "@example.org"}, nil
}

func (f *fakeProvider) Check(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health
}

func (f *fakeProvider) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeProvider) challenges() []connector.Challenge {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]connector.Challenge(nil), f.got...)
}

func (f *fakeProvider) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeProvider) lastStarted() connector.Challenge {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started[len(f.started)-1]
}

// withConnectors puts the local connector first and extra after it.
func withConnectors(extra ...NamedConnector) testOption {
	return func(_ *testing.T, o *IdPOptions) {
		o.Connectors = append([]NamedConnector{{Name: "local", DisplayName: "Local accounts", Password: o.Connector}}, extra...)
		o.Connector = nil
	}
}

// corpIdP serves local accounts, corp-ad (routed by @corp.example,
// stripped), partner (routed by @partner.example, kept) and the redirect
// connector okta.
func corpIdP(t *testing.T, opts ...testOption) (*testIdP, *fakeDirectory, *fakeDirectory, *fakeProvider) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts = append(opts, func(_ *testing.T, o *IdPOptions) { o.Registry = reg })
	s := sqliteStore(t)
	seedUsers(t, s)
	ad := &fakeDirectory{users: map[string]string{"diego": "diego-pw", "bob": "bob-pw", "alice": "ad-alice-pw"}}
	partner := &fakeDirectory{users: map[string]string{"eve@partner.example": "eve-pw"}}
	okta := &fakeProvider{}
	opts = append([]testOption{withConnectors(
		NamedConnector{Name: "corp-ad", DisplayName: "Corp directory", Password: ad, RouteSuffixes: []string{"@corp.example"}, StripSuffix: true},
		NamedConnector{Name: "partner", Password: partner, RouteSuffixes: []string{"@Partner.Example"}},
		NamedConnector{Name: "okta", DisplayName: "Okta", Redirect: okta},
	)}, opts...)
	ti := newTestIdP(t, s, false, opts...)
	registries.Store(ti, reg)
	return ti, ad, partner, okta
}

// registries holds the metrics registry of each corpIdP.
var registries sync.Map

// loginWith submits the login form with the picker set to conn ("" sends
// no picker value).
func (b *browser) loginWith(conn, username, password string) response {
	b.t.Helper()
	form := url.Values{"csrf_token": {b.csrf("/login")}, "username": {username}, "password": {password}}
	if conn != "" {
		form.Set("connector", conn)
	}
	return b.post("/login", form, nil)
}

func signInRecords(ti *testIdP) []audit.Record {
	var out []audit.Record
	for _, r := range ti.events.records() {
		if r.EventName == audit.EventSignIn {
			out = append(out, r)
		}
	}
	return out
}

func signInParams(t *testing.T, r audit.Record) audit.SignInParams {
	t.Helper()
	var p audit.SignInParams
	if err := json.Unmarshal(r.RequestParameters, &p); err != nil {
		t.Fatalf("SignIn requestParameters %s: %v", r.RequestParameters, err)
	}
	return p
}

func TestLoginPageOffersConnectors(t *testing.T) {
	t.Parallel()
	ti, _, _, _ := corpIdP(t)
	res := ti.browser().get("/login?next=%2Fapps%2Faws")
	if res.code != http.StatusOK {
		t.Fatalf("GET /login = %d", res.code)
	}
	for _, want := range []string{
		`<select id="connector" name="connector">`,
		`<option value="local">Local accounts</option>`,
		`<option value="corp-ad">Corp directory</option>`,
		`<option value="partner">partner</option>`,
		`action="/login/oidc/okta"`,
		`Sign in with Okta</button>`,
		`name="password"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("login page lacks %s:\n%s", want, res.body)
		}
	}
	if strings.Contains(res.body, `<option value="okta"`) {
		t.Error("the picker offers the redirect connector")
	}
	// The redirect button keeps next.
	if n := strings.Count(res.body, `name="next" value="/apps/aws"`); n != 2 {
		t.Errorf("next is on %d forms, want the password form and the button", n)
	}
}

func TestLoginPageDefaultHasNoPicker(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)
	res := ti.browser().get("/login")
	if strings.Contains(res.body, "<select") || strings.Contains(res.body, "Sign in with") || !strings.Contains(res.body, `name="password"`) {
		t.Errorf("the single local connector's page changed:\n%s", res.body)
	}
}

func TestLoginPageRedirectOnly(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	ti := newTestIdP(t, s, false, func(_ *testing.T, o *IdPOptions) {
		o.Connector, o.Connectors = nil, []NamedConnector{{Name: "okta", DisplayName: "Okta", Redirect: &fakeProvider{}}}
	})
	res := ti.browser().get("/login")
	if strings.Contains(res.body, `name="password"`) || !strings.Contains(res.body, "Sign in with Okta") {
		t.Errorf("a login page without password connectors:\n%s", res.body)
	}
}

func TestSuffixRoutingAndPicker(t *testing.T) {
	t.Parallel()
	ti, ad, partner, _ := corpIdP(t)

	// The suffix decides over the picker, and corp-ad gets the bare name.
	b := ti.browser()
	if res := b.loginWith("local", "diego@corp.example", "diego-pw"); res.code != http.StatusSeeOther {
		t.Fatalf("diego@corp.example = %d:\n%s", res.code, res.body)
	}
	if got := ad.asked(); len(got) != 1 || got[0] != "diego" {
		t.Errorf("corp-ad was asked about %q, want [diego]", got)
	}
	s := currentSession(t, ti, b)
	if s.Identity.Connector != "corp-ad" || s.Identity.Username != "diego" || s.Identity.QualifiedName() != "diego@corp-ad" {
		t.Errorf("session identity = %+v", s.Identity)
	}

	// partner keeps the suffix (userPrincipalName), matched in any case.
	b2 := ti.browser()
	if res := b2.loginWith("", "eve@PARTNER.example", "eve-pw"); res.code != http.StatusUnauthorized {
		t.Fatalf("eve@PARTNER.example with the name as typed = %d", res.code)
	}
	if got := partner.asked(); len(got) != 1 || got[0] != "eve@PARTNER.example" {
		t.Errorf("partner was asked about %q", got)
	}
	if res := b2.loginWith("", "eve@partner.example", "eve-pw"); res.code != http.StatusSeeOther {
		t.Fatalf("eve@partner.example = %d", res.code)
	}

	// Without a suffix, the picker decides.
	b3 := ti.browser()
	if res := b3.loginWith("corp-ad", "bob", "bob-pw"); res.code != http.StatusSeeOther {
		t.Fatalf("bob at corp-ad = %d", res.code)
	}
	if s := currentSession(t, ti, b3); s.Identity.Connector != "corp-ad" {
		t.Errorf("bob signed in through %q", s.Identity.Connector)
	}
	// Local alice and corp-ad alice are different people.
	b4 := ti.browser()
	if res := b4.loginWith("local", "alice", "ad-alice-pw"); res.code != http.StatusUnauthorized {
		t.Errorf("corp-ad's password for local alice = %d, want 401", res.code)
	}
	if res := b4.loginWith("local", "alice", alicePassword); res.code != http.StatusSeeOther {
		t.Errorf("local alice = %d", res.code)
	}
	if s := currentSession(t, ti, b4); s.Identity.Connector != "local" || s.Identity.QualifiedName() != "alice" {
		t.Errorf("local alice = %+v", s.Identity)
	}

	// Several password connectors and nothing decides: a clear refusal.
	res := ti.browser().loginWith("", "carol", "pw")
	if res.code != http.StatusBadRequest || !strings.Contains(res.body, msgNoConnector) {
		t.Errorf("no connector chosen = %d:\n%s", res.code, res.body)
	}
	if res := ti.browser().loginWith("okta", "carol", "pw"); res.code != http.StatusBadRequest {
		t.Errorf("the picker naming a redirect connector = %d, want 400", res.code)
	}

	// The audit trail names the connector, and the person qualified by it.
	var got []string
	for _, r := range signInRecords(ti) {
		p := signInParams(t, r)
		got = append(got, fmt.Sprintf("%s/%s/%s/%s", r.UserIdentity.UserName, r.UserIdentity.Connector, p.Connector, r.ErrorCode))
	}
	want := "diego@corp-ad/corp-ad/corp-ad/," +
		"//partner/InvalidCredentials," +
		"eve@partner.example@partner/partner/partner/," +
		"bob@corp-ad/corp-ad/corp-ad/," +
		"alice/local/local/InvalidCredentials," +
		"alice/local/local/"
	if strings.Join(got, ",") != want {
		t.Errorf("SignIn records (user/identity connector/connector/error):\n got %s\nwant %s", strings.Join(got, ","), want)
	}
}

func currentSession(t *testing.T, ti *testIdP, b *browser) idp.Session {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	s, ok, err := ti.Current(req)
	if err != nil || !ok {
		t.Fatalf("no session (%v)", err)
	}
	return s
}

func TestDirectoryUnavailable(t *testing.T) {
	t.Parallel()
	ti, ad, _, _ := corpIdP(t, limits(2, 100, 10*time.Minute))
	ad.setErr(fmt.Errorf("dial ldaps://dc1.corp.example:636: %w", connector.ErrUnavailable))
	b := ti.browser()
	// More attempts than the per-name limit: a directory that cannot be
	// asked counts no failure against the person.
	for i := 0; i < 4; i++ {
		res := b.loginWith("corp-ad", "diego", "diego-pw")
		if res.code != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d while the directory is down = %d:\n%s", i+1, res.code, res.body)
		}
		if !strings.Contains(res.body, "the directory is unavailable") || strings.Contains(res.body, msgInvalid) {
			t.Fatalf("the page does not say the directory is unavailable:\n%s", res.body)
		}
		if strings.Contains(res.body, "dc1.corp.example") {
			t.Fatal("the page shows the directory's address")
		}
	}
	ad.setErr(nil)
	if res := b.loginWith("corp-ad", "diego", "diego-pw"); res.code != http.StatusSeeOther {
		t.Errorf("once the directory is back = %d", res.code)
	}
	if got := connectorLogins(t, ti, "corp-ad", "unavailable"); got != 4 {
		t.Errorf("idpbridge_connector_logins_total{corp-ad,unavailable} = %v, want 4", got)
	}
	if got := connectorLogins(t, ti, "corp-ad", "success"); got != 1 {
		t.Errorf("idpbridge_connector_logins_total{corp-ad,success} = %v, want 1", got)
	}
}

// connectorLogins reads idpbridge_connector_logins_total{connector,result}.
func connectorLogins(t *testing.T, ti *testIdP, conn, result string) float64 {
	t.Helper()
	reg, _ := registries.Load(ti)
	mfs, err := reg.(*prometheus.Registry).Gather()
	if err != nil {
		t.Fatal(err)
	}
	var latency uint64
	var v float64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case mf.GetName() == "idpbridge_connector_logins_total" && labels["connector"] == conn && labels["result"] == result:
				v = m.GetCounter().GetValue()
			case mf.GetName() == "idpbridge_connector_login_duration_seconds" && labels["connector"] == conn:
				latency = m.GetHistogram().GetSampleCount()
			}
		}
	}
	if v > 0 && latency == 0 {
		t.Errorf("no latency observed for connector %s", conn)
	}
	return v
}

// TestRateLimitPerConnector: a burst of wrong passwords for one name at
// one connector reaches that connector no more often than the limit, and
// does not lock the same name out of another connector.
func TestRateLimitPerConnector(t *testing.T) {
	t.Parallel()
	const limit, burst = 3, 10
	ti, ad, _, _ := corpIdP(t, limits(limit, 100, 10*time.Minute))
	forms := make([]url.Values, burst)
	browsers := make([]*browser, burst)
	for i := range burst {
		browsers[i] = ti.browser()
		forms[i] = url.Values{"csrf_token": {browsers[i].csrf("/login")}, "username": {"alice"}, "password": {"wrong"}, "connector": {"corp-ad"}}
	}
	codes := make([]int, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = browsers[i].post("/login", forms[i], nil).code
		}()
	}
	wg.Wait()
	refused, limited := 0, 0
	for _, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Errorf("burst answer %d", c)
		}
	}
	if refused != limit || limited != burst-limit || len(ad.asked()) != limit {
		t.Errorf("burst: %d refused, %d rate limited, corp-ad asked %d times; want %d, %d, %d",
			refused, limited, len(ad.asked()), limit, burst-limit, limit)
	}
	// alice of the local accounts is another person with her own count.
	if res := ti.browser().loginWith("local", "alice", alicePassword); res.code != http.StatusSeeOther {
		t.Errorf("local alice after corp-ad alice's burst = %d", res.code)
	}
	if res := ti.browser().loginWith("corp-ad", "alice", "ad-alice-pw"); res.code != http.StatusTooManyRequests {
		t.Errorf("corp-ad alice after her burst = %d, want 429", res.code)
	}
}

// startRedirect begins the okta sign-in in b and returns the state the
// provider was sent.
func startRedirect(t *testing.T, b *browser, next string) string {
	t.Helper()
	path := "/login/oidc/okta"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	res := b.get(path)
	if res.code != http.StatusSeeOther {
		t.Fatalf("GET %s = %d:\n%s", path, res.code, res.body)
	}
	loc, err := url.Parse(res.header.Get("Location"))
	if err != nil || loc.Host != "provider.test" {
		t.Fatalf("redirected to %q", res.header.Get("Location"))
	}
	return loc.Query().Get("state")
}

func TestRedirectSignIn(t *testing.T) {
	t.Parallel()
	ti, _, _, okta := corpIdP(t)
	b := ti.browser()
	res := b.get("/login/oidc/okta?next=%2Fapps%2Faws")
	c := setCookies(res.header)[ti.flowName]
	if c == nil {
		t.Fatalf("no flow cookie: %v", res.header.Values("Set-Cookie"))
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 600 || c.Path != "/" {
		t.Errorf("flow cookie = %+v, want HttpOnly, SameSite=Lax, Max-Age 600, Path /", c)
	}
	ch := okta.lastStarted()
	if len(ch.State) < 43 || len(ch.Nonce) < 43 || len(ch.Verifier) < 43 || ch.State == ch.Nonce || ch.Nonce == ch.Verifier {
		t.Errorf("weak challenge %+v", ch)
	}
	for _, secret := range []string{ch.Nonce, ch.Verifier, ch.State} {
		if strings.Contains(c.Value, secret) {
			t.Error("the flow cookie carries the challenge in clear")
		}
	}
	loc, _ := url.Parse(res.header.Get("Location"))
	if loc.Query().Get("state") != ch.State {
		t.Errorf("the provider was sent state %q, want %q", loc.Query().Get("state"), ch.State)
	}

	res = b.get("/login/callback/okta?code=abc&user=diego&state=" + url.QueryEscape(ch.State))
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/apps/aws" {
		t.Fatalf("callback = %d to %q:\n%s", res.code, res.header.Get("Location"), res.body)
	}
	if gone := setCookies(res.header)[ti.flowName]; gone == nil || gone.MaxAge >= 0 {
		t.Errorf("the flow cookie was not deleted: %+v", gone)
	}
	if got := okta.challenges(); len(got) != 1 || got[0] != ch {
		t.Errorf("HandleCallback got challenges %+v, want %+v", got, ch)
	}
	s := currentSession(t, ti, b)
	if s.Identity.Connector != "okta" || s.Identity.Username != "diego" || s.Identity.Email != "diego@example.org" {
		t.Errorf("session identity = %+v", s.Identity)
	}
	recs := signInRecords(ti)
	if len(recs) != 1 || recs[0].ErrorCode != "" || recs[0].UserIdentity.UserName != "diego@okta" ||
		recs[0].UserIdentity.Connector != "okta" || signInParams(t, recs[0]).Connector != "okta" {
		t.Fatalf("SignIn records = %+v", recs)
	}
	// The cookie was used once: the same callback again is refused.
	res = b.get("/login/callback/okta?code=abc&user=diego&state=" + url.QueryEscape(ch.State))
	if res.code != http.StatusBadRequest || okta.callCount() != 1 {
		t.Errorf("a second callback = %d with %d calls of the connector, want 400 and 1", res.code, okta.callCount())
	}
}

func TestRedirectCallbackRefusals(t *testing.T) {
	t.Parallel()
	ti, _, _, okta := corpIdP(t)
	other := &fakeProvider{}
	// An IdP with another secret: its flow cookies are forgeries here.
	foreign, _, _, _ := corpIdP(t, func(_ *testing.T, o *IdPOptions) { o.Secret = []byte(strings.Repeat("x", 32)) })
	ti2, _, _, _ := corpIdP(t, withOther(other))

	cases := []struct {
		name string
		run  func(t *testing.T) response
	}{
		{"no cookie", func(t *testing.T) response {
			return ti.browser().get("/login/callback/okta?code=abc&user=mallory&state=anything")
		}},
		{"state mismatch", func(t *testing.T) response {
			b := ti.browser()
			state := startRedirect(t, b, "")
			return b.get("/login/callback/okta?code=abc&user=mallory&state=" + url.QueryEscape(state+"x"))
		}},
		{"no state", func(t *testing.T) response {
			b := ti.browser()
			startRedirect(t, b, "")
			return b.get("/login/callback/okta?code=abc&user=mallory")
		}},
		{"forged cookie", func(t *testing.T) response {
			b := ti.browser()
			b.setCookie(ti.flowName, "MTcwMDAwMDAwMHxnYXJiYWdlfGdhcmJhZ2U=")
			return b.get("/login/callback/okta?code=abc&user=mallory&state=garbage")
		}},
		{"cookie of another secret", func(t *testing.T) response {
			fb := foreign.browser()
			state := startRedirect(t, fb, "")
			b := ti.browser()
			b.setCookie(ti.flowName, fb.cookie(ti.flowName))
			return b.get("/login/callback/okta?code=abc&user=mallory&state=" + url.QueryEscape(state))
		}},
		{"expired", func(t *testing.T) response {
			b := ti.browser()
			state := startRedirect(t, b, "")
			ti.clock.Add(flowLifetime + time.Second)
			return b.get("/login/callback/okta?code=abc&user=mallory&state=" + url.QueryEscape(state))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := okta.callCount()
			res := tc.run(t)
			if res.code != http.StatusBadRequest || !strings.Contains(res.body, "start again") {
				t.Errorf("%s = %d:\n%s", tc.name, res.code, res.body)
			}
			if okta.callCount() != before {
				t.Errorf("%s reached the connector", tc.name)
			}
			if _, ok := setCookies(res.header)[ti.sessName]; ok {
				t.Errorf("%s set a session cookie", tc.name)
			}
		})
	}
	for _, r := range signInRecords(ti) {
		if r.ErrorCode != codeInvalidState || r.UserIdentity.Type != audit.TypeAnonymous || signInParams(t, r).Connector != "okta" {
			t.Errorf("refused callback recorded as %s by %s", r.ErrorCode, r.UserIdentity.Type)
		}
	}
	if n := len(signInRecords(ti)); n != len(cases) {
		t.Errorf("%d SignIn records for %d refused callbacks", n, len(cases))
	}

	// A flow started at okta does not finish at another connector.
	b := ti2.browser()
	state := startRedirect(t, b, "")
	res := b.get("/login/callback/other?code=abc&user=mallory&state=" + url.QueryEscape(state))
	if res.code != http.StatusBadRequest || other.callCount() != 0 {
		t.Errorf("okta's flow at the callback of other = %d (%d calls)", res.code, other.callCount())
	}
	// Unknown connectors and password connectors have no redirect routes.
	for _, p := range []string{"/login/oidc/nope", "/login/oidc/corp-ad", "/login/callback/corp-ad?state=x"} {
		if res := ti.browser().get(p); res.code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, res.code)
		}
	}
}

func withOther(p *fakeProvider) testOption {
	return func(t *testing.T, o *IdPOptions) {
		o.Connectors = append(o.Connectors, NamedConnector{Name: "other", Redirect: p})
	}
}

func TestRedirectProviderError(t *testing.T) {
	t.Parallel()
	ti, _, _, _ := corpIdP(t)
	b := ti.browser()
	state := startRedirect(t, b, "")
	res := b.get("/login/callback/okta?error=access_denied&error_description=User+is+not+assigned+to+the+app&state=" + url.QueryEscape(state))
	if res.code != http.StatusUnauthorized {
		t.Fatalf("provider error = %d:\n%s", res.code, res.body)
	}
	for _, want := range []string{"Okta refused the sign-in", "access_denied", "User is not assigned to the app"} {
		if !strings.Contains(htmlUnescape(res.body), want) {
			t.Errorf("the page lacks %q:\n%s", want, res.body)
		}
	}
	if b.signedIn() {
		t.Error("signed in after the provider refused")
	}
	recs := signInRecords(ti)
	if len(recs) != 1 || recs[0].ErrorCode != "access_denied" || signInParams(t, recs[0]).Connector != "okta" {
		t.Fatalf("SignIn records = %+v", recs)
	}
	if got := connectorLogins(t, ti, "okta", "provider_error"); got != 1 {
		t.Errorf("provider_error count = %v", got)
	}
}

func TestRedirectProviderUnavailable(t *testing.T) {
	t.Parallel()
	ti, _, _, okta := corpIdP(t)
	okta.setErr(fmt.Errorf("token endpoint: %w", connector.ErrUnavailable))
	b := ti.browser()
	state := startRedirect(t, b, "")
	res := b.get("/login/callback/okta?code=abc&state=" + url.QueryEscape(state))
	if res.code != http.StatusServiceUnavailable || !strings.Contains(res.body, "the directory is unavailable") {
		t.Errorf("an unreachable provider = %d:\n%s", res.code, res.body)
	}
}

func TestReadyzListsConnectors(t *testing.T) {
	t.Parallel()
	ti, _, partner, _ := corpIdP(t)
	partner.mu.Lock()
	partner.health = errors.New("dial ldaps://10.9.8.7:636: connection refused")
	partner.mu.Unlock()
	srv := NewServer(Options{Ready: CheckerFunc(func(context.Context) error { return nil })})
	ti.Mount(srv)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	want := `{"status":"ready","checks":{"database":"up"},"connectors":{"corp-ad":"up","okta":"up","partner":"down"}}`
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || got != want {
		t.Errorf("/readyz = %d %s\nwant 200 %s", rec.Code, got, want)
	}
	// The database decides the status; connectors are listed beside.
	srv = NewServer(Options{Ready: CheckerFunc(func(context.Context) error { return errors.New("down") })})
	ti.Mount(srv)
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"connectors":{"corp-ad":"up"`) {
		t.Errorf("/readyz with the database down = %d %s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "10.9.8.7") || strings.Contains(rec.Body.String(), "refused") {
		t.Errorf("/readyz tells why a connector is down: %s", rec.Body)
	}
}

func TestNewIdPRefusesBadConnectors(t *testing.T) {
	t.Parallel()
	pw, rd := &fakeDirectory{}, &fakeProvider{}
	s := sqliteStore(t)
	pages, err := ui.Load(templates.FS, "login", "portal", "error")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		conns []NamedConnector
		want  string
	}{
		{"bad name", []NamedConnector{{Name: "Corp AD", Password: pw}}, "a-z"},
		{"twice", []NamedConnector{{Name: "a", Password: pw}, {Name: "a", Password: pw}}, "twice"},
		{"neither", []NamedConnector{{Name: "a"}}, "exactly one"},
		{"both", []NamedConnector{{Name: "a", Password: pw, Redirect: rd}}, "exactly one"},
		{"suffix on redirect", []NamedConnector{{Name: "a", Redirect: rd, RouteSuffixes: []string{"@x.example"}}}, "password connectors only"},
		{"suffix without @", []NamedConnector{{Name: "a", Password: pw, RouteSuffixes: []string{"x.example"}}}, "must start with @"},
		{"suffix twice", []NamedConnector{{Name: "a", Password: pw, RouteSuffixes: []string{"@x.example"}}, {Name: "b", Password: pw, RouteSuffixes: []string{"@X.example"}}}, "claimed by"},
	} {
		_, err := NewIdP(IdPOptions{BaseURL: "https://idp.example", Secret: testSecret, Store: s, Pages: pages, Events: &fakeEvents{}, Connectors: tc.conns})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// checkedDirectory is a fakeDirectory whose accounts can be disabled
// (connector.AccountChecker).
type checkedDirectory struct {
	*fakeDirectory
	disabled sync.Map
}

func (c *checkedDirectory) Active(_ context.Context, username string) (bool, error) {
	_, off := c.disabled.Load(username)
	return !off, nil
}

// TestSessionEndsWhenDirectoryDisables: a session's account is checked
// by the connector that signed it in, and only by that one.
func TestSessionEndsWhenDirectoryDisables(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ad := &checkedDirectory{fakeDirectory: &fakeDirectory{users: map[string]string{"alice": "ad-pw"}}}
	ti := newTestIdP(t, s, false, withConnectors(NamedConnector{Name: "corp-ad", Password: ad}))
	adAlice, localAlice := ti.browser(), ti.browser()
	if res := adAlice.loginWith("corp-ad", "alice", "ad-pw"); res.code != http.StatusSeeOther {
		t.Fatalf("corp-ad alice = %d", res.code)
	}
	if res := localAlice.loginWith("local", "alice", alicePassword); res.code != http.StatusSeeOther {
		t.Fatalf("local alice = %d", res.code)
	}
	ad.disabled.Store("alice", true)
	if adAlice.signedIn() {
		t.Error("corp-ad alice is still signed in after the directory disabled her")
	}
	if !localAlice.signedIn() {
		t.Error("local alice was signed out by corp-ad's answer")
	}
}

// TestRedirectFlowCookieOnHTTPS: on https the flow cookie is a Secure
// __Host- cookie.
func TestRedirectFlowCookieOnHTTPS(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	okta := &fakeProvider{}
	ti := newTestIdP(t, s, true, withConnectors(NamedConnector{Name: "okta", Redirect: okta}))
	b := ti.browser()
	res := b.get("/login/oidc/okta")
	c := setCookies(res.header)["__Host-idpbridge_signin_flow"]
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("flow cookie on https = %+v", c)
	}
	state := okta.lastStarted().State
	if res := b.get("/login/callback/okta?code=c&user=diego&state=" + url.QueryEscape(state)); res.code != http.StatusSeeOther {
		t.Errorf("callback on https = %d:\n%s", res.code, res.body)
	}
}

// failingStart is a redirect connector whose provider cannot be reached.
type failingStart struct{ fakeProvider }

func (*failingStart) LoginURL(context.Context, connector.Challenge) (string, error) {
	return "", fmt.Errorf("discovery at https://10.1.2.3/.well-known/openid-configuration: %w", connector.ErrUnavailable)
}

func TestRedirectStartUnavailable(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	ti := newTestIdP(t, s, false, withConnectors(NamedConnector{Name: "okta", DisplayName: "Okta", Redirect: &failingStart{}}))
	res := ti.browser().get("/login/oidc/okta")
	if res.code != http.StatusServiceUnavailable || !strings.Contains(res.body, "the directory is unavailable") || strings.Contains(res.body, "10.1.2.3") {
		t.Errorf("start with the provider unreachable = %d:\n%s", res.code, res.body)
	}
	if _, ok := setCookies(res.header)[ti.flowName]; ok {
		t.Error("a flow cookie was set for a sign-in that did not start")
	}
}

func TestRedirectProviderErrorEscaped(t *testing.T) {
	t.Parallel()
	ti, _, _, _ := corpIdP(t)
	b := ti.browser()
	state := startRedirect(t, b, "")
	res := b.get("/login/callback/okta?error=access_denied&error_description=" + url.QueryEscape(`<script>alert(1)</script>`) + "&state=" + url.QueryEscape(state))
	if res.code != http.StatusUnauthorized || strings.Contains(res.body, "<script>alert") {
		t.Errorf("provider error with markup = %d:\n%s", res.code, res.body)
	}
}
