package audit

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// diego's story, as the trail records it, with fixed times and keys.
const (
	diegoSI     = "diego.ramirez"
	diegoKey1   = "ASIAQ3EGVEXAMPLEDIE1" // AssumeRoleWithSAML
	diegoKey2   = "ASIAQ3EGVEXAMPLEDIE2" // chained from key 1 (cross-account)
	diegoKey3   = "ASIAQ3EGVEXAMPLEDIE3" // chained from key 1, no event in the trail
	diegoKey4   = "ASIAQ3EGVEXAMPLEDIE4" // second SAML session
	diegoKey5   = "ASIAQ3EGVEXAMPLEDIE5" // chained, its caller's event is not loaded
	diegoKeyOut = "ASIAQ3EGVEXAMPLEOUT0" // a session outside the window
)

type timelineFixture struct {
	seq    int64
	events []Event
}

func (f *timelineFixture) at(min int) time.Time { return testNow.Add(time.Duration(min) * time.Minute) }

func (f *timelineFixture) call(min int, id UserIdentity) Call {
	f.seq++
	return Call{EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", f.seq), RequestID: fmt.Sprintf("req-%d", f.seq),
		Time: f.at(min), Region: region, SourceIP: "192.0.2.10", UserAgent: "test", RecipientAccount: acctA, Identity: id}
}

func (f *timelineFixture) add(recs ...Record) {
	for _, r := range recs {
		f.events = append(f.events, Event{Seq: int64(len(f.events) + 1), Record: r})
	}
}

func (f *timelineFixture) signIn(min int, failed bool) {
	var err *APIError
	if failed {
		err = &APIError{Code: CodeInvalidCredentials, Message: "wrong password"}
	}
	c := f.call(min, IdpbridgeUser("diego", "local"))
	c.RecipientAccount = ""
	f.add(SignInEvent(c, "local", err))
}

func (f *timelineFixture) assertion(min int, id string) {
	c := f.call(min, IdpbridgeUser("diego", "local"))
	c.RecipientAccount = ""
	f.add(IssueAssertionEvent(c, AssertionRequest{ServiceProvider: "aws", EntityID: "urn:amazon:webservices"},
		AssertionResponse{AssertionID: id, NameID: "diego", SourceIdentity: diegoSI, RoleSessionName: "diego", Roles: []string{samlRoleARN}}))
}

func (f *timelineFixture) saml(min int, assertionID, key string) {
	out := &SAMLOutput{AssumeRoleOutput: AssumeRoleOutput{AccessKeyID: key, Expiration: f.at(min + 60),
		AssumedRoleID: samlRoleID + ":diego", ARN: "arn:aws:sts::" + acctA + ":assumed-role/FederatedDeveloper/diego", SourceIdentity: diegoSI}}
	f.add(AssumeRoleWithSAMLEvent(f.call(min, SAMLUser(nameQualifier, "diego")),
		SAMLParams{SAMLAssertionID: assertionID, RoleSessionName: "diego", SourceIdentity: diegoSI, RoleARN: samlRoleARN, PrincipalARN: samlProviderARN}, out, nil))
}

func diegoSession(key string) UserIdentity {
	return AssumedRole(RoleSession{RoleID: samlRoleID, RoleARN: samlRoleARN, SessionName: "diego", AccessKeyID: key,
		Created: testNow, SourceIdentity: diegoSI})
}

func (f *timelineFixture) chain(min int, callerKey, role, key string, err *APIError) Record {
	var out *AssumeRoleOutput
	if err == nil {
		out = &AssumeRoleOutput{AccessKeyID: key, Expiration: f.at(min + 60), AssumedRoleID: criticalRoleID + ":chained",
			ARN: "arn:aws:sts::" + acct1 + ":assumed-role/CriticalRole/chained", SourceIdentity: diegoSI}
	}
	return AssumeRoleEvent(f.call(min, diegoSession(callerKey)), AssumeRoleParams{RoleARN: role, RoleSessionName: "chained"}, out, err)
}

// diegoTrail: two sign-ins (and a failed one between them), each with an
// assertion used with AssumeRoleWithSAML; from the first session a
// cross-account chained AssumeRole (both copies), a call with the chained
// session and a denied chaining from it; a chained session whose caller's
// event is not in the trail (found through the STS's parent link).
func diegoTrail() *timelineFixture {
	f := &timelineFixture{}
	f.signIn(0, false)
	f.assertion(1, "_a1")
	f.saml(2, "_a1", diegoKey1)
	callerCopy, ownerCopy := CrossAccountCopies(f.chain(3, diegoKey1, criticalRoleARN, diegoKey2, nil), acctA, acct1,
		"00000000-0000-4000-8000-0000000000ff", sharedID)
	f.add(ownerCopy, callerCopy) // the owner's copy first: the caller's is kept anyway
	f.add(GetCallerIdentityEvent(f.call(4, diegoSession(diegoKey2)), nil))
	f.add(f.chain(5, diegoKey2, criticalRole2ARN, "", &APIError{Code: "AccessDenied", Message: "not authorized"}))
	f.signIn(6, true)
	f.assertion(7, "_a-orphan") // after a failed sign-in: still the first sign-in's
	f.signIn(8, false)
	f.assertion(9, "_a2")
	f.saml(10, "_a2", diegoKey4)
	f.add(f.chain(11, diegoKeyOut, criticalRoleARN, diegoKey5, nil))
	return f
}

