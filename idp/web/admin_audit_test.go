package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
)

// auditConsole is a test IdP with the audit and keys sections mounted, over
// a store holding diego's trail: a sign-in, an assertion, AssumeRoleWithSAML
// and a chained AssumeRole, with their STS sessions.
type auditConsole struct {
	*testIdP
	trail *audit.Writer
}

const (
	tlSAMLKey    = "ASIAQ3EGVEXAMPLESAML"
	tlChainedKey = "ASIAQ3EGVEXAMPLECHN1"
	tlRole       = "arn:aws:iam::123456789012:role/Developer"
	tlChainRole  = "arn:aws:iam::123456789012:role/ReadOnly"
)

func newAuditConsole(t *testing.T) *auditConsole {
	t.Helper()
	s := sqliteStore(t)
	seedUsers(t, s)
	c := &auditConsole{testIdP: newTestIdP(t, s, false)}
	c.trail = audit.NewWriter(s, audit.WriterOptions{})
	t.Cleanup(func() { c.trail.Close() })
	NewAdminAudit(c.IdP, s, c.trail).Mount(c.mux)
	NewAdminKeys(c.IdP, AdminKeysOptions{Store: s, Trail: c.trail, KEK: testSecret, Algorithm: signing.RSA2048,
		CommonName: "idp.example", Rand: rand.Reader}).Mount(c.mux)
	return c
}

func (c *auditConsole) log(recs ...audit.Record) {
	c.t.Helper()
	if err := c.trail.Log(context.Background(), recs...); err != nil {
		c.t.Fatal(err)
	}
}

// diego writes diego's story at the test clock's time.
func (c *auditConsole) diego() {
	c.t.Helper()
	at := c.clock.Now().Add(-time.Hour)
	n := 0
	call := func(id audit.UserIdentity) audit.Call {
		n++
		return audit.Call{EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), RequestID: fmt.Sprintf("req-%d", n),
			Time: at.Add(time.Duration(n) * time.Minute), SourceIP: "192.0.2.10", UserAgent: "test <script>", RecipientAccount: "123456789012", Identity: id}
	}
	person := audit.IdpbridgeUser("diego", "local")
	session := func(key string) audit.UserIdentity {
		return audit.AssumedRole(audit.RoleSession{RoleID: "AROAEXAMPLE", RoleARN: tlRole, SessionName: "diego", AccessKeyID: key,
			Created: at, SourceIdentity: "diego.ramirez"})
	}
	c.log(
		audit.SignInEvent(call(person), "local", nil),
		audit.IssueAssertionEvent(call(person), audit.AssertionRequest{ServiceProvider: "aws", EntityID: "urn:amazon:webservices"},
			audit.AssertionResponse{AssertionID: "_assert1", NameID: "diego", SourceIdentity: "diego.ramirez", Roles: []string{tlRole}}),
		audit.AssumeRoleWithSAMLEvent(call(audit.SAMLUser("qualifier", "diego")),
			audit.SAMLParams{SAMLAssertionID: "_assert1", RoleSessionName: "diego", SourceIdentity: "diego.ramirez", RoleARN: tlRole,
				PrincipalARN: "arn:aws:iam::123456789012:saml-provider/idpbridge"},
			&audit.SAMLOutput{AssumeRoleOutput: audit.AssumeRoleOutput{AccessKeyID: tlSAMLKey, Expiration: at.Add(2 * time.Hour), SourceIdentity: "diego.ramirez"}}, nil),
		audit.AssumeRoleEvent(call(session(tlSAMLKey)), audit.AssumeRoleParams{RoleARN: tlChainRole, RoleSessionName: "chained"},
			&audit.AssumeRoleOutput{AccessKeyID: tlChainedKey, Expiration: at.Add(2 * time.Hour), SourceIdentity: "diego.ramirez"}, nil),
		audit.AssumeRoleEvent(call(session(tlChainedKey)), audit.AssumeRoleParams{RoleARN: tlRole, RoleSessionName: "again"}, nil,
			&audit.APIError{Code: "AccessDenied", Message: "not allowed"}),
	)
	for _, sess := range []store.STSSession{
		{AccessKeyID: tlSAMLKey, RoleARN: tlRole, AccountID: "123456789012"},
		{AccessKeyID: tlChainedKey, RoleARN: tlChainRole, AccountID: "123456789012", ParentAccessKeyID: tlSAMLKey},
	} {
		sum := sha256.Sum256([]byte(sess.AccessKeyID))
		sess.SessionName, sess.SourceIdentity, sess.CallerARN, sess.TokenSHA256 = "diego", "diego.ramirez", "caller", sum[:]
		sess.IssuedAt, sess.ExpiresAt = at, at.Add(2*time.Hour)
		if err := c.store.CreateSTSSession(context.Background(), sess); err != nil {
			c.t.Fatal(err)
		}
	}
}

