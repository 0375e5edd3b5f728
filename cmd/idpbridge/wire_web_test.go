package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestServeSignInAndDisable signs the first-start admin in through the
// served login form, then disables the account with the CLI while serve
// runs: the session ends at once.
func TestServeSignInAndDisable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	serveOnce(t, c, path, func(_, stdout string) {
		if !strings.Contains(stdout, "Sign in at "+base+"/login") {
			t.Errorf("banner does not say where to sign in:\n%s", stdout)
		}
		if !strings.Contains(stdout, "Admin console at "+base+"/admin/ (members of idpbridge-admins") {
			t.Errorf("banner does not say where the admin console is:\n%s", stdout)
		}
		m := passwordLine.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no admin password in the banner:\n%s", stdout)
		}
		fetch := newWebClient(t, base).form

		code, body, _ := fetch("GET", "/login", nil)
		tok := csrfField.FindStringSubmatch(body)
		if code != 200 || tok == nil {
			t.Fatalf("GET /login = %d:\n%s", code, body)
		}
		code, body, loc := fetch("POST", "/login", url.Values{"csrf_token": {tok[1]}, "username": {"admin"}, "password": {m[1]}})
		if code != http.StatusSeeOther || loc != "/" {
			t.Fatalf("POST /login = %d %q:\n%s", code, loc, body)
		}
		if code, body, _ := fetch("GET", "/", nil); code != 200 || !strings.Contains(body, "<strong>admin</strong>") {
			t.Fatalf("portal = %d:\n%s", code, body)
		}

		if out, stderr, code := c.run("", "user", "disable", "admin", "--config", path); code != 0 {
			t.Fatalf("user disable: %d %s %s", code, out, stderr)
		}
		if code, _, loc := fetch("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Fatalf("portal after user disable = %d %q, want a redirect to the login form", code, loc)
		}
		// The session stays revoked when the account is enabled again.
		if _, _, code := c.run("", "user", "enable", "admin", "--config", path); code != 0 {
			t.Fatal("user enable failed")
		}
		if code, _, _ := fetch("GET", "/", nil); code != http.StatusSeeOther {
			t.Fatalf("portal after enable = %d: a revoked session came back", code)
		}
	})
}

func TestLoginConfigValidation(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeRawConfig(t, `
server:
  trusted_proxies: [10.0.0.0/8, "192.0.2.1", "not-a-cidr", "10.0.0.0/33"]
login:
  session_lifetime: 10s
  rate_limit: {max_failures_per_user: 0, max_failures_per_address: -1, window: 0s}
`)
	_, stderr, code := c.run("", "config", "check", "--config", path)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s", code, stderr)
	}
	for _, want := range []string{
		"server.trusted_proxies[2]:", "server.trusted_proxies[3]:", "login.session_lifetime:",
		"login.rate_limit.max_failures_per_user:", "login.rate_limit.max_failures_per_address:", "login.rate_limit.window:",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "trusted_proxies[0]") || strings.Contains(stderr, "trusted_proxies[1]") {
		t.Errorf("a valid proxy was refused:\n%s", stderr)
	}

	path = writeRawConfig(t, "login:\n  rate_limit: {max_failures_per_user: 3}\n")
	cfg, err := LoadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if rl := cfg.Login.RateLimit; rl.MaxFailuresPerUser != 3 || rl.MaxFailuresPerAddress != 20 || rl.Window != defaultLoginConfig().RateLimit.Window {
		t.Fatalf("a partial rate_limit does not keep the other defaults: %+v", rl)
	}
}
