package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestRedirectToBaseURL: a browser that opened another name of the
// listener (127.0.0.1 for localhost) is sent to the base URL before any
// cookie is set; probes and the STS answer on any host.
func TestRedirectToBaseURL(t *testing.T) {
	t.Parallel()
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	for _, tc := range []struct {
		name, base, method, host, target, peer, fwdHost string
		wantCode                                        int
		wantLocation                                    string
	}{
		{name: "base host", base: "http://localhost:8080", method: "GET", host: "localhost:8080", target: "/login", wantCode: 200},
		{name: "base host in capitals", base: "http://localhost:8080", method: "GET", host: "LOCALHOST:8080", target: "/login", wantCode: 200},
		{name: "default port written out", base: "https://idp.example.com", method: "GET", host: "idp.example.com:443", target: "/", wantCode: 200},
		{name: "loopback address for localhost", base: "http://localhost:8080", method: "GET", host: "127.0.0.1:8080",
			target: "/login?next=%2Fsaml%2Fidp-initiated%3Fsp%3Daws", wantCode: http.StatusFound,
			wantLocation: "http://localhost:8080/login?next=%2Fsaml%2Fidp-initiated%3Fsp%3Daws"},
		{name: "HEAD", base: "http://localhost:8080", method: "HEAD", host: "127.0.0.1:8080", target: "/", wantCode: http.StatusFound,
			wantLocation: "http://localhost:8080/"},
		{name: "other port", base: "http://localhost:8080", method: "GET", host: "localhost:9090", target: "/", wantCode: http.StatusFound,
			wantLocation: "http://localhost:8080/"},
		{name: "base URL with a path", base: "https://example.com/idp/", method: "GET", host: "backend:8080", target: "/login",
			wantCode: http.StatusFound, wantLocation: "https://example.com/idp/login"},
		{name: "IPv6 loopback", base: "http://localhost:8080", method: "GET", host: "[::1]:8080", target: "/", wantCode: http.StatusFound,
			wantLocation: "http://localhost:8080/"},
		{name: "POST to another host is refused", base: "http://localhost:8080", method: "POST", host: "127.0.0.1:8080", target: "/login",
			wantCode: http.StatusBadRequest},
		{name: "healthz on any host", base: "http://localhost:8080", method: "GET", host: "10.1.2.3:8080", target: "/healthz", wantCode: 200},
		{name: "readyz on any host", base: "http://localhost:8080", method: "GET", host: "10.1.2.3:8080", target: "/readyz", wantCode: 200},
		{name: "metrics on any host", base: "http://localhost:8080", method: "GET", host: "10.1.2.3:8080", target: "/metrics", wantCode: 200},
		{name: "metadata on any host", base: "http://localhost:8080", method: "GET", host: "idpbridge.internal:8080", target: "/saml/metadata", wantCode: 200},
		{name: "other SAML endpoints are redirected", base: "http://localhost:8080", method: "GET", host: "127.0.0.1:8080", target: "/saml/idp-initiated?sp=aws",
			wantCode: http.StatusFound, wantLocation: "http://localhost:8080/saml/idp-initiated?sp=aws"},
		{name: "STS API signed for another host", base: "http://localhost:8080", method: "POST", host: "127.0.0.1:8080", target: "/sts/", wantCode: 200},
		{name: "STS API without slash", base: "http://localhost:8080", method: "POST", host: "127.0.0.1:8080", target: "/sts", wantCode: 200},
		{name: "STS sign-in endpoint", base: "http://localhost:8080", method: "POST", host: "127.0.0.1:8080", target: "/sts/saml", wantCode: 200},
		{name: "trusted proxy forwards the base host", base: "https://idp.example.com", method: "GET", host: "127.0.0.1:8080", target: "/",
			peer: "10.0.0.5:4321", fwdHost: "idp.example.com", wantCode: 200},
		{name: "trusted proxy forwards another host", base: "https://idp.example.com", method: "GET", host: "idp.example.com", target: "/",
			peer: "10.0.0.5:4321", fwdHost: "evil.example.com", wantCode: http.StatusFound, wantLocation: "https://idp.example.com/"},
		{name: "X-Forwarded-Host of an untrusted peer is ignored", base: "http://localhost:8080", method: "GET", host: "127.0.0.1:8080",
			target: "/", peer: "192.0.2.1:4321", fwdHost: "localhost:8080", wantCode: http.StatusFound, wantLocation: "http://localhost:8080/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logged syncBuffer
			s := NewServer(Options{Logger: testLogger(&logged)})
			if err := s.RedirectToBaseURL(tc.base, []netip.Prefix{proxy}); err != nil {
				t.Fatal(err)
			}
			ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("handled")) }
			s.HandleFunc("GET /{$}", ok)
			s.HandleFunc("GET /saml/metadata", ok)
			s.HandleFunc("GET /saml/idp-initiated", ok)
			s.HandleFunc("GET /login", ok)
			s.HandleFunc("POST /login", ok)
			s.HandleFunc("POST /sts", ok)
			s.HandleFunc("POST /sts/{$}", ok)
			s.HandleFunc("POST /sts/saml", ok)
			req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(""))
			req.Host = tc.host
			if tc.peer != "" {
				req.RemoteAddr = tc.peer
			}
			if tc.fwdHost != "" {
				req.Header.Set("X-Forwarded-Host", tc.fwdHost)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.wantCode {
				t.Fatalf("%s %s (Host %s) = %d, want %d:\n%s", tc.method, tc.target, tc.host, rec.Code, tc.wantCode, rec.Body)
			}
			if got := rec.Header().Get("Location"); got != tc.wantLocation {
				t.Errorf("Location = %q, want %q", got, tc.wantLocation)
			}
			if rec.Code == http.StatusBadRequest {
				root := strings.TrimSuffix(tc.base, "/")
				if body := rec.Body.String(); !strings.Contains(body, "Open "+root+"/") || !strings.Contains(body, tc.host) {
					t.Errorf("the refusal does not name the address to open:\n%s", body)
				}
				if !strings.Contains(logged.String(), "not addressed to the base URL's host") {
					t.Errorf("the refusal is not logged:\n%s", logged.String())
				}
			}
			if rec.Code == http.StatusFound && len(rec.Result().Cookies()) > 0 {
				t.Errorf("the redirect sets cookies: %v", rec.Result().Cookies())
			}
		})
	}
}

