package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store/postgres/pgtest"
)

// onBothStores runs fn against an SQLite and a PostgreSQL configuration.
func onBothStores(t *testing.T, fn func(t *testing.T, pg bool)) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, pg)
		})
	}
}

// peopleConfig returns a configuration (body after the database section)
// on SQLite, or on a fresh PostgreSQL schema named through c's DBURL.
func peopleConfig(t *testing.T, c *cli, pg bool, body string) string {
	if pg {
		c.env["DBURL"] = pgtest.Schema(t)
		body = "database:\n  url_env: DBURL\n" + body
	}
	return writeConfig(t, body)
}

// listUsersJSON runs 'user list --json' and decodes it.
func listUsersJSON(t *testing.T, c *cli, path string) (string, []userJSON) {
	t.Helper()
	out, stderr, code := c.run("", "user", "list", "--json", "--config", path)
	var users []userJSON
	if err := json.Unmarshal([]byte(out), &users); code != 0 || err != nil {
		t.Fatalf("user list --json = %d, %v:\n%s%s", code, err, out, stderr)
	}
	return out, users
}

// adminRecord returns the one audit record of event, decoded.
func adminRecord(t *testing.T, c *cli, path string, event audit.AdminAction) audit.AdminChange {
	t.Helper()
	out, stderr, code := c.run("", "audit", "lookup", "--since", "-1h", "--event", string(event), "--json", "--config", path)
	var page struct{ Events []audit.Record }
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Events) != 1 {
		t.Fatalf("audit lookup %s = %d, %v:\n%s%s", event, code, err, out, stderr)
	}
	var ch audit.AdminChange
	if err := json.Unmarshal(page.Events[0].RequestParameters, &ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestUserSet: 'user set' replaces the attributes it names (KEY= removes
// one), leaves the others, replaces the group list when --group is given,
// and records the values before and after in AdminUserUpdated.
func TestUserSet(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		c := newCLI(t)
		c.env["USER"] = "operator"
		path := peopleConfig(t, c, pg, "")
		if _, stderr, code := c.run("", "user", "add", "diego", "--config", path, "--group", "g1", "--group", "g2",
			"--attr", "mail=diego@example.com", "--attr", "department=Platform", "--attr", "title=Engineer"); code != 0 {
			t.Fatalf("user add: %s", stderr)
		}
		out, stderr, code := c.run("", "user", "set", "DIEGO", "--config", path,
			"--attr", "mail=d@example.com", "--attr", "mail=diego.ramirez@example.com", "--attr", "title=", "--attr", "cost=42")
		if code != 0 || out != "updated user DIEGO\n" {
			t.Fatalf("user set --attr = %d:\n%s%s", code, out, stderr)
		}
		_, users := listUsersJSON(t, c, path)
		want := map[string][]string{"mail": {"d@example.com", "diego.ramirez@example.com"}, "department": {"Platform"}, "cost": {"42"}}
		if len(users) != 1 || !reflect.DeepEqual(users[0].Attributes, want) || !reflect.DeepEqual(users[0].Groups, []string{"g1", "g2"}) {
			t.Fatalf("after user set --attr: %+v\nwant attributes %v and groups g1,g2 untouched", users, want)
		}
		ch := adminRecord(t, c, path, audit.AdminUserUpdated)
		if ch.Target != "diego" || ch.TargetType != audit.TargetUser ||
			ch.Details["before"] != `{"attributes":{"cost":null,"mail":["diego@example.com"],"title":["Engineer"]}}` ||
			ch.Details["after"] != `{"attributes":{"cost":["42"],"mail":["d@example.com","diego.ramirez@example.com"],"title":null}}` {
			t.Fatalf("AdminUserUpdated = %+v", ch)
		}

		if _, stderr, code := c.run("", "user", "set", "diego", "--group", "g3", "--group", "g1", "--group", "g3", "--config", path); code != 0 {
			t.Fatalf("user set --group: %s", stderr)
		}
		if _, users = listUsersJSON(t, c, path); !reflect.DeepEqual(users[0].Groups, []string{"g3", "g1"}) || !reflect.DeepEqual(users[0].Attributes, want) {
			t.Fatalf("after user set --group g3 --group g1: %+v", users[0])
		}
		if _, stderr, code := c.run("", "user", "set", "diego", "--group", "", "--config", path); code != 0 {
			t.Fatalf("user set --group '': %s", stderr)
		}
		if _, users = listUsersJSON(t, c, path); len(users[0].Groups) != 0 {
			t.Fatalf("after user set --group '': groups %v, want none", users[0].Groups)
		}

		_, stderr, code = c.run("", "user", "set", "nobody", "--attr", "a=b", "--config", path)
		if code != 1 || !strings.Contains(stderr, `no user "nobody"`) {
			t.Fatalf("user set of a missing user = %d %q", code, stderr)
		}
	})
}

