package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres/pgtest"
)

func TestAuditCLISQLite(t *testing.T) {
	t.Parallel()
	testAuditCLI(t, false)
}

func TestAuditCLIPostgres(t *testing.T) {
	t.Parallel()
	testAuditCLI(t, true)
}

// testAuditCLI runs serve (which creates the signing key and seals in the
// background) and reads the trail over /admin/api/events while the CLI
// changes a user; then drives audit lookup, seal, export, prune and verify.
func testAuditCLI(t *testing.T, pg bool) {
	c := newCLI(t)
	kek := make([]byte, 32)
	rand.Read(kek)
	c.env["KEK"] = base64.StdEncoding.EncodeToString(kek)
	c.env["USER"] = "operator"
	addr := freeAddr(t)
	base := "http://" + addr
	conf := fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\nkeys:\n  encryption_key_env: KEK\n"+
		"audit:\n  seal_every_rows: 3\n  seal_interval: 1s\n", addr, base)
	var dbURL string
	if pg {
		dbURL = pgtest.Schema(t)
		c.env["DBURL"] = dbURL
		conf += "database:\n  url_env: DBURL\n"
	}
	path := writeRawConfig(t, conf)
	cfg, err := LoadConfig(path, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}

	serveOnce(t, c, path, func(_, stdout string) {
		password := passwordLine.FindStringSubmatch(stdout)
		if password == nil {
			t.Fatalf("no admin password in the banner:\n%s", stdout)
		}
		web := newWebClient(t, base)
		fetch := func(method, path string, form url.Values) (int, string) {
			t.Helper()
			code, body, _ := web.form(method, path, form)
			return code, body
		}
		if code, body := fetch("GET", "/admin/api/events", nil); code != http.StatusUnauthorized {
			t.Fatalf("events without signing in = %d %s", code, body)
		}
		_, body := fetch("GET", "/login", nil)
		tok := csrfField.FindStringSubmatch(body)
		if tok == nil {
			t.Fatalf("login form:\n%s", body)
		}
		if code, _ := fetch("POST", "/login", url.Values{"csrf_token": {tok[1]}, "username": {"admin"}, "password": {password[1]}}); code != http.StatusSeeOther {
			t.Fatalf("sign-in = %d", code)
		}
		for _, name := range []string{"bob", "carol", "dave"} {
			if _, stderr, code := c.run("", "user", "add", name, "--group", "dev", "--config", path); code != 0 {
				t.Fatalf("user add %s: %s", name, stderr)
			}
		}
		if _, stderr, code := c.run("", "user", "disable", "bob", "--config", path); code != 0 {
			t.Fatalf("user disable: %s", stderr)
		}
		code, body := fetch("GET", "/admin/api/events?event=AdminUserAdded&limit=2", nil)
		var page struct {
			Events []audit.Record
			Next   string
		}
		if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil || len(page.Events) != 2 || page.Next == "" {
			t.Fatalf("GET /admin/api/events = %d %s", code, body)
		}
		var ch audit.AdminChange
		json.Unmarshal(page.Events[0].RequestParameters, &ch)
		if ch.Target != "dave" || page.Events[0].UserIdentity.PrincipalID != "cli:operator" {
			t.Fatalf("newest AdminUserAdded = %+v %+v", page.Events[0].UserIdentity, ch)
		}
		// The sealer runs in serve: the first start's two records, the sign-in
		// and the four admin changes get sealed.
		pollUntil(t, "serve to seal the trail", func() bool {
			out, stderr, code := c.run("", "audit", "verify", "--config", path)
			if code != 0 {
				t.Fatalf("audit verify while serving = %d\n%s%s", code, out, stderr)
			}
			return strings.Contains(out, "unsealed tail: 0 rows") && strings.Contains(out, "rows verified: 7")
		})
	})

	// Older events, written as the IdP and the STS would.
	s := openForTest(t, c, cfg)
	w := audit.NewWriter(s, audit.WriterOptions{})
	jan := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	if err := s.EnsureAuditPartitions(context.Background(), jan, jan.AddDate(0, 2, 0)); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	for i := range 6 {
		at := jan.AddDate(0, i/3, 0).Add(time.Duration(i) * time.Minute) // 3 in January, 3 in February
		who := []string{"Saanvi", "Diego"}[i%2]
		var apiErr *audit.APIError
		if i == 4 {
			apiErr = &audit.APIError{Code: "AccessDenied", Message: "denied"}
		}
		recs = append(recs, audit.AssumeRoleEvent(audit.Call{EventID: fmt.Sprintf("e%d", i), RequestID: fmt.Sprintf("r%d", i), Time: at,
			Region: "us-east-1", SourceIP: "192.0.2.1", RecipientAccount: "123456789012",
			Identity: audit.IAMUser("arn:aws:iam::123456789012:user/shared", "AIDAEXAMPLE", "AKIAEXAMPLE")},
			audit.AssumeRoleParams{RoleARN: "arn:aws:iam::123456789012:role/Prod", RoleSessionName: who, SourceIdentity: who}, nil, apiErr))
	}
	if err := w.Log(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := c.run("", "audit", "lookup", "--source-identity", "Saanvi", "--config", path)
	table := regexp.MustCompile(`(?m)^2026-01-10T09:02:00Z\s+AssumeRole\s+arn:aws:iam::123456789012:user/shared\s+Saanvi\s+arn:aws:iam::123456789012:role/Prod\s+ok$`)
	if code != 0 || !strings.HasPrefix(out, "TIME") || strings.Count(out, "\n") != 4 || !table.MatchString(out) {
		t.Fatalf("audit lookup --source-identity = %d\n%s%s", code, out, stderr)
	}
	out, _, code = c.run("", "audit", "lookup", "--error", "any", "--json", "--config", path)
	var page struct{ Events []audit.Record }
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Events) != 1 || page.Events[0].EventID != "e4" {
		t.Fatalf("audit lookup --error any --json = %d\n%s", code, out)
	}
	out, _, code = c.run("", "audit", "lookup", "--error", "none", "--json", "--config", path)
	page.Events = nil
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Events) < 5 {
		t.Fatalf("audit lookup --error none --json = %d\n%s", code, out)
	}
	for _, e := range page.Events {
		if e.ErrorCode != "" {
			t.Fatalf("audit lookup --error none lists %s, which failed", e.EventID)
		}
	}
	// The tree: Saanvi's three AssumeRole calls by an IAM user are three roots.
	out, stderr, code = c.run("", "audit", "lookup", "--source-identity", "Saanvi", "--tree", "--config", path)
	if code != 0 || strings.Count(out, "└─ ")+strings.Count(out, "├─ ") != 3 || strings.Count(out, "\n") != 3 ||
		!strings.Contains(out, "2026-01-10T09:02:00Z AssumeRole arn:aws:iam::123456789012:role/Prod session Saanvi") {
		t.Fatalf("audit lookup --tree = %d\n%s%s", code, out, stderr)
	}
	out, _, code = c.run("", "audit", "lookup", "--source-identity", "Saanvi", "--tree", "--json", "--config", path)
	var tree audit.Timeline
	if err := json.Unmarshal([]byte(out), &tree); code != 0 || err != nil || len(tree.Roots) != 3 || tree.SourceIdentity != "Saanvi" {
		t.Fatalf("audit lookup --tree --json = %d\n%s", code, out)
	}
	if _, stderr, code = c.run("", "audit", "lookup", "--tree", "--config", path); code != 2 || !strings.Contains(stderr, "--tree needs --source-identity") {
		t.Fatalf("audit lookup --tree without --source-identity = %d\n%s", code, stderr)
	}
	out, stderr, code = c.run("", "audit", "lookup", "--since", "2026-02-01", "--until", "2026-03-01", "--limit", "2", "--config", path)
	next := regexp.MustCompile(`--cursor (\S+)`).FindStringSubmatch(stderr)
	if code != 0 || strings.Count(out, "\n") != 3 || next == nil {
		t.Fatalf("first page = %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = c.run("", "audit", "lookup", "--since", "2026-02-01", "--until", "2026-03-01", "--limit", "2", "--cursor", next[1], "--config", path)
	if code != 0 || strings.Count(out, "\n") != 2 || strings.Contains(stderr, "--cursor") {
		t.Fatalf("second page = %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = c.run("", "audit", "lookup", "--since", "-1h", "--event", "AdminUserDisabled", "--config", path)
	if code != 0 || !strings.Contains(out, "AdminUserDisabled") || !strings.Contains(out, "cli:operator") {
		t.Fatalf("lookup with a relative time = %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := c.run("", "audit", "lookup", "--since", "last tuesday", "--config", path); code != 2 || !strings.Contains(stderr, "--since") {
		t.Fatalf("bad --since = %d %s", code, stderr)
	}

	// On PostgreSQL rows wait until every older write transaction on the
	// server has ended (other tests' among them), so seal until all 6 are.
	sealed := 0
	pollUntil(t, "audit seal to seal 6 rows", func() bool {
		out, _, code = c.run("", "audit", "seal", "--config", path)
		var n int
		if _, err := fmt.Sscanf(out, "sealed %d rows\n", &n); code != 0 || err != nil {
			t.Fatalf("audit seal = %d %q", code, out)
		}
		sealed += n
		return sealed >= 6
	})
	if sealed != 6 {
		t.Fatalf("sealed %d rows, want 6", sealed)
	}

	dir := t.TempDir()
	_, stderr, code = c.run("", "audit", "export", "--since", "2026-01-01", "--until", "2026-03-01", "--gzip", "--out", dir, "--account", "123456789012", "--config", path)
	if code != 0 || !strings.Contains(stderr, "exported 6 events") {
		t.Fatalf("audit export --out DIR = %d %s", code, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "2026", "0[12]", "10", "123456789012_CloudTrail_us-east-1_2026*T0900Z_*.json.gz"))
	if len(files) != 2 {
		t.Fatalf("exported files: %v", files)
	}
	b, _ := os.ReadFile(files[0])
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(zr)
	var doc struct{ Records []audit.Record }
	if err := json.Unmarshal(b, &doc); err != nil || len(doc.Records) != 3 {
		t.Fatalf("exported file: %v\n%s", err, b)
	}
	out, _, code = c.run("", "audit", "export", "--since", "2026-01-01", "--until", "2026-02-01", "--config", path)
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Records) != 3 || doc.Records[0].EventID != "e0" {
		t.Fatalf("audit export to stdout = %d\n%s", code, out)
	}
	if _, stderr, code := c.run("", "audit", "export", "--since", "2026-01-01", "--config", path); code != 2 {
		t.Fatalf("export without --until = %d %s", code, stderr)
	}

	out, _, code = c.run("", "audit", "prune", "--before", "2026-03-15", "--dry-run", "--config", path)
	if code != 0 || !strings.Contains(out, "would remove 2026-01: 3 events") || !strings.Contains(out, "would remove 6 events of 2 months") {
		t.Fatalf("prune --dry-run = %d\n%s", code, out)
	}
	out, stderr, code = c.run("", "audit", "prune", "--before", "2026-03-15", "--config", path)
	if code != 0 || !strings.Contains(out, "removed 6 events of 2 months before 2026-03-01") || !strings.Contains(out, "recorded in digest") {
		t.Fatalf("prune = %d\n%s%s", code, out, stderr)
	}
	out, stderr, code = c.run("", "audit", "verify", "--config", path)
	if code != 0 || !strings.Contains(out, "rows pruned:   6") || !strings.Contains(out, "result:        intact") || !strings.Contains(out, "(1 recording a prune)") {
		t.Fatalf("verify after prune = %d\n%s%s", code, out, stderr)
	}
	out, _, _ = c.run("", "audit", "lookup", "--event", "AdminAuditPruned", "--config", path)
	if strings.Count(out, "AdminAuditPruned") != 1 {
		t.Fatalf("AdminAuditPruned records:\n%s", out)
	}

	// Someone with the database edits a sealed record.
	page2, err := audit.Lookup(context.Background(), s, audit.Query{Event: "AdminUserAdded", Principal: "cli:operator", Limit: 1})
	if err != nil || len(page2.Events) != 1 {
		t.Fatal(page2, err)
	}
	seq := page2.Events[0].Seq
	tamper(t, pg, dbURL, cfg.SQLitePath(), seq)
	out, stderr, code = c.run("", "audit", "verify", "--config", path)
	if code != 1 || !strings.Contains(stderr, fmt.Sprintf("row %d ", seq)) || !strings.Contains(out, "problems") {
		t.Fatalf("verify after tampering = %d\n%s%s", code, out, stderr)
	}
}

// openForTest opens the store of cfg with the test's environment.
func openForTest(t *testing.T, c *cli, cfg *Config) store.Store {
	t.Helper()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader}
	t.Cleanup(func() { m.Close() })
	s, err := m.openStore(context.Background(), cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tamper changes the record of row seq as the tables' owner would, past
// the append-only trigger.
func tamper(t *testing.T, pg bool, dbURL, sqlitePath string, seq int64) {
	t.Helper()
	ctx := context.Background()
	if pg {
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, stmt := range []string{
			`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
			`UPDATE audit_events SET record = jsonb_set(record, '{requestParameters,target}', '"eve"') WHERE seq = ` + fmt.Sprint(seq),
		} {
			if _, err := conn.Exec(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	db, err := sql.Open("sqlite", "file:"+sqlitePath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`DROP TRIGGER audit_events_no_update`,
		`UPDATE audit_events SET record = json_set(record, '$.requestParameters.target', 'eve') WHERE seq = ` + fmt.Sprint(seq),
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}

// pollUntil calls done until it reports true, backing off briefly between
// calls. It fails the test, naming what it waited
// for, shortly before the test binary's deadline (go test -timeout).
func pollUntil(t *testing.T, what string, done func() bool) {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		defer cancel()
	}
	// Back off between checks (1 ms doubling to 20 ms), so that a wait
	// does not spin a core or hammer the database it polls.
	pause := time.Millisecond
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("still waiting for %s at the test deadline", what)
		case <-time.After(pause):
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}