func sha(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func diegoSessions() []store.STSSession {
	s := func(key, parent string, min int) store.STSSession {
		return store.STSSession{AccessKeyID: key, RoleARN: criticalRoleARN, SessionName: "chained", SourceIdentity: diegoSI,
			IssuedAt: testNow.Add(time.Duration(min) * time.Minute), ExpiresAt: testNow.Add(time.Duration(min+60) * time.Minute),
			ParentAccessKeyID: parent, CallerARN: samlProviderARN, TokenSHA256: sha(key)}
	}
	revoked := s(diegoKey1, "", 2)
	revoked.RoleARN = samlRoleARN
	revoked.RevokedAt = testNow.Add(30 * time.Minute)
	expired := s(diegoKey4, "", 10)
	expired.ExpiresAt = testNow.Add(20 * time.Minute)
	return []store.STSSession{revoked, s(diegoKey2, diegoKey1, 3), s(diegoKey3, diegoKey1, 5), expired, s(diegoKey5, diegoKey4, 11)}
}

// renderTree writes one line per node, indented by depth.
func renderTree(nodes []*TimelineNode, depth int, b *strings.Builder) {
	for _, n := range nodes {
		fmt.Fprintf(b, "%s%s %s", strings.Repeat("  ", depth), n.Kind, n.Event)
		for _, s := range []string{n.AssertionID, n.AccessKeyID, n.ErrorCode, n.State} {
			if s != "" {
				fmt.Fprintf(b, " %s", s)
			}
		}
		b.WriteString("\n")
		renderTree(n.Children, depth+1, b)
	}
}

const diegoTree = `signin SignIn
  assertion IssueAssertion _a1
    session AssumeRoleWithSAML _a1 ASIAQ3EGVEXAMPLEDIE1 revoked
      session AssumeRole ASIAQ3EGVEXAMPLEDIE2 live
        call GetCallerIdentity
        session AssumeRole AccessDenied
      stored-session  ASIAQ3EGVEXAMPLEDIE3 live
  assertion IssueAssertion _a-orphan
signin SignIn InvalidCredentials
signin SignIn
  assertion IssueAssertion _a2
    session AssumeRoleWithSAML _a2 ASIAQ3EGVEXAMPLEDIE4 expired
      session AssumeRole ASIAQ3EGVEXAMPLEDIE5 live
`

// TestBuildTimeline: sign-in -> assertion -> AssumeRoleWithSAML -> chained
// AssumeRole -> calls, whatever order the events come in; the owner's
// copy of a cross-account call is dropped; the STS's records give states,
// sessions without events, and the parent of a session whose caller's
// event is missing.
func TestBuildTimeline(t *testing.T) {
	t.Parallel()
	f := diegoTrail()
	now := testNow.Add(25 * time.Minute)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		events := append([]Event(nil), f.events...)
		if i > 0 {
			rng.Shuffle(len(events), func(a, b int) { events[a], events[b] = events[b], events[a] })
		}
		tl := BuildTimeline(diegoSI, events, diegoSessions(), now)
		var b strings.Builder
		renderTree(tl.Roots, 0, &b)
		if b.String() != diegoTree {
			t.Fatalf("order %d: tree\n%s\nwant\n%s", i, b.String(), diegoTree)
		}
		if tl.Events != len(f.events)-1 {
			t.Errorf("Events = %d, want %d (one copy of the cross-account call dropped)", tl.Events, len(f.events)-1)
		}
	}
	tl := BuildTimeline(diegoSI, f.events, diegoSessions(), now)
	chained := tl.Roots[0].Children[0].Children[0].Children[0]
	if chained.Record == nil || chained.Record.UserIdentity.Type != TypeAssumedRole || chained.Record.RecipientAccountID != acctA {
		t.Errorf("the cross-account call kept is %+v, want the caller's copy", chained.Record)
	}
	if chained.Role != criticalRoleARN || chained.CallerKeyID != diegoKey1 {
		t.Errorf("chained node: role %q caller %q", chained.Role, chained.CallerKeyID)
	}
	saml := tl.Roots[0].Children[0].Children[0]
	if !saml.RevokedAt.Equal(testNow.Add(30*time.Minute)) || saml.SessionName != "diego" {
		t.Errorf("SAML session node: %+v", saml)
	}
}