var rowRe = regexp.MustCompile(`<tr( class="failed")?><td><a href="([^"]+)">([^<]+)</a></td><td>([^<]+)</td>`)

// TestAdminAuditTrail: the trail page lists events newest first with the
// filters of the events API (outcome too), pages with a cursor, and opens
// each event's CloudTrail JSON, escaped.
func TestAdminAuditTrail(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	c.diego()
	admin := (&adminShell{testIdP: c.testIdP}).signedIn("admin", adminPassword)

	res := admin.get("/admin/audit?source-identity=diego.ramirez")
	rows := rowRe.FindAllStringSubmatch(res.body, -1)
	var events []string
	for _, r := range rows {
		events = append(events, r[4])
	}
	// The sign-in comes along (the assertion carried diego.ramirez); the
	// admin's own sign-in does not.
	if res.code != 200 || strings.Join(events, ",") != "AssumeRole,AssumeRole,AssumeRoleWithSAML,IssueAssertion,SignIn" {
		t.Fatalf("trail of diego.ramirez = %d %v:\n%s", res.code, events, res.body)
	}
	if rows[0][1] == "" || !strings.Contains(res.body, `<strong class="outcome-error">AccessDenied</strong>`) {
		t.Errorf("the denied call is not marked")
	}
	if !strings.Contains(res.body, `href="/admin/audit/export?source-identity=diego.ramirez"`) {
		t.Errorf("the export link does not carry the filter")
	}

	res = admin.get("/admin/audit?source-identity=diego.ramirez&error=none")
	if n := len(rowRe.FindAllStringSubmatch(res.body, -1)); n != 4 || strings.Contains(res.body, "outcome-error") {
		t.Errorf("successes only: %d rows", n)
	}
	if !strings.Contains(res.body, `<option value="none" selected>success</option>`) {
		t.Errorf("the outcome filter does not show its choice")
	}
	res = admin.get("/admin/audit?error=any&event=AssumeRole")
	if n := len(rowRe.FindAllStringSubmatch(res.body, -1)); n != 1 {
		t.Errorf("failed AssumeRole: %d rows", n)
	}

	// The event page: the full record, pretty and escaped.
	link := html.UnescapeString(rows[0][2])
	res = admin.get(link)
	if res.code != 200 || !strings.Contains(res.body, `&#34;eventName&#34;: &#34;AssumeRole&#34;`) ||
		!strings.Contains(res.body, "test &lt;script&gt;") || strings.Contains(res.body, "test <script>") ||
		!strings.Contains(res.body, `&#34;errorCode&#34;: &#34;AccessDenied&#34;`) {
		t.Fatalf("GET %s = %d:\n%s", link, res.code, res.body)
	}
	if res = admin.get("/admin/audit/events/00000000-0000-4000-8000-000000000099?at=" + url.QueryEscape(c.clock.Now().Format(time.RFC3339))); res.code != 404 {
		t.Errorf("unknown event = %d", res.code)
	}
	if res = admin.get("/admin/audit/events/00000000-0000-4000-8000-000000000001"); res.code != 400 || !strings.Contains(res.body, "?at=") {
		t.Errorf("event without its time = %d:\n%s", res.code, res.body)
	}

	for path, want := range map[string]string{
		"/admin/audit?bogus=1":                 "Unknown parameter &#34;bogus&#34;",
		"/admin/audit?since=yesterday":         "time &#34;yesterday&#34;",
		"/admin/audit?since=-1h&until=-2h":     "since must be before until",
		"/admin/audit/timeline?bogus=1":        "Unknown parameter &#34;bogus&#34;",
		"/admin/audit/export?cursor=x&limit=3": "Unknown parameter &#34;limit&#34;",
	} {
		if res := admin.get(path); res.code != 400 || !strings.Contains(res.body, want) {
			t.Errorf("GET %s = %d, want 400 with %q:\n%s", path, res.code, want, res.body)
		}
	}

	// Paging: 60 more events, newest first, 50 a page.
	var more []audit.Record
	for i := range 60 {
		more = append(more, audit.GetCallerIdentityEvent(audit.Call{EventID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i),
			Time: c.clock.Now().Add(time.Duration(i) * time.Second), Identity: audit.IAMUser("arn:aws:iam::123456789012:user/pager", "AIDA", "AKIA")}, nil))
	}
	c.log(more...)
	res = admin.get("/admin/audit?principal=arn:aws:iam::123456789012:user/pager")
	first := rowRe.FindAllStringSubmatch(res.body, -1)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(res.body)
	if len(first) != 50 || next == nil || first[0][3] != c.clock.Now().Add(59*time.Second).UTC().Format(time.RFC3339) {
		t.Fatalf("first page: %d rows, next %v", len(first), next)
	}
	res = admin.get(html.UnescapeString(next[1]))
	if second := rowRe.FindAllStringSubmatch(res.body, -1); len(second) != 10 || strings.Contains(res.body, `rel="next"`) ||
		!strings.Contains(res.body, `>Newest</a>`) {
		t.Fatalf("second page: %d rows:\n%s", len(second), res.body)
	}
}