// TestUserSetUsage: each wrong use of 'user set' is a usage error naming
// the problem, and changes nothing.
func TestUserSetUsage(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	if _, stderr, code := c.run("", "user", "add", "bob", "--attr", "k=v", "--config", path); code != 0 {
		t.Fatal(stderr)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing to change", []string{"bob"}, "nothing to change: give --attr KEY=VALUE or --group NAME"},
		{"no name", []string{"--attr", "k=v"}, "missing the user NAME"},
		{"two names", []string{"bob", "carol", "--attr", "k=v"}, `unexpected argument "carol"`},
		{"no equals sign", []string{"bob", "--attr", "k"}, `--attr "k": expected KEY=VALUE`},
		{"empty key", []string{"bob", "--attr", "=v"}, `--attr "=v": expected KEY=VALUE`},
		{"remove and set one key", []string{"bob", "--attr", "k=", "--attr", "k=w"}, "--attr k= removes k, but other --attr flags set it"},
		{"no groups and a group", []string{"bob", "--group", "", "--group", "g"}, "--group '' (no groups) cannot be combined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := c.run("", append([]string{"user", "set", "--config", path}, tc.args...)...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("user set %v = exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
			}
		})
	}
	if _, users := listUsersJSON(t, c, path); !reflect.DeepEqual(users[0].Attributes, map[string][]string{"k": {"v"}}) {
		t.Fatalf("a refused user set changed bob: %+v", users[0])
	}
}

