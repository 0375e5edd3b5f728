package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/connector/local"
	"idpbridge/idp/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// cli runs one idpbridge command in-process.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli { return &cli{t: t, env: map[string]string{}} }

func (c *cli) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader}
	code = m.Execute(context.Background(), args)
	return out.String(), errb.String(), code
}

// writeConfig writes a configuration with data_dir in a temp dir plus extra
// YAML, and returns its path.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	return writeRawConfig(t, "server:\n  listen: 127.0.0.1:0\nlog: {level: warn}\n"+extra)
}

// writeRawConfig writes data_dir (in a temp dir) plus body.
func writeRawConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body = fmt.Sprintf("data_dir: %s\n%s", filepath.Join(dir, "data"), body)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExampleConfigValidates(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig("../../config.example.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	def := DefaultConfig()
	if cfg.Server.Listen != def.Server.Listen || cfg.Server.BaseURL != def.Server.BaseURL || cfg.DataDir != def.DataDir ||
		cfg.Server.MaxBodyBytes != def.Server.MaxBodyBytes || cfg.Server.IdleTimeout != def.Server.IdleTimeout {
		t.Fatalf("config.example.yaml does not show the defaults: %+v", cfg.Server)
	}
}

func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	t.Parallel()
	// Every key of the redacted dump of the defaults appears in the example.
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	dump, _ := cfg.Redacted()
	for _, line := range strings.Split(string(dump), "\n") {
		key, _, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || key == "" || strings.HasPrefix(key, "-") {
			continue
		}
		if !regexp.MustCompile(`(?m)^\s*#?\s*` + regexp.QuoteMeta(key) + `:`).Match(example) {
			t.Errorf("config.example.yaml does not document %q", key)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeRawConfig(t, `
database:
  url: mysql://nope
  colour: blue
server:
  base_url: ftp://x
  max_body_bytes: lots
log:
  format: xml
`)
	_, stderr, code := c.run("", "config", "check", "--config", path)
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr: %s", code, stderr)
	}
	for _, want := range []string{
		"database.colour: unknown key",
		"server.max_body_bytes: expected a whole number",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	// Semantic problems are all reported at once.
	path = writeRawConfig(t, `
database:
  url: mysql://nope
server:
  base_url: ftp://x
  listen: nonsense
log:
  format: xml
`)
	_, stderr, code = c.run("", "config", "check", "--config", path)
	if code != 2 {
		t.Fatalf("exit code %d, want 2", code)
	}
	for _, want := range []string{"4 problems", "database.url: must be a postgres:// URL", "server.base_url:", "server.listen:", "log.format:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestConfigMissingFile(t *testing.T) {
	t.Parallel()
	_, stderr, code := newCLI(t).run("", "config", "check", "--config", "/nonexistent/idpbridge.yaml")
	if code != 2 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
}

func TestConfigSecretsFromEnvAndRedaction(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "database:\n  url_env: DBURL\n")
	_, stderr, code := c.run("", "config", "check", "--config", path)
	if code != 2 || !strings.Contains(stderr, "database.url: environment variable DBURL is empty or unset") {
		t.Fatalf("unset env: code %d stderr %q", code, stderr)
	}
	c.env["DBURL"] = "postgres://idp:hunter2@db:5432/idp"
	if _, stderr, code := c.run("", "config", "check", "--config", path); code != 0 {
		t.Fatalf("env set: code %d stderr %q", code, stderr)
	}

	path = writeConfig(t, "database:\n  url: postgres://idp:hunter2@db:5432/idp?password=hunter3\n")
	out, _, code := c.run("", "config", "check", "--print", "--config", path)
	if code != 0 || strings.Contains(out, "hunter2") || strings.Contains(out, "hunter3") || !strings.Contains(out, "REDACTED") {
		t.Fatalf("--print leaks or fails (code %d):\n%s", code, out)
	}
}

func TestFlagsAfterPositionals(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	out, stderr, code := c.run("s3cret-Pass-phrase\n", "user", "add", "alice", "--group", "g1", "--config", path,
		"--attr", "department=Platform", "--group", "g2", "--password-stdin", "--attr", "mail=a@example.com", "--attr", "mail=alice@example.com")
	if code != 0 {
		t.Fatalf("user add: code %d stderr %s", code, stderr)
	}
	if strings.Contains(out, "s3cret") {
		t.Fatal("a password read from stdin is echoed")
	}
	out, _, _ = c.run("", "user", "list", "--config", path)
	if !regexp.MustCompile(`(?m)^alice\s+false\s+g1,g2\s+department=Platform mail=a@example.com mail=alice@example.com$`).MatchString(out) {
		t.Fatalf("user list:\n%s", out)
	}
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	if _, stderr, code := c.run("pw-one-of-bob-x\n", "user", "add", "--config", path, "--password-stdin", "bob"); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	_, stderr, code := c.run("pw-two-of-bob-x\n", "user", "add", "BOB", "--password-stdin", "--config", path)
	if code != 1 || !strings.Contains(stderr, `user "BOB" already exists`) {
		t.Fatalf("duplicate add: code %d stderr %q", code, stderr)
	}
	_, stderr, code = c.run("\n", "user", "add", "carol", "--password-stdin", "--config", path)
	if code != 1 || !strings.Contains(stderr, "empty: refused") {
		t.Fatalf("empty password: code %d stderr %q", code, stderr)
	}
	_, stderr, code = c.run("", "user", "add", "dave", "--password-stdin", "--config", path)
	if code != 1 || !strings.Contains(stderr, "empty: refused") {
		t.Fatalf("no stdin: code %d stderr %q", code, stderr)
	}
	out, _, _ := c.run("", "user", "list", "--config", path)
	if strings.Contains(out, "carol") || strings.Contains(out, "dave") {
		t.Fatalf("a refused user was stored:\n%s", out)
	}
	if _, stderr, code := c.run("", "user", "disable", "bob", "--config", path); code != 0 {
		t.Fatalf("disable: %d %s", code, stderr)
	}
	out, _, _ = c.run("", "user", "list", "--config", path)
	if !regexp.MustCompile(`(?m)^bob\s+true\s+-\s+-$`).MatchString(out) {
		t.Fatalf("after disable:\n%s", out)
	}
	out, _, code = c.run("", "user", "passwd", "bob", "--config", path)
	if code != 0 || !regexp.MustCompile(`password: [A-Za-z0-9]{20}\n`).MatchString(out) {
		t.Fatalf("passwd with a generated password: %d\n%s", code, out)
	}
	_, stderr, code = c.run("pw-of-nobody-x\n", "user", "passwd", "nobody", "--password-stdin", "--config", path)
	if code != 1 || !strings.Contains(stderr, `no user "nobody"`) {
		t.Fatalf("passwd of a missing user: %d %q", code, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"user"}, "expected one of: user add"},
		{[]string{"user", "add"}, "missing the user NAME"},
		{[]string{"user", "add", "a", "b"}, `unexpected argument "b"`},
		{[]string{"serve", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"user", "add", "x", "--attr", "novalue"}, `--attr "novalue": expected KEY=VALUE`},
	} {
		_, stderr, code := c.run("", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q, want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	out, _, code := c.run("", "user", "add", "--help")
	if code != 0 || !strings.Contains(out, "Usage: idpbridge user add NAME") || !strings.Contains(out, "-password-stdin") {
		t.Errorf("--help: code %d\n%s", code, out)
	}
	out, _, code = c.run("")
	if code != 0 || !strings.Contains(out, "user passwd") {
		t.Errorf("no args: code %d\n%s", code, out)
	}
}

// serveOnce starts serve with the configuration at path, waits until it
// listens, hands the base URL to check, then stops it.
func serveOnce(t *testing.T, c *cli, path string, check func(base, stdout string)) {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader,
		Started: func(a string) { addr <- a }}
	done := make(chan int, 1)
	go func() { done <- m.Execute(ctx, []string{"serve", "--config", path}) }()
	select {
	case a := <-addr:
		check("http://"+a, out.String())
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}
func (b *syncBuffer) String() string { b.lock(); defer func() { <-b.mu }(); return b.buf.String() }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var passwordLine = regexp.MustCompile(`password: ([A-Za-z0-9]{20})`)
var keyLine = regexp.MustCompile(`signing key ([0-9a-f]{16})`)

func testServeTwice(t *testing.T, c *cli, path string) {
	var password, keyID string
	serveOnce(t, c, path, func(base, stdout string) {
		m := passwordLine.FindStringSubmatch(stdout)
		k := keyLine.FindStringSubmatch(stdout)
		if m == nil || k == nil {
			t.Fatalf("first start does not print the admin password and the key:\n%s", stdout)
		}
		password, keyID = m[1], k[1]
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			if code, body := get(t, base+p); code != 200 {
				t.Errorf("%s = %d %s", p, code, body)
			}
		}
	})
	serveOnce(t, c, path, func(base, stdout string) {
		if strings.Contains(stdout, "password:") || strings.Contains(stdout, "Created the SAML signing key") {
			t.Errorf("second start created an admin or a key again:\n%s", stdout)
		}
		if code, _ := get(t, base+"/readyz"); code != 200 {
			t.Errorf("/readyz on second start = %d", code)
		}
	})
	out, _, _ := c.run("", "user", "list", "--config", path)
	if !regexp.MustCompile(`(?m)^admin\s+false\s+idpbridge-admins\s+-$`).MatchString(out) {
		t.Errorf("user list after serve:\n%s", out)
	}
	out, _, _ = c.run("", "keys", "list", "--config", path)
	if !regexp.MustCompile(`(?m)^`+keyID+`\s+active\s`).MatchString(out) || strings.Count(out, "\n") != 2 {
		t.Errorf("keys list after two starts, want exactly the first key %s, active:\n%s", keyID, out)
	}
	// The first start's creations are in the audit trail, once each.
	out, _, _ = c.run("", "audit", "lookup", "--event", "AdminUserAdded", "--config", path)
	if strings.Count(out, "AdminUserAdded") != 1 {
		t.Errorf("audit lookup --event AdminUserAdded after two starts:\n%s", out)
	}
	out, _, _ = c.run("", "audit", "lookup", "--event", "AdminKeyCreated", "--json", "--config", path)
	if strings.Count(out, `"eventName": "AdminKeyCreated"`) != 1 || !strings.Contains(out, `"target": "`+keyID+`"`) {
		t.Errorf("audit lookup --event AdminKeyCreated after two starts:\n%s", out)
	}
	// The printed password is the admin's.
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader}
	defer m.Close()
	cfg, err := LoadConfig(path, m.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.openStore(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.GetUser(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := local.VerifyPassword(u.PasswordHash, password); !ok || err != nil {
		t.Errorf("the printed admin password does not verify: %v", err)
	}
}

func TestServeSQLite(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	testServeTwice(t, c, writeConfig(t, ""))
}

func TestServePostgres(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DBURL"] = pgtest.Schema(t)
	testServeTwice(t, c, writeConfig(t, "database:\n  url_env: DBURL\n"))
}

func TestServeUnreachableDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "database:\n  url: postgres://idp:pw@127.0.0.1:1/idp?connect_timeout=2\n")
	_, stderr, code := c.run("", "serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("code %d, stderr %q: want exit 1 and one line naming the host", code, stderr)
	}
}

func TestServeRefusesOldSchemaWithoutAutoMigrate(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "database:\n  auto_migrate: false\n")
	_, stderr, code := c.run("", "serve", "--config", path)
	if code != 1 || !strings.Contains(stderr, "run 'idpbridge migrate'") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	out, _, code := c.run("", "migrate", "--config", path)
	if code != 0 || !strings.Contains(out, "applied 0001_users_keys.sql") {
		t.Fatalf("migrate: %d\n%s", code, out)
	}
	out, _, _ = c.run("", "migrate", "--config", path)
	if !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate:\n%s", out)
	}
}