// TestAdminAuditExport: the export is the filter's every event as one
// CloudTrail document, past the 1,000 events of a lookup page.
func TestAdminAuditExport(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	c.diego()
	var recs []audit.Record
	for i := range 1005 {
		recs = append(recs, audit.GetCallerIdentityEvent(audit.Call{EventID: fmt.Sprintf("20000000-0000-4000-8000-%012d", i),
			Time: c.clock.Now().Add(time.Duration(i) * time.Second), Identity: audit.IAMUser("arn:aws:iam::123456789012:user/bulk", "AIDA", "AKIA")}, nil))
	}
	c.log(recs...)
	admin := (&adminShell{testIdP: c.testIdP}).signedIn("admin", adminPassword)
	for _, tc := range []struct {
		query string
		n     int
	}{
		{"principal=arn:aws:iam::123456789012:user/bulk", 1005},
		{"source-identity=diego.ramirez", 5},
		{"source-identity=diego.ramirez&error=any", 1},
		{"source-identity=nobody", 0},
	} {
		res := admin.get("/admin/audit/export?" + tc.query)
		var doc struct{ Records []audit.Record }
		if err := json.Unmarshal([]byte(res.body), &doc); res.code != 200 || err != nil || len(doc.Records) != tc.n {
			t.Fatalf("export %s = %d, %d records, %v", tc.query, res.code, len(doc.Records), err)
		}
		if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="idpbridge-audit-`) ||
			!strings.HasPrefix(res.body, `{"Records":[`) {
			t.Errorf("export %s: Content-Disposition %q", tc.query, cd)
		}
	}
	alice := (&adminShell{testIdP: c.testIdP}).signedIn("alice", alicePassword)
	if res := alice.get("/admin/audit/export"); res.code != 403 || strings.Contains(res.body, "Records") {
		t.Errorf("non-admin export = %d", res.code)
	}
}

