package main

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
)

// TestGlobalFlagsBeforeCommand: --config may stand before the command as
// well as after it.
func TestGlobalFlagsBeforeCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	if _, stderr, code := c.run("pw-of-alice-long\n", "--config", path, "user", "add", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("--config FILE user add: code %d stderr %s", code, stderr)
	}
	out, stderr, code := c.run("", "--config="+path, "user", "list")
	if code != 0 || !regexp.MustCompile(`(?m)^alice\s+false\s+-\s+-$`).MatchString(out) {
		t.Fatalf("--config=FILE user list: code %d\n%s%s", code, out, stderr)
	}
	// The revocation reads the same database: the key is unknown there.
	_, stderr, code = c.run("", "--config", path, "sts", "revoke", "ASIAAAAAAAAAAAAAAAAA")
	if code != 1 || !strings.Contains(stderr, "no STS session has the access key ID ASIAAAAAAAAAAAAAAAAA") {
		t.Fatalf("--config FILE sts revoke: code %d stderr %q", code, stderr)
	}
	if out, _, code := c.run("", "-config", path, "sts", "sessions"); code != 0 || !strings.HasPrefix(out, "ACCESS KEY ID") {
		t.Fatalf("-config FILE sts sessions: code %d\n%s", code, out)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", []string{"--config", path}, "no command after the flags"},
		{"no value", []string{"--config"}, "flag needs an argument: --config"},
		{"unknown flag", []string{"--config", path, "--nope", "user", "list"}, "user list: flag provided but not defined: -nope"},
		{"unknown command", []string{"--config", path, "frobnicate"}, `unknown command "frobnicate"`},
	} {
		_, stderr, code := c.run("", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s %v: code %d stderr %q, want 2 and %q", tc.name, tc.args, code, stderr, tc.want)
		}
	}
	if out, _, code := c.run("", "--config", path, "user", "list", "--help"); code != 0 || !strings.Contains(out, "Usage: idpbridge user list") {
		t.Errorf("--config FILE user list --help: code %d\n%s", code, out)
	}
}

// serveWith runs serve with args until it listens, hands check the
// address and the banner, then stops it.
func serveWith(t *testing.T, c *cli, args []string, check func(addr, stdout string)) {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader,
		Started: func(a string) { addr <- a }}
	done := make(chan int, 1)
	go func() { done <- m.Execute(ctx, args) }()
	select {
	case a := <-addr:
		check(a, out.String())
	case code := <-done:
		cancel()
		t.Fatalf("serve exited %d: %s", code, errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}
}