// TestExampleConfigFederationExample un-comments the federation example of
// config.example.yaml and checks that it validates, replaces the demo, and
// brings the principals it shows.
func TestExampleConfigFederationExample(t *testing.T) {
	t.Parallel()
	example := exampleFederation(t, "http://localhost:8080")
	path := filepath.Join(t.TempDir(), "example.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path, func(k string) string {
		if k == "DEVUSER_SECRET" {
			return "example-secret-of-devuser"
		}
		return ""
	})
	if err != nil {
		t.Fatalf("the federation example does not validate: %v", err)
	}
	if cfg.Demo || len(cfg.ServiceProviders) != 3 || len(cfg.Mappings) != 1 || len(cfg.STS.Accounts) != 1 ||
		len(cfg.STS.Accounts[0].Roles) != 1 || len(cfg.STS.Accounts[0].Users) != 1 {
		t.Fatalf("the example is not what it shows: demo=%v sps=%d mappings=%d accounts=%+v", cfg.Demo,
			len(cfg.ServiceProviders), len(cfg.Mappings), cfg.STS.Accounts)
	}
}

// webClient is a cookie-keeping HTTP client for a served idpbridge that
// does not follow redirects and sends base as the Origin of its POSTs.
type webClient struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newWebClient(t *testing.T, base string) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, base: base, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request with body of contentType and returns the status and
// the body.
func (w *webClient) do(method, path, contentType, origin, body string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// form sends a GET, or a POST of form from the server's own origin, and
// returns the status, the body and the Location header.
func (w *webClient) form(method, path string, form url.Values) (int, string, string) {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.base+path, strings.NewReader(form.Encode()))
	if method == "POST" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", w.base)
	}
	res, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

// signIn signs in through the login form.
func (w *webClient) signIn(user, password string) {
	w.t.Helper()
	code, body, _ := w.form("GET", "/login", nil)
	tok := csrfField.FindStringSubmatch(body)
	if code != 200 || tok == nil {
		w.t.Fatalf("GET /login = %d:\n%s", code, body)
	}
	form := url.Values{"csrf_token": {tok[1]}, "username": {user}, "password": {password}}
	if code, body, _ := w.form("POST", "/login", form); code != http.StatusSeeOther {
		w.t.Fatalf("POST /login as %s = %d:\n%s", user, code, body)
	}
}
