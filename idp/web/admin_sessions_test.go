package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/store"
)

type sessionsShell struct {
	*testIdP
	log *txLog
}

func newSessionsShell(t *testing.T) *sessionsShell {
	t.Helper()
	s := sqliteStore(t)
	seedUsers(t, s)
	ss := &sessionsShell{testIdP: newTestIdP(t, s, false), log: &txLog{}}
	h, err := ss.AdminSessions(AdminSessionsOptions{Store: s, Audit: ss.log})
	if err != nil {
		t.Fatal(err)
	}
	ss.mux.Handle("GET /admin/sessions", ss.AdminPage("sessions", "admin_sessions", h.List))
	ss.mux.Handle("POST /admin/sessions/browser/revoke", ss.AdminAction(h.RevokeBrowser))
	ss.mux.Handle("POST /admin/sessions/sts/revoke", ss.AdminAction(h.RevokeSTS))
	ss.mux.Handle("POST /admin/sessions/revoke-all", ss.AdminAction(h.RevokeAll))
	now := ss.clock.Now()
	for _, x := range []store.STSSession{
		{AccessKeyID: "ASIADIEGO0000000001", RoleARN: "arn:aws:iam::123456789012:role/Developer", SessionName: "diego", SourceIdentity: "diego.ramirez"},
		{AccessKeyID: "ASIADIEGO0000000002", RoleARN: "arn:aws:iam::123456789012:role/Deploy", SessionName: "chain", SourceIdentity: "diego.ramirez", ParentAccessKeyID: "ASIADIEGO0000000001"},
		{AccessKeyID: "ASIAALICE0000000001", RoleARN: "arn:aws:iam::123456789012:role/Developer", SessionName: "alice", SourceIdentity: "alice"},
	} {
		x.AccountID, x.CallerARN, x.TokenSHA256 = "123456789012", "arn:aws:iam::123456789012:saml-provider/idpbridge", make([]byte, 32)
		x.IssuedAt, x.ExpiresAt = now, now.Add(time.Hour)
		if err := s.CreateSTSSession(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	return ss
}

var handleRe = regexp.MustCompile(`name="handle" value="([0-9a-f]{16})"`)

// TestAdminSessions: the page lists browser and STS sessions, filtered by
// person or source identity; one browser session, one STS session (with
// those chained from it) or all of a person's are revoked, each with its
// record, and the revoked credentials stop working.
func TestAdminSessions(t *testing.T) {
	t.Parallel()
	ss := newSessionsShell(t)
	admin := ss.browser()
	admin.login("admin", adminPassword, "")
	tok := admin.csrf("/admin/sessions")
	alice1, alice2 := ss.browser(), ss.browser()
	alice1.login("alice", alicePassword, "")
	alice2.login("alice", alicePassword, "")

	res := admin.get("/admin/sessions")
	for _, want := range []string{">alice</a>", ">admin</a>", "ASIADIEGO0000000002", "ASIAALICE0000000001", `<th scope="col">Source identity</th>`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("the sessions page lacks %q:\n%s", want, res.body)
		}
	}
	res = admin.get("/admin/sessions?person=ALICE")
	handles := handleRe.FindAllStringSubmatch(res.body, -1)
	if len(handles) != 2 || strings.Contains(res.body, ">admin</a>") || strings.Contains(res.body, "ASIA") {
		t.Fatalf("alice's sessions: %d handles\n%s", len(handles), res.body)
	}
	if strings.Contains(res.body, ss.cookie(alice1)) {
		t.Fatal("the page shows a session cookie")
	}
	if res = admin.get("/admin/sessions?source_identity=x"); res.code != http.StatusBadRequest || !strings.Contains(res.body, "Unknown filter &#34;source_identity&#34;") {
		t.Errorf("misspelt filter = %d", res.code)
	}

	// One browser session.
	res = admin.post("/admin/sessions/browser/revoke", url.Values{"csrf_token": {tok}, "person": {"alice"}, "handle": {handles[0][1]}}, nil)
	if res.code != http.StatusSeeOther {
		t.Fatalf("revoke one = %d:\n%s", res.code, res.body)
	}
	if a, b := alice1.signedIn(), alice2.signedIn(); a == b {
		t.Fatalf("after ending one of two sessions: signed in %v and %v", a, b)
	}
	recs := ss.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminSessionRevoked" || change(t, recs[0]).Target != handles[0][1] {
		t.Fatalf("records %v", recs)
	}
	res = admin.post("/admin/sessions/browser/revoke", url.Values{"csrf_token": {tok}, "person": {"alice"}, "handle": {handles[0][1]}}, nil)
	if res.code != http.StatusNotFound {
		t.Errorf("revoke an ended session = %d", res.code)
	}

	// One STS session and its chain.
	res = admin.post("/admin/sessions/sts/revoke", url.Values{"csrf_token": {tok}, "key": {"ASIADIEGO0000000001"}}, nil)
	if res.code != http.StatusSeeOther || !strings.Contains(res.header.Get("Location"), "Revoked+2+STS+session") {
		t.Fatalf("revoke STS = %d %s", res.code, res.header.Get("Location"))
	}
	for _, key := range []string{"ASIADIEGO0000000001", "ASIADIEGO0000000002"} {
		if x, _ := ss.store.GetSTSSession(context.Background(), key); x.RevokedAt.IsZero() {
			t.Errorf("%s is not revoked", key)
		}
	}
	recs = ss.log.take()
	if len(recs) != 1 || recs[0].EventName != "AdminSessionsRevoked" ||
		!strings.Contains(change(t, recs[0]).Details["after"], `"accessKeyIds":["ASIADIEGO0000000001","ASIADIEGO0000000002"]`) {
		t.Fatalf("records %v", recs)
	}

	// All of a person's: browser sessions and STS sessions of the source identity.
	res = admin.post("/admin/sessions/revoke-all", url.Values{"csrf_token": {tok}, "person": {"alice"}, "source-identity": {"alice"}}, nil)
	if res.code != http.StatusSeeOther {
		t.Fatalf("revoke all = %d:\n%s", res.code, res.body)
	}
	if alice1.signedIn() || alice2.signedIn() {
		t.Error("alice is still signed in")
	}
	if x, _ := ss.store.GetSTSSession(context.Background(), "ASIAALICE0000000001"); x.RevokedAt.IsZero() {
		t.Error("alice's STS session is not revoked")
	}
	recs = ss.log.take()
	if len(recs) != 2 || change(t, recs[0]).TargetType != "Person" || change(t, recs[1]).TargetType != "SourceIdentity" {
		t.Fatalf("records %v", recs)
	}
	page := admin.get(res.header.Get("Location"))
	if !strings.Contains(page.body, "Ended 1 browser session(s) of alice; revoked 1 STS session(s) carrying source identity alice.") {
		t.Errorf("notice missing:\n%s", page.body)
	}
	if !admin.signedIn() {
		t.Error("the admin was signed out")
	}

	// A failing trail undoes the revocation.
	ss.log.setFail(errLogDown)
	alice1.login("alice", alicePassword, "")
	res = admin.post("/admin/sessions/revoke-all", url.Values{"csrf_token": {tok}, "person": {"alice"}}, nil)
	if res.code != http.StatusInternalServerError || !alice1.signedIn() {
		t.Errorf("revoke with the trail down = %d; alice signed in %v", res.code, alice1.signedIn())
	}
}

// cookie returns b's session cookie.
func (ss *sessionsShell) cookie(b *browser) string { return b.cookie(ss.sessName) }
