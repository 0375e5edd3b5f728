package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store/postgres/pgtest"
)

func limits(user, addr int, window time.Duration) testOption {
	return func(_ *testing.T, o *IdPOptions) {
		o.RateLimit = RateLimit{MaxFailuresPerUser: user, MaxFailuresPerAddress: addr, Window: window}
	}
}

func TestRateLimitPerUser(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false, limits(3, 100, 10*time.Minute))
	b := ti.browser()
	for i := 0; i < 3; i++ {
		if res := b.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
			t.Fatalf("failure %d answered %d", i+1, res.code)
		}
		ti.clock.Add(time.Minute)
	}
	ti.verify.take()
	// Over the limit: refused without looking at the password, even the right one.
	res := b.login("alice", alicePassword, "")
	if res.code != http.StatusTooManyRequests {
		t.Fatalf("4th attempt = %d, want 429:\n%s", res.code, res.body)
	}
	// The first failure was 3 minutes ago: it leaves the window in 7 minutes.
	if got := res.header.Get("Retry-After"); got != "420" {
		t.Errorf("Retry-After = %q, want 420", got)
	}
	if !strings.Contains(res.body, "Too many") || !strings.Contains(res.body, "7 minutes") {
		t.Errorf("429 page does not explain:\n%s", res.body)
	}
	if n := len(ti.verify.take()); n != 0 {
		t.Errorf("the password was checked %d times while rate limited", n)
	}
	if _, ok := setCookies(res.header)[ti.sessName]; ok {
		t.Error("a rate-limited attempt set a session cookie")
	}
	recs := ti.events.records()
	if last := recs[len(recs)-1]; last.ErrorCode != audit.CodeRateLimited || last.UserIdentity.Type != audit.TypeAnonymous {
		t.Errorf("last record = %s %s, want RateLimited by an anonymous caller", last.ErrorCode, last.UserIdentity.Type)
	}
	// Other names, and the name in another case, are counted apart / together.
	if res := b.login("ALICE", alicePassword, ""); res.code != http.StatusTooManyRequests {
		t.Errorf("the name in another case = %d, want 429", res.code)
	}
	if res := b.login("admin", adminPassword, ""); res.code != http.StatusSeeOther {
		t.Errorf("another account from the same address = %d, want a sign-in", res.code)
	}
	// Once the oldest failure leaves the window, one attempt is allowed again.
	ti.clock.Add(7*time.Minute - time.Second)
	if res := b.login("alice", alicePassword, ""); res.code != http.StatusTooManyRequests {
		t.Fatalf("a second before the window moves = %d, want 429", res.code)
	}
	ti.clock.Add(time.Second)
	if res := b.login("alice", alicePassword, ""); res.code != http.StatusSeeOther {
		t.Fatalf("after the window moved = %d, want a sign-in", res.code)
	}
}

func TestRateLimitSuccessClearsTheName(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false, limits(3, 100, 10*time.Minute))
	b := ti.browser()
	for i := 0; i < 2; i++ {
		b.login("alice", "wrong-password", "")
	}
	b.login("alice", alicePassword, "")
	c := ti.browser()
	for i := 0; i < 2; i++ {
		if res := c.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
			t.Fatalf("failure %d after a success = %d: the success did not reset the count", i+1, res.code)
		}
	}
}

func TestRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false, limits(100, 4, time.Minute))
	b := ti.browser()
	for i := 0; i < 4; i++ {
		if res := b.login("user"+strconv.Itoa(i), "x-password", ""); res.code != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d", i, res.code)
		}
	}
	res := b.login("admin", adminPassword, "")
	if res.code != http.StatusTooManyRequests || res.header.Get("Retry-After") != "60" {
		t.Fatalf("after 4 failures from one address = %d Retry-After %q, want 429 and 60", res.code, res.header.Get("Retry-After"))
	}
}