// TestServeListenAndBaseURLFlags: --listen and --base-url override the
// file; a base URL on the file's port follows --listen; the banner's audit
// lookup hint carries serve's --config.
func TestServeListenAndBaseURLFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// The file's listen port is the base URL's: the base URL follows.
	path := writeRawConfig(t, "server:\n  listen: 127.0.0.1:8080\n  base_url: http://localhost:8080\nlog: {level: warn}\n")
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	serveWith(t, c, []string{"--config", path, "serve", "--listen", addr}, func(got, stdout string) {
		if got != addr {
			t.Errorf("serve --listen %s listens on %s", addr, got)
		}
		if !strings.Contains(stdout, "is running on http://localhost:"+port+" ") {
			t.Errorf("the base URL does not follow --listen's port %s:\n%s", port, stdout)
		}
		if !strings.Contains(stdout, "audit lookup --source-identity admin --config "+path+"\n") {
			t.Errorf("the banner's audit lookup hint lacks --config %s:\n%s", path, stdout)
		}
		if code, _ := get(t, "http://"+got+"/healthz"); code != 200 {
			t.Errorf("/healthz on --listen = %d", code)
		}
	})

	// --base-url wins over the file and over the port rule.
	addr = freeAddr(t)
	serveWith(t, c, []string{"serve", "--listen", addr, "--base-url", "https://idp.example.test", "--config", path}, func(got, stdout string) {
		if got != addr || !strings.Contains(stdout, "is running on https://idp.example.test ") {
			t.Errorf("serve --listen %s --base-url https://idp.example.test: listens on %s\n%s", addr, got, stdout)
		}
	})

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--config", path, "--listen", "8080"}, `serve: --listen "8080" is not host:port`},
		{[]string{"serve", "--config", path, "--base-url", "localhost:8080"}, `serve: --base-url "localhost:8080" is not an absolute http:// or https:// URL`},
	} {
		_, stderr, code := c.run("", tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: code %d stderr %q, want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestConfigArgQuotes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                      "",
		"/etc/idpbridge.yaml":   " --config /etc/idpbridge.yaml",
		"my config.yaml":        " --config 'my config.yaml'",
		"it's.yaml":             ` --config 'it'\''s.yaml'`,
		"C:/x/idp-bridge_1.yml": " --config C:/x/idp-bridge_1.yml",
	} {
		if got := configArg(in); got != want {
			t.Errorf("configArg(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadOnlyCommandsWithoutDatabase: commands that read existing data,
// pointed at an SQLite file that does not exist, say so and create
// nothing.
func TestReadOnlyCommandsWithoutDatabase(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	dataDir := filepath.Join(filepath.Dir(path), "data")
	db, _ := filepath.Abs(filepath.Join(dataDir, "idpbridge.db"))
	for _, args := range [][]string{
		{"audit", "lookup", "--source-identity", "admin"},
		{"audit", "export", "--since", "-1d", "--until", "-0d"},
		{"audit", "verify"},
		{"user", "list"},
		{"user", "disable", "admin"},
		{"mapping", "test", "--sp", "builtin", "--user", "admin"},
		{"sts", "sessions"},
		{"sts", "revoke", "ASIAAAAAAAAAAAAAAAAA"},
		{"keys", "list"},
	} {
		_, stderr, code := c.run("", append(args, "--config", path)...)
		want := "no database at " + db + " — is data_dir in " + path + " the one serve uses?"
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("%v: code %d stderr %q, want 1 and %q", args, code, stderr, want)
		}
		if _, err := os.Stat(dataDir); err == nil {
			t.Fatalf("%v created %s", args, dataDir)
		}
	}
}

// TestReadOnlyCommandWithoutConfig is the newcomer's mistake: a command run
// in another folder than serve, without --config.
func TestReadOnlyCommandWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := newCLI(t)
	for _, args := range [][]string{{"audit", "lookup", "--source-identity", "admin"}, {"user", "list"}, {"sts", "sessions"},
		{"mapping", "test", "--sp", "builtin", "--user", "admin"}} {
		_, stderr, code := c.run("", args...)
		want := "no database at " + filepath.Join(dir, "idpbridge-data", "idpbridge.db") + " — is --config missing?"
		if code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "migrate") {
			t.Errorf("%v: code %d stderr %q, want 1 and %q", args, code, stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "idpbridge-data")); err == nil {
		t.Fatal("a read-only command created ./idpbridge-data")
	}
}

// TestHelpWholeSentences: the command list shows each command's first
// sentence whole, wrapped under its column.
func TestHelpWholeSentences(t *testing.T) {
	t.Parallel()
	out, _, code := newCLI(t).run("", "--help")
	if code != 0 {
		t.Fatalf("--help: code %d", code)
	}
	_, list, ok := strings.Cut(out, "Commands:\n")
	list, _, ok2 := strings.Cut(list, "\n\n")
	if !ok || !ok2 {
		t.Fatalf("--help has no command list:\n%s", out)
	}
	descs := map[string]string{}
	last := ""
	for _, line := range strings.Split(list, "\n") {
		if len(line) > helpWidth {
			t.Errorf("line longer than %d: %q", helpWidth, line)
		}
		if strings.HasPrefix(line, strings.Repeat(" ", helpIndent)) {
			descs[last] += " " + strings.TrimSpace(line)
			continue
		}
		name, desc := strings.TrimSpace(line[:helpIndent-1]), line[helpIndent:]
		descs[name], last = desc, name
	}
	if len(descs) != len(commands) {
		t.Errorf("%d commands listed, %d registered", len(descs), len(commands))
	}
	for name, f := range commands {
		summary := strings.Join(strings.Fields(f().summary()), " ")
		d := descs[name]
		if !strings.HasSuffix(d, ".") || !strings.HasPrefix(summary, d) {
			t.Errorf("%s: --help shows %q, not a whole sentence of %q", name, d, summary)
		}
	}
	if !strings.Contains(out, "Usage: idpbridge [--config FILE] COMMAND [flags]") {
		t.Errorf("--help does not say flags may come first:\n%s", out)
	}
}

// TestAuditLookupWho: the WHO column names people by user name and
// principals by ARN, never by the SAML provider's hash.
func TestAuditLookupWho(t *testing.T) {
	t.Parallel()
	const hash = "H1NHx7w4Fii+riemvvS03ZiGqOU="
	for _, tc := range []struct {
		id   audit.UserIdentity
		want string
	}{
		{audit.SAMLUser(hash, "admin"), "admin"},
		{audit.WebIdentityUser("https://issuer.example.test", "client", "diego"), "diego"},
		{audit.IdpbridgeUser("admin", "local"), "local:admin"},
		{audit.IAMUser("arn:aws:iam::123456789012:user/ops", "AIDAEXAMPLE", "AKIAEXAMPLE"), "arn:aws:iam::123456789012:user/ops"},
		{audit.AssumedRole(audit.RoleSession{RoleID: "AROAEXAMPLE", RoleARN: "arn:aws:iam::123456789012:role/Developer", SessionName: "admin"}),
			"arn:aws:sts::123456789012:assumed-role/Developer/admin"},
		{audit.AWSAccount("AIDAEXAMPLE", "111122223333"), "account 111122223333"},
		{audit.Anonymous(), ""},
	} {
		if got := tc.id.Who(); got != tc.want || strings.Contains(got, hash) {
			t.Errorf("Who(%s %s) = %q, want %q", tc.id.Type, tc.id.PrincipalID, got, tc.want)
		}
	}
}