// TestAdminAuditTimeline: diego's timeline is one tree, sign-in >
// assertion > AssumeRoleWithSAML > chained AssumeRole > its denied call;
// "revoke all" revokes his sessions in the STS store and records
// AdminSessionsRevoked with the keys.
func TestAdminAuditTimeline(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	c.diego()
	admin := (&adminShell{testIdP: c.testIdP}).signedIn("admin", adminPassword)
	res := admin.get("/admin/audit/timeline?source-identity=diego.ramirez")
	nested := regexp.MustCompile(`(?s)<li class="tl-node tl-signin" data-kind="signin" data-event="SignIn">.*` +
		`<ul class="timeline"><li class="tl-node tl-assertion" data-kind="assertion" data-event="IssueAssertion">.*` +
		`<ul class="timeline"><li class="tl-node tl-session" data-kind="session" data-event="AssumeRoleWithSAML" data-key="` + tlSAMLKey + `">.*` +
		`<ul class="timeline"><li class="tl-node tl-session" data-kind="session" data-event="AssumeRole" data-key="` + tlChainedKey + `">.*` +
		`<ul class="timeline"><li class="tl-node tl-session" data-kind="session" data-event="AssumeRole"><div class="tl-leaf">`)
	if res.code != 200 || !nested.MatchString(res.body) || strings.Count(res.body, `tl-state-live`) != 2 {
		t.Fatalf("timeline = %d:\n%s", res.code, res.body)
	}
	if res = admin.get("/admin/audit/timeline"); res.code != 200 || !strings.Contains(res.body, `name="source-identity"`) {
		t.Errorf("timeline without a source identity = %d", res.code)
	}

	token := admin.csrf("/admin/audit/timeline?source-identity=diego.ramirez")
	alice := (&adminShell{testIdP: c.testIdP}).signedIn("alice", alicePassword)
	if res = alice.post("/admin/audit/timeline/revoke", url.Values{"csrf_token": {alice.csrf("/")}, "source-identity": {"diego.ramirez"}}, nil); res.code != 403 {
		t.Errorf("non-admin revoke = %d", res.code)
	}
	if res = admin.post("/admin/audit/timeline/revoke", url.Values{"source-identity": {"diego.ramirez"}}, nil); res.code != 403 {
		t.Errorf("revoke without CSRF = %d", res.code)
	}
	if res = admin.post("/admin/audit/timeline/revoke", url.Values{"csrf_token": {token}}, nil); res.code != 400 || !strings.Contains(res.body, "the source identity is missing") {
		t.Errorf("revoke without a source identity = %d:\n%s", res.code, res.body)
	}
	if live, _ := c.store.ListSTSSessions(context.Background(), store.STSSessionFilter{SourceIdentity: "diego.ramirez", ActiveAt: c.clock.Now()}); len(live) != 2 {
		t.Fatalf("refused requests revoked sessions: %d live", len(live))
	}
	res = admin.post("/admin/audit/timeline/revoke", url.Values{"csrf_token": {token}, "source-identity": {"diego.ramirez"}}, nil)
	if res.code != 303 || !strings.HasPrefix(res.header.Get("Location"), "/admin/audit/timeline?source-identity=diego.ramirez&notice=Revoked+2+live+session") {
		t.Fatalf("revoke = %d Location %q:\n%s", res.code, res.header.Get("Location"), res.body)
	}
	if live, _ := c.store.ListSTSSessions(context.Background(), store.STSSessionFilter{SourceIdentity: "diego.ramirez", ActiveAt: c.clock.Now()}); len(live) != 0 {
		t.Fatalf("%d sessions still live", len(live))
	}
	res = admin.get(res.header.Get("Location"))
	if strings.Count(res.body, `tl-state-revoked`) != 2 || !strings.Contains(res.body, "Revoked 2 live session(s) carrying source identity diego.ramirez.") {
		t.Errorf("timeline after the revoke:\n%s", res.body)
	}
	page, err := audit.Lookup(context.Background(), c.store, audit.Query{Event: string(audit.AdminSessionsRevoked)})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("AdminSessionsRevoked records: %v %v", page.Events, err)
	}
	rec := page.Events[0].Record
	var ch audit.AdminChange
	json.Unmarshal(rec.RequestParameters, &ch)
	if rec.UserIdentity.PrincipalID != "local:admin" || ch.Target != "diego.ramirez" || ch.TargetType != "SourceIdentity" ||
		!strings.Contains(ch.Details["after"], `"count":"2"`) || !strings.Contains(ch.Details["after"], tlChainedKey) {
		t.Errorf("record %+v change %+v", rec.UserIdentity, ch)
	}
}