// TestBuildTimelineWithoutSessions: with no STS records the tree comes
// from the trail alone, and a chained call whose caller's event is
// missing is a root.
func TestBuildTimelineWithoutSessions(t *testing.T) {
	t.Parallel()
	tl := BuildTimeline(diegoSI, diegoTrail().events, nil, testNow)
	var b strings.Builder
	renderTree(tl.Roots, 0, &b)
	want := `signin SignIn
  assertion IssueAssertion _a1
    session AssumeRoleWithSAML _a1 ASIAQ3EGVEXAMPLEDIE1
      session AssumeRole ASIAQ3EGVEXAMPLEDIE2
        call GetCallerIdentity
        session AssumeRole AccessDenied
  assertion IssueAssertion _a-orphan
signin SignIn InvalidCredentials
signin SignIn
  assertion IssueAssertion _a2
    session AssumeRoleWithSAML _a2 ASIAQ3EGVEXAMPLEDIE4
session AssumeRole ASIAQ3EGVEXAMPLEDIE5
`
	if b.String() != want {
		t.Fatalf("tree\n%s\nwant\n%s", b.String(), want)
	}
	if empty := BuildTimeline("nobody", nil, nil, testNow); len(empty.Roots) != 0 || empty.Events != 0 {
		t.Fatalf("empty timeline: %+v", empty)
	}
}

// TestLoadTimeline: the events come from the stored trail (the sign-ins
// through the people whose assertions carried the source identity), the
// states from the STS's records; MaxEvents keeps the newest and says so.
func TestLoadTimeline(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		f := diegoTrail()
		recs := make([]Record, len(f.events))
		for i, e := range f.events {
			recs[i] = e.Record
		}
		// Someone else's sign-in and session: not in diego's timeline.
		other := &timelineFixture{seq: 1000}
		c := other.call(1, IdpbridgeUser("other", "local"))
		recs = append(recs, SignInEvent(c, "local", nil))
		if err := NewWriter(s, WriterOptions{Logger: quietLogger()}).Log(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		for _, sess := range diegoSessions() {
			sess.RevokedAt = time.Time{} // revoked below, with its chain
			if err := s.CreateSTSSession(ctx, sess); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.RevokeSTSSessionChain(ctx, diegoKey1, testNow.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		tl, err := LoadTimeline(ctx, s, s, TimelineQuery{SourceIdentity: diegoSI}, testNow.Add(25*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		renderTree(tl.Roots, 0, &b)
		// Revoking key 1 revoked the sessions chained from it.
		want := strings.NewReplacer("DIE2 live", "DIE2 revoked", "DIE3 live", "DIE3 revoked").Replace(diegoTree)
		if b.String() != want || tl.Truncated {
			t.Fatalf("tree (truncated %v)\n%s\nwant\n%s", tl.Truncated, b.String(), want)
		}

		tl, err = LoadTimeline(ctx, s, nil, TimelineQuery{SourceIdentity: diegoSI, MaxEvents: 3}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if !tl.Truncated || tl.Events != 3 {
			t.Fatalf("MaxEvents 3: %d events, truncated %v", tl.Events, tl.Truncated)
		}
		if _, err := LoadTimeline(ctx, s, nil, TimelineQuery{}, testNow); !errors.Is(err, ErrBadQuery) {
			t.Fatalf("no source identity: %v", err)
		}
	})
}

// TestTimelineEvents: the API reads source-identity, since and until, and
// names a bad or unknown parameter as the caller's error.
func TestTimelineEvents(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		f := diegoTrail()
		recs := make([]Record, len(f.events))
		for i, e := range f.events {
			recs[i] = e.Record
		}
		if err := NewWriter(s, WriterOptions{Logger: quietLogger()}).Log(context.Background(), recs...); err != nil {
			t.Fatal(err)
		}
		h := TimelineEvents(s, s, func() time.Time { return testNow.Add(time.Hour) })
		get := func(q string) (any, error) {
			r, _ := http.NewRequest("GET", "/admin/api/events/timeline?"+q, nil)
			return h(r)
		}
		v, err := get("source-identity=" + diegoSI)
		if tl, ok := v.(*Timeline); err != nil || !ok || len(tl.Roots) != 4 {
			t.Fatalf("timeline = %#v, %v", v, err)
		}
		v, err = get("source-identity=" + diegoSI + "&since=" + url.QueryEscape(testNow.Add(8*time.Minute).Format(time.RFC3339)))
		if tl, ok := v.(*Timeline); err != nil || !ok || len(tl.Roots) != 2 {
			t.Fatalf("timeline since minute 8 = %#v, %v", v, err)
		}
		for q, want := range map[string]string{
			"":                                      "needs a source identity",
			"source_identity=x":                     `unknown parameter "source_identity"`,
			"source-identity=x&since=tomorrow":      `time "tomorrow"`,
			"source-identity=x&since=-1h&until=-2h": "since must be before until",
		} {
			if _, err := get(q); idp.ErrorCode(err) != idp.EInvalid || !strings.Contains(err.Error(), want) {
				t.Errorf("?%s: %v, want invalid with %q", q, err, want)
			}
		}
	})
}