// TestRateLimitSharedByReplicas: two servers on one PostgreSQL database
// count the same failures and honour each other's sessions and logouts.
func TestRateLimitSharedByReplicas(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	sa := postgresStore(t, dbURL)
	seedUsers(t, sa)
	sb := postgresStore(t, dbURL)
	a := newTestIdP(t, sa, false, limits(3, 100, 10*time.Minute))
	bIdP := newTestIdP(t, sb, false, limits(3, 100, 10*time.Minute))

	onA, onB := a.browser(), bIdP.browser()
	for i := 0; i < 2; i++ {
		if res := onA.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
			t.Fatalf("failure on A = %d", res.code)
		}
	}
	if res := onB.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
		t.Fatalf("third failure on B = %d", res.code)
	}
	if res := onA.login("alice", alicePassword, ""); res.code != http.StatusTooManyRequests {
		t.Fatalf("A after failures on A and B = %d, want 429", res.code)
	}
	if res := onB.login("alice", alicePassword, ""); res.code != http.StatusTooManyRequests {
		t.Fatalf("B after failures on A and B = %d, want 429", res.code)
	}

	// A session made on A works on B (same keys, same store) until it is
	// ended on A.
	admin := a.browser()
	if res := admin.login("admin", adminPassword, ""); res.code != http.StatusSeeOther {
		t.Fatalf("admin login on A = %d", res.code)
	}
	cookie := admin.cookie(a.sessName)
	other := bIdP.browser()
	other.setCookie(bIdP.sessName, cookie)
	if !other.signedIn() {
		t.Fatal("the session made on A is unknown to B")
	}
	if res := admin.post("/logout", url.Values{"csrf_token": {admin.csrf("/")}}, nil); res.code != http.StatusSeeOther {
		t.Fatalf("logout on A = %d", res.code)
	}
	if other.signedIn() {
		t.Fatal("B still honours a session ended on A")
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		trusted      []netip.Prefix
		want         string
	}{
		{"peer", "192.0.2.1:5555", nil, nil, "192.0.2.1"},
		{"forwarded header from an untrusted peer is ignored", "192.0.2.1:5555", []string{"203.0.113.9"}, trusted, "192.0.2.1"},
		{"no trusted proxies configured", "10.1.1.1:5555", []string{"203.0.113.9"}, nil, "10.1.1.1"},
		{"one trusted proxy", "10.1.1.1:5555", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"spoofed left entries are skipped", "10.1.1.1:5555", []string{"6.6.6.6, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"chain of trusted proxies", "10.1.1.1:5555", []string{"203.0.113.9, 10.2.2.2", "10.3.3.3"}, trusted, "203.0.113.9"},
		{"garbage stops at the last trusted hop", "10.1.1.1:5555", []string{"not-an-ip, 10.2.2.2"}, trusted, "10.2.2.2"},
		{"trusted peer without header", "10.1.1.1:5555", nil, trusted, "10.1.1.1"},
		{"ipv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"ipv4-mapped peer", "[::ffff:192.0.2.7]:443", nil, nil, "192.0.2.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &IdP{opt: IdPOptions{TrustedProxies: tc.trusted}}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := p.clientAddr(r).String(); got != tc.want {
				t.Fatalf("clientAddr = %s, want %s", got, tc.want)
			}
		})
	}
	if got := addrKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "addr:2001:db8:1:2::/64" {
		t.Errorf("IPv6 bucket = %s, want the /64", got)
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/saml/sso?SAMLRequest=abc%2B%2F&RelayState=x", "/saml/sso?SAMLRequest=abc%2B%2F&RelayState=x"},
		{"/a/b?c=d&e", "/a/b?c=d&e"},
		{"", ""},
		{"//evil.example", ""},
		{"///evil.example", ""},
		{"/\\evil.example", ""},
		{"/a\\b", ""},
		{"https://evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"/\t/evil", ""},
		{"/x#frag", ""},
		{"relative", ""},
		{"/" + strings.Repeat("a", maxNextBytes-1), "/" + strings.Repeat("a", maxNextBytes-1)},
		{"/" + strings.Repeat("a", maxNextBytes), ""},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%.40q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://localhost:8080":          "http://localhost:8080",
		"https://IdP.Example.com:443/x":  "https://idp.example.com",
		"http://idp.example.com:80":      "http://idp.example.com",
		"https://idp.example.com:8443/":  "https://idp.example.com:8443",
		"http://[2001:DB8::1]:80/":       "http://[2001:db8::1]",
		"https://[2001:db8::1]:8443/sso": "https://[2001:db8::1]:8443",
	} {
		u, _ := url.Parse(in)
		if got := origin(u); got != want {
			t.Errorf("origin(%s) = %s, want %s", in, got, want)
		}
	}
}