// TestAdminAuditVerify: "Verify now" runs the chain's verification and the
// trail page shows its result.
func TestAdminAuditVerify(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	c.diego()
	admin := (&adminShell{testIdP: c.testIdP}).signedIn("admin", adminPassword)
	if res := admin.get("/admin/audit"); !strings.Contains(res.body, "No verification was run from this server") ||
		!strings.Contains(res.body, "The trail has no digest yet") {
		t.Fatalf("before: %s", res.body)
	}
	key, err := signing.GenerateAlgorithm(rand.Reader, signing.RSA2048, "idp.example", c.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	sk, err := key.Seal(rand.Reader, testSecret, store.KeyActive, c.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.store.CreateSigningKey(context.Background(), sk); err != nil {
		t.Fatal(err)
	}
	if _, err := (&audit.Sealer{Store: c.store, Signer: audit.KeySigner(key), EveryRows: 2, Now: c.clock.Now, Logger: slog.New(slog.DiscardHandler)}).SealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	token := admin.csrf("/admin/audit")
	res := admin.post("/admin/audit/verify", url.Values{"csrf_token": {token}}, nil)
	if res.code != 303 || res.header.Get("Location") != "/admin/audit?notice=The+digest+chain+is+intact." {
		t.Fatalf("verify = %d %q", res.code, res.header.Get("Location"))
	}
	res = admin.get("/admin/audit")
	if !strings.Contains(res.body, "<strong>Intact</strong>") || !strings.Contains(res.body, "rows verified: 5") ||
		!strings.Contains(res.body, "The last digest is #") || !strings.Contains(res.body, "by admin (on this server)") {
		t.Fatalf("after verify:\n%s", res.body)
	}
}

// TestAdminKeys: the keys page lists the keys, rotate adds a next key,
// activate swaps the signer, retire takes a next key out; the active key
// cannot be retired; each change is recorded with before and after.
func TestAdminKeys(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	ctx := context.Background()
	admin := (&adminShell{testIdP: c.testIdP}).signedIn("admin", adminPassword)
	if res := admin.get("/admin/keys"); res.code != 200 || !strings.Contains(res.body, "No key is active") {
		t.Fatalf("keys page with no key = %d:\n%s", res.code, res.body)
	}
	token := admin.csrf("/admin/keys")
	post := func(path string, form url.Values) response {
		form.Set("csrf_token", token)
		return admin.post(path, form, nil)
	}
	res := post("/admin/keys/rotate", url.Values{})
	if res.code != 303 || !strings.Contains(res.header.Get("Location"), "notice=Added+signing+key") {
		t.Fatalf("rotate = %d %q:\n%s", res.code, res.header.Get("Location"), res.body)
	}
	keys, _ := sso.ListKeyInfo(ctx, c.store)
	if len(keys) != 1 || keys[0].State != store.KeyNext {
		t.Fatalf("after rotate: %+v", keys)
	}
	first := keys[0].ID
	if res = post("/admin/keys/activate", url.Values{"id": {first}}); res.code != 303 {
		t.Fatalf("activate = %d:\n%s", res.code, res.body)
	}
	if res = post("/admin/keys/retire", url.Values{"id": {first}}); res.code != 400 || !strings.Contains(res.body, "is active; activate another key before retiring it") {
		t.Errorf("retire the active key = %d:\n%s", res.code, res.body)
	}
	post("/admin/keys/rotate", url.Values{})
	keys, _ = sso.ListKeyInfo(ctx, c.store)
	var second string
	for _, k := range keys {
		if k.ID != first {
			second = k.ID
		}
	}
	res = admin.get("/admin/keys")
	if !strings.Contains(res.body, `data-key="`+first+`" data-state="active"`) || !strings.Contains(res.body, `data-key="`+second+`" data-state="next"`) ||
		strings.Contains(res.body, "No key is active") || strings.Count(res.body, `action="/admin/keys/retire"`) != 1 {
		t.Errorf("keys page:\n%s", res.body)
	}
	if res = post("/admin/keys/retire", url.Values{"id": {second}}); res.code != 303 {
		t.Errorf("retire the next key = %d:\n%s", res.code, res.body)
	}
	for _, bad := range []url.Values{{}, {"id": {"a b"}}, {"id": {"nokey"}}} {
		if res = post("/admin/keys/activate", bad); res.code != 400 && res.code != 404 {
			t.Errorf("activate %v = %d", bad, res.code)
		}
	}
	var got []string
	page, _ := audit.Lookup(ctx, c.store, audit.Query{Principal: "local:admin", Limit: 20})
	for _, e := range page.Events {
		if strings.HasPrefix(e.Record.EventName, "AdminKey") {
			var ch audit.AdminChange
			json.Unmarshal(e.Record.RequestParameters, &ch)
			got = append(got, e.Record.EventName+" "+ch.Target+" "+ch.Details["before"]+" "+ch.Details["after"])
		}
	}
	want := []string{
		"AdminKeyRetired " + second + ` {"state":"next"} {"state":"retired"}`,
		"AdminKeyRotated " + second + `  {"state":"next"}`,
		"AdminKeyActivated " + first + ` {"state":"next"} {"state":"active"}`,
		"AdminKeyRotated " + first + `  {"state":"next"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("key records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestKeyExpiryWarning: a certificate expired, or expiring within 30
// days, is flagged; the active key has no retire action.
func TestKeyExpiryWarning(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	page := keysPage([]sso.KeyInfo{
		{ID: "a", State: store.KeyActive, Expires: now.AddDate(1, 0, 0)},
		{ID: "b", State: store.KeyNext, Expires: now.Add(10*24*time.Hour + time.Hour)},
		{ID: "c", State: store.KeyRetired, Expires: now.Add(-time.Hour)},
		{ID: "d", State: store.KeyNext, Expires: now.Add(time.Hour)},
		{ID: "e", State: store.KeyNext},
	}, now)
	var got []string
	for _, k := range page.Keys {
		got = append(got, fmt.Sprintf("%s:%s:%v%v", k.ID, k.Warning, k.CanActivate, k.CanRetire))
	}
	want := "a::falsefalse b:expires in 10 days:truetrue c:expired:falsefalse d:expires within a day:truetrue e::truetrue"
	if strings.Join(got, " ") != want || page.Active != "a" || page.Keys[4].Expires != "unreadable certificate" {
		t.Errorf("keys %v, want %s", got, want)
	}
}

// TestAdminAuditNonAdmin: every page and form of the two sections is for
// administrators only.
func TestAdminAuditNonAdmin(t *testing.T) {
	t.Parallel()
	c := newAuditConsole(t)
	alice := (&adminShell{testIdP: c.testIdP}).signedIn("alice", alicePassword)
	for _, path := range []string{"/admin/audit", "/admin/audit/timeline?source-identity=x", "/admin/audit/events/x?at=2026-01-01T00:00:00Z", "/admin/keys"} {
		if res := alice.get(path); res.code != http.StatusForbidden {
			t.Errorf("non-admin GET %s = %d", path, res.code)
		}
		if res := c.browser().get(path); res.code != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login") {
			t.Errorf("anonymous GET %s = %d", path, res.code)
		}
	}
	token := alice.csrf("/")
	for _, path := range []string{"/admin/audit/verify", "/admin/keys/rotate", "/admin/keys/activate", "/admin/keys/retire"} {
		if res := alice.post(path, url.Values{"csrf_token": {token}, "id": {"k"}}, nil); res.code != http.StatusForbidden {
			t.Errorf("non-admin POST %s = %d", path, res.code)
		}
	}
	if keys, _ := c.store.ListSigningKeys(context.Background()); len(keys) != 0 {
		t.Errorf("a non-admin made %d keys", len(keys))
	}
}