// TestUserListJSON: 'user list' shows groups and attributes; --json is an
// array with names, state, groups, attributes and times, and no hash.
func TestUserListJSON(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	c.run("", "user", "add", "gone", "--config", path)
	c.run("", "user", "delete", "gone", "--config", path)
	out, _ := listUsersJSON(t, c, path)
	if strings.TrimSpace(out) != "[]" {
		t.Fatalf("user list --json with no users = %q, want []", out)
	}
	before := time.Now().UTC().Add(-time.Second)
	c.run("", "user", "add", "zoe", "--config", path)
	c.run("", "user", "add", "Alice", "--group", "g1", "--attr", "mail=a@example.com", "--attr", "display name=Alice A", "--config", path)
	c.run("", "user", "disable", "zoe", "--config", path)

	out, users := listUsersJSON(t, c, path)
	if strings.Contains(out, "argon2") || strings.Contains(strings.ToLower(out), "hash") {
		t.Fatalf("user list --json shows the password hash:\n%s", out)
	}
	for _, field := range []string{`"username"`, `"disabled"`, `"groups"`, `"attributes"`, `"createdAt"`, `"updatedAt"`} {
		if !strings.Contains(out, field) {
			t.Errorf("user list --json has no %s field:\n%s", field, out)
		}
	}
	if len(users) != 2 || users[0].Username != "Alice" || users[1].Username != "zoe" {
		t.Fatalf("user list --json = %+v, want Alice then zoe", users)
	}
	a, z := users[0], users[1]
	if a.Disabled || !reflect.DeepEqual(a.Groups, []string{"g1"}) ||
		!reflect.DeepEqual(a.Attributes, map[string][]string{"mail": {"a@example.com"}, "display name": {"Alice A"}}) ||
		a.CreatedAt.Before(before) || a.UpdatedAt.Before(a.CreatedAt) {
		t.Errorf("Alice = %+v", a)
	}
	if !z.Disabled || z.Groups == nil || len(z.Groups) != 0 || z.Attributes == nil || !z.UpdatedAt.After(z.CreatedAt) && !z.UpdatedAt.Equal(z.CreatedAt) {
		t.Errorf("zoe = %+v, want disabled, [] groups, {} attributes", z)
	}

	out, _, _ = c.run("", "user", "list", "--config", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") || !strings.Contains(lines[0], "ATTRIBUTES") ||
		!strings.HasSuffix(lines[1], `"display name=Alice A" mail=a@example.com`) || !strings.Contains(lines[1], "g1") ||
		!strings.HasSuffix(lines[2], "-") {
		t.Fatalf("user list:\n%s", out)
	}
}

// TestUserDeleteEndsSessions: while serve runs, 'user delete bob' removes
// bob and ends every browser session of bob in the same transaction as its
// AdminUserDeleted record; carol's session stays, and bob cannot sign in.
func TestUserDeleteEndsSessions(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		c := newCLI(t)
		c.env["USER"] = "operator"
		kek := make([]byte, 32)
		rand.Read(kek)
		c.env["KEK"] = base64.StdEncoding.EncodeToString(kek)
		addr := freeAddr(t)
		conf := fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: warn}\nkeys:\n  encryption_key_env: KEK\n", addr, addr)
		if pg {
			c.env["DBURL"] = pgtest.Schema(t)
			conf += "database:\n  url_env: DBURL\n"
		}
		path := writeRawConfig(t, conf)
		const password = "bob-and-carol-password"
		for _, u := range []string{"bob", "carol"} {
			if out, stderr, code := c.run(password+"\n", "user", "add", u, "--password-stdin", "--group", "g", "--config", path); code != 0 {
				t.Fatalf("user add %s: %d %s %s", u, code, out, stderr)
			}
		}
		serveOnce(t, c, path, func(base, _ string) {
			laptop, phone, carol := newWebClient(t, base), newWebClient(t, base), newWebClient(t, base)
			laptop.signIn("bob", password)
			phone.signIn("bob", password)
			carol.signIn("carol", password)

			out, stderr, code := c.run("", "user", "delete", "BOB", "--config", path)
			if code != 0 || out != "deleted user BOB; ended 2 browser sessions\n" {
				t.Fatalf("user delete = %d:\n%s%s", code, out, stderr)
			}
			for name, w := range map[string]*webClient{"laptop": laptop, "phone": phone} {
				if code, _, loc := w.form("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
					t.Errorf("bob's %s cookie after user delete: GET / = %d %q, want a redirect to the login form", name, code, loc)
				}
			}
			if code, _, _ := carol.form("GET", "/", nil); code != http.StatusOK {
				t.Errorf("carol's session after bob's deletion = %d, want 200", code)
			}
			_, users := listUsersJSON(t, c, path)
			if len(users) != 1 || users[0].Username != "carol" {
				t.Fatalf("users after deleting bob = %+v", users)
			}

			// A new account named bob is another person: the deleted
			// account's sessions were ended, not merely orphaned.
			if out, stderr, code := c.run("a-new-bob-password\n", "user", "add", "bob", "--password-stdin", "--config", path); code != 0 {
				t.Fatalf("user add after delete = %d %s%s", code, out, stderr)
			}
			for name, w := range map[string]*webClient{"laptop": laptop, "phone": phone} {
				if code, _, loc := w.form("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
					t.Errorf("the deleted bob's %s cookie opens the new bob's account: GET / = %d %q", name, code, loc)
				}
			}
		})
		ch := adminRecord(t, c, path, audit.AdminUserDeleted)
		if ch.Target != "bob" || ch.TargetType != audit.TargetUser || ch.Details["browserSessionsRevoked"] != "2" ||
			ch.Details["before"] != `{"attributes":{},"disabled":false,"groups":["g"]}` {
			t.Fatalf("AdminUserDeleted = %+v, want target bob, browserSessionsRevoked 2 and the state before", ch)
		}
		_, stderr, code := c.run("", "user", "delete", "nobody", "--config", path)
		if code != 1 || !strings.Contains(stderr, `no user "nobody"`) {
			t.Fatalf("user delete of a missing user = %d %q", code, stderr)
		}
	})
}