// TestRedirectToBaseURLKeepsTheHost: whatever the request-target, the
// redirect goes to the base URL's host.
func TestRedirectToBaseURLKeepsTheHost(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{})
	if err := s.RedirectToBaseURL("http://localhost:8080", nil); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"x:@evil.example", "http://evil.example/x", "//evil.example/x", "/\\evil.example", "mailto:a@evil.example"} {
		req := httptest.NewRequest("GET", "/", nil)
		u, err := url.ParseRequestURI(target)
		if err != nil {
			t.Fatalf("%q: %v", target, err)
		}
		req.URL, req.RequestURI, req.Host = u, target, "127.0.0.1:8080"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusFound || err != nil || loc.Host != "localhost:8080" || loc.User != nil {
			t.Errorf("request-target %q: %d Location %q", target, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestRedirectToBaseURLRefusesBadBase(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "localhost:8080", "/idp", "ftp://x", "http://x/?a=b"} {
		if err := NewServer(Options{}).RedirectToBaseURL(base, nil); err == nil {
			t.Errorf("RedirectToBaseURL(%q) accepted", base)
		}
	}
}

// TestCSRFRefusalSaysWhy: every refused form leaves a log line with the
// reason, so an Origin that is not the base URL's is visible at once.
func TestCSRFRefusalSaysWhy(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	var logged syncBuffer
	ti := newTestIdP(t, s, false, func(_ *testing.T, o *IdPOptions) { o.Logger = testLogger(&logged) })
	u, _ := url.Parse(ti.url)
	other := "http://localhost:" + u.Port()
	for _, tc := range []struct {
		name   string
		origin string
		header map[string]string
		token  func(b *browser) string
		want   string
	}{
		{name: "origin of another address", origin: other, token: func(b *browser) string { return b.csrf("/login") },
			want: "Origin " + other + " is not " + ti.url},
		{name: "no origin or referer", origin: "-", token: func(b *browser) string { return b.csrf("/login") },
			want: "neither an Origin nor a Referer"},
		{name: "referer of another address", origin: "-", header: map[string]string{"Referer": other + "/login"},
			token: func(b *browser) string { return b.csrf("/login") }, want: "Referer " + other + " is not " + ti.url},
		{name: "no cookie", origin: ti.url, token: func(*browser) string { return "" }, want: "no valid idpbridge_csrf cookie"},
		{name: "token of another cookie", origin: ti.url, token: func(b *browser) string {
			tok := b.csrf("/login")
			b.setCookie("idpbridge_csrf", strings.Repeat("A", 43))
			return tok
		}, want: "does not match the browser's idpbridge_csrf cookie"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ti.browser()
			b.Origin = tc.origin
			tok := tc.token(b)
			before := len(logged.String())
			res := b.post("/login", url.Values{"csrf_token": {tok}, "username": {"alice"}, "password": {alicePassword}}, tc.header)
			if res.code != http.StatusForbidden {
				t.Fatalf("POST /login = %d, want 403", res.code)
			}
			line := logged.String()[before:]
			if !strings.Contains(line, "form refused") || !strings.Contains(line, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, line)
			}
			if tok != "" && strings.Contains(line, tok) {
				t.Errorf("the log carries the CSRF token:\n%s", line)
			}
		})
	}
}
