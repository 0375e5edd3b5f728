package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
	"idpbridge/idp/store/sqlite"
	"idpbridge/idp/ui"
	"idpbridge/templates"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// cheap keeps password hashing fast in tests.
var cheap = local.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// testSecret is the key material every test replica shares.
var testSecret = bytes.Repeat([]byte{0x42}, 32)

// Accounts of seedUsers.
const (
	adminPassword = "admin-password-1"
	alicePassword = "alice-password-1"
	malPassword   = "mallory-password"
)

// testQueryTimeout replaces the 5 s default of the stores: bursts of
// parallel tests under -race on a busy machine can queue longer than that
// for SQLite's write lock, and these tests are not about timeouts.
const testQueryTimeout = time.Minute

func sqliteStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpbridge.db"), sqlite.Options{QueryTimeout: testQueryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func postgresStore(t *testing.T, url string) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Options{QueryTimeout: testQueryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// seedUsers adds admin (an administrator), alice and the disabled mallory.
func seedUsers(t *testing.T, s store.Store) {
	t.Helper()
	for _, u := range []struct {
		store.User
		password string
	}{
		{store.User{Username: "admin", Groups: []string{AdminGroup}, Attributes: map[string][]string{"displayName": {"The Administrator"}}}, adminPassword},
		{store.User{Username: "alice", Groups: []string{"AWS-123456789012-Developer"}, Attributes: map[string][]string{"mail": {"alice@example.com"}}}, alicePassword},
		{store.User{Username: "mallory", Disabled: true}, malPassword},
	} {
		h, err := local.HashPassword(rand.Reader, u.password, cheap)
		if err != nil {
			t.Fatal(err)
		}
		u.PasswordHash = h
		u.CreatedAt, u.UpdatedAt = time.Now(), time.Now()
		if err := s.CreateUser(context.Background(), u.User); err != nil {
			t.Fatal(err)
		}
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeEvents keeps the records it is given; LogFunc, when set, decides
// the outcome of each call first.
type fakeEvents struct {
	mu      sync.Mutex
	recs    []audit.Record
	LogFunc func(recs []audit.Record) error
}

func (f *fakeEvents) Log(_ context.Context, recs ...audit.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.LogFunc != nil {
		if err := f.LogFunc(recs); err != nil {
			return err
		}
	}
	f.recs = append(f.recs, recs...)
	return nil
}

func (f *fakeEvents) records() []audit.Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Record(nil), f.recs...)
}

// appsFunc adapts a function to sso.AppLister.
type appsFunc func(idp.Identity) []sso.App

func (f appsFunc) Apps(id idp.Identity) []sso.App { return f(id) }

// fakeApps gives every person the "aws" app.
var fakeApps = appsFunc(func(id idp.Identity) []sso.App {
	return []sso.App{{Name: "aws", DisplayName: "AWS Console", Description: "Sign in to AWS", URL: "/saml/idp-initiated?sp=aws"}}
})

// countingVerify counts the hashes a connector checks.
type countingVerify struct {
	mu     sync.Mutex
	hashes []string
}

func (c *countingVerify) verify(hash, password string) (bool, error) {
	c.mu.Lock()
	c.hashes = append(c.hashes, hash)
	c.mu.Unlock()
	return local.VerifyPassword(hash, password)
}

func (c *countingVerify) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hashes
	c.hashes = nil
	return h
}

// testIdP is an IdP with its real routes on an httptest server.
type testIdP struct {
	*IdP
	t      *testing.T
	srv    *httptest.Server
	mux    *Server // the routes; tests may mount more
	url    string
	store  store.Store
	events *fakeEvents
	clock  *clock
	verify *countingVerify
	conn   *local.Connector
}

type testOption func(*testing.T, *IdPOptions)

// newTestIdP serves an IdP over s (seeded by the caller) on a fresh
// listener; its base URL is the listener's URL (https when tls).
func newTestIdP(t *testing.T, s store.Store, tls bool, opts ...testOption) *testIdP {
	t.Helper()
	ti := &testIdP{t: t, store: s, events: &fakeEvents{}, clock: &clock{now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}, verify: &countingVerify{}}
	ti.srv = httptest.NewUnstartedServer(nil)
	scheme := "http"
	if tls {
		scheme = "https"
	}
	ti.url = scheme + "://" + ti.srv.Listener.Addr().String()
	conn, err := local.New(s, local.Options{Params: cheap, Verify: ti.verify.verify})
	if err != nil {
		t.Fatal(err)
	}
	ti.conn = conn
	pages, err := ui.Load(templates.FS, "login", "portal", "error")
	if err != nil {
		t.Fatal(err)
	}
	opt := IdPOptions{
		BaseURL:   ti.url,
		Secret:    testSecret,
		Store:     s,
		Connector: conn,
		Pages:     pages,
		Apps:      fakeApps,
		Events:    ti.events,
		RateLimit: RateLimit{MaxFailuresPerUser: 5, MaxFailuresPerAddress: 20, Window: 15 * time.Minute},
		Now:       ti.clock.Now,
	}
	for _, o := range opts {
		o(t, &opt)
	}
	p, err := NewIdP(opt)
	if err != nil {
		t.Fatal(err)
	}
	ti.IdP = p
	srv := NewServer(Options{})
	ti.mux = srv
	p.Mount(srv)
	srv.Handle("/admin/", p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		io.WriteString(w, "admin page for "+s.Identity.Username)
	})))
	ti.srv.Config.Handler = srv
	if tls {
		ti.srv.StartTLS()
	} else {
		ti.srv.Start()
	}
	t.Cleanup(ti.srv.Close)
	return ti
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects and sends the Origin a browser would.
type browser struct {
	t      *testing.T
	c      *http.Client
	base   string
	Origin string // sent on POST; "-" sends none
}

func (ti *testIdP) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := new(http.Client)
	*c = *ti.srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: ti.t, c: c, base: ti.url, Origin: ti.url}
}

type response struct {
	code   int
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{code: res.StatusCode, body: string(body), header: res.Header}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header map[string]string) response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if b.Origin != "-" {
		req.Header.Set("Origin", b.Origin)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// csrf returns the token of the form on the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	res := b.get(path)
	m := csrfRe.FindStringSubmatch(res.body)
	if m == nil {
		b.t.Fatalf("GET %s (%d) has no csrf_token field:\n%s", path, res.code, res.body)
	}
	return m[1]
}

// login submits the login form as a browser would.
func (b *browser) login(username, password, next string) response {
	b.t.Helper()
	page := "/login"
	if b.get(page).code == http.StatusSeeOther {
		page = "/" // signed in already: the portal has a form too
	}
	form := url.Values{"csrf_token": {b.csrf(page)}, "username": {username}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	return b.post("/login", form, nil)
}

// signedIn reports whether GET / shows the portal.
func (b *browser) signedIn() bool {
	b.t.Helper()
	res := b.get("/")
	switch res.code {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		return false
	}
	b.t.Fatalf("GET / = %d:\n%s", res.code, res.body)
	return false
}

// cookie returns the value of the jar's cookie called name.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(name, value string) {
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// setCookies returns the response's Set-Cookie lines parsed.
func setCookies(h http.Header) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, line := range h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil {
			out[c.Name] = c
		}
	}
	return out
}

var errLogDown = errors.New("audit trail unavailable")

var regexpNext = regexp.MustCompile(`name="next" value="([^"]*)"`)

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