// TestPasswordPolicyCLI: 'user add' and 'user passwd' refuse a password
// shorter than login.password_min_length (default 12) or on the common
// list, in any case, naming the rule; nothing is stored; generated
// passwords pass.
func TestPasswordPolicyCLI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	strict := writeConfig(t, "login:\n  password_min_length: 16\n")
	for _, tc := range []struct {
		name, password, config, want string
	}{
		{"eleven characters", "abcdefghij1", path, "at least 12 characters, this one has 11"},
		{"common", "Password1234", path, "commonly used passwords"},
		{"common, upper case", "QWERTYUIOP123", path, "commonly used passwords"},
		{"configured minimum", "fifteen-chars-x", strict, "at least 16 characters, this one has 15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, verb := range []string{"add", "passwd"} {
				_, stderr, code := c.run(tc.password+"\n", "user", verb, "policy-"+verb, "--password-stdin", "--config", tc.config)
				if code != 1 || !strings.Contains(stderr, "password policy: ") || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, tc.password) {
					t.Errorf("user %s with %q = exit %d, stderr %q; want exit 1 naming %q, without the password", verb, tc.password, code, stderr, tc.want)
				}
			}
		})
	}
	out, _, _ := c.run("", "user", "list", "--json", "--config", path)
	if strings.Contains(out, "policy-") {
		t.Fatalf("a refused password stored a user:\n%s", out)
	}
	if _, stderr, code := c.run("twelve-chars\n", "user", "add", "ok", "--password-stdin", "--config", path); code != 0 {
		t.Fatalf("a 12-character password: %s", stderr)
	}
	if _, stderr, code := c.run("sixteen-chars-ok\n", "user", "add", "ok", "--password-stdin", "--config", strict); code != 0 {
		t.Fatalf("a 16-character password under password_min_length 16: %s", stderr)
	}
	if _, stderr, code := c.run("sixteen-chars-ok\n", "user", "passwd", "ok", "--password-stdin", "--config", strict); code != 0 {
		t.Fatalf("user passwd with a 16-character password under password_min_length 16: %s", stderr)
	}
	for i := range 200 {
		if err := (local.PasswordPolicy{MinLength: local.DefaultMinPasswordLength}).Check(randomPassword(rand.Reader)); err != nil {
			t.Fatalf("generated password %d: %v", i, err)
		}
	}
}

// TestPasswordMinLengthConfig: login.password_min_length defaults to 12
// and must be between 8 and 1024.
func TestPasswordMinLengthConfig(t *testing.T) {
	t.Parallel()
	if got := DefaultConfig().Login.PasswordMinLength; got != 12 {
		t.Errorf("default login.password_min_length = %d, want 12", got)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"too low", "7", "login.password_min_length: must be between 8 and 1024, got 7"},
		{"zero", "0", "login.password_min_length: must be between 8 and 1024, got 0"},
		{"too high", "1025", "login.password_min_length: must be between 8 and 1024, got 1025"},
		{"not a number", "long", "login.password_min_length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := newCLI(t).run("", "config", "check", "--config", writeRawConfig(t, "login:\n  password_min_length: "+tc.value+"\n"))
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("config check = exit %d, stderr %q; want exit 2 naming %q", code, stderr, tc.want)
			}
		})
	}
}

// TestUserSetConcurrent: a burst of 'user set' commands, each setting its
// own attribute of one user, loses none of them.
func TestUserSetConcurrent(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, pg bool) {
		c := newCLI(t)
		path := peopleConfig(t, c, pg, "")
		if _, stderr, code := c.run("", "user", "add", "diego", "--attr", "mail=diego@example.com", "--config", path); code != 0 {
			t.Fatal(stderr)
		}
		const n = 6
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if out, stderr, code := c.run("", "user", "set", "diego", "--attr", fmt.Sprintf("k%d=v%d", i, i), "--config", path); code != 0 {
					t.Errorf("user set %d = %d %s%s", i, code, out, stderr)
				}
			}()
		}
		wg.Wait()
		_, users := listUsersJSON(t, c, path)
		want := map[string][]string{"mail": {"diego@example.com"}}
		for i := range n {
			want[fmt.Sprintf("k%d", i)] = []string{fmt.Sprintf("v%d", i)}
		}
		if !reflect.DeepEqual(users[0].Attributes, want) {
			t.Fatalf("after %d concurrent user set: %v\nwant %v", n, users[0].Attributes, want)
		}
	})
}
