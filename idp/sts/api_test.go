package sts

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// TestAssumeRoleWithSAMLTypedResult: the in-process AssumeRoleWithSAML
// returns Go values (an expiry time, the assumed role's parts, the
// assertion's subject) that agree with what it issued and recorded; no
// caller has to parse an expiry string or slice an ARN.
func TestAssumeRoleWithSAMLTypedResult(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	sess, err := e.svc.AssumeRoleWithSAML(context.Background(), SAMLRequest{
		RoleARN: fedDevRoleARN, PrincipalARN: mySAMLIdP, SAMLAssertion: exampleAssertion(t, nil), DurationSeconds: 7200,
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := testNow.Truncate(time.Second).Add(2 * time.Hour); !sess.Credentials.Expires.Equal(want) {
		t.Errorf("Expires = %v, want %v", sess.Credentials.Expires, want)
	}
	if sess.Credentials.Expires.Location() != time.UTC {
		t.Errorf("Expires is not UTC: %v", sess.Credentials.Expires.Location())
	}
	c := sess.Credentials
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Errorf("Credentials = %+v", c)
	}
	ar := sess.AssumedRole
	if ar.ARN != "arn:aws:sts::123456789012:assumed-role/FederatedDeveloper/diego" || ar.SessionName != "diego" ||
		!strings.HasPrefix(ar.ID, "AROA") || !strings.HasSuffix(ar.ID, ":diego") {
		t.Errorf("AssumedRole = %+v", ar)
	}
	if ar.Role.String() != fedDevRoleARN || ar.Role.Account() != "123456789012" || ar.Role.ResourceName() != "FederatedDeveloper" {
		t.Errorf("AssumedRole.Role = %v (account %q, name %q)", ar.Role, ar.Role.Account(), ar.Role.ResourceName())
	}
	if sess.SourceIdentity != "DiegoRamirez" || sess.Subject != "diego@example.com" || sess.SubjectType != "persistent" ||
		sess.Issuer != samlIssuer || sess.Audience != signinRecipient || sess.NameQualifier != NameQualifier(samlIssuer, "123456789012", "MySAMLIdP") {
		t.Errorf("session = %+v", sess)
	}
	if sess.PackedPolicySize != nil {
		t.Errorf("PackedPolicySize = %d, want none: no session policy or tags", *sess.PackedPolicySize)
	}
	rec := e.trail.last(1)[0]
	if sess.RequestID == "" || rec.RequestID != sess.RequestID {
		t.Errorf("RequestID = %q, the record's %q", sess.RequestID, rec.RequestID)
	}
	stored, err := e.store.GetSTSSession(context.Background(), c.AccessKeyID)
	if err != nil || !stored.ExpiresAt.Equal(c.Expires) {
		t.Errorf("stored session expires %v (%v), the result says %v", stored.ExpiresAt, err, c.Expires)
	}
}

// readsThenFails is a random source that serves n reads, then fails.
type readsThenFails struct {
	mu   sync.Mutex
	n    int
	next io.Reader
}

func (r *readsThenFails) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return 0, errors.New("entropy source gone")
	}
	r.n--
	return r.next.Read(p)
}

// TestRandomnessFailureFailsTheRequest: when the injected randomness
// fails, no ID is made up from the clock: the request fails with
// InternalFailure, and a call that would issue credentials issues none.
func TestRandomnessFailureFailsTheRequest(t *testing.T) {
	t.Parallel()
	t.Run("request ID", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, seedConfig, withOptions(func(o *Options) { o.Rand = &readsThenFails{next: &counterRand{}} }))
		wantError(t, e.do(&johnCreds, form("GetCallerIdentity")), http.StatusInternalServerError, CodeInternalFailure, msgInternalFailure)
		if n := len(e.trail.all()); n != 0 {
			t.Errorf("%d audit records written", n)
		}
	})
	t.Run("audit record ID of GetCallerIdentity", func(t *testing.T) {
		t.Parallel()
		// One read: the request ID; the record's event ID fails.
		e := newEnv(t, seedConfig, withOptions(func(o *Options) { o.Rand = &readsThenFails{n: 1, next: &counterRand{}} }))
		wantError(t, e.do(&johnCreds, form("GetCallerIdentity")), http.StatusInternalServerError, CodeInternalFailure, msgInternalFailure)
	})
	t.Run("audit record ID of AssumeRole", func(t *testing.T) {
		t.Parallel()
		// Four reads: the request ID, the access key ID, the secret and the
		// token's nonce; the record's event ID fails.
		e := newEnv(t, seedConfig, withOptions(func(o *Options) { o.Rand = &readsThenFails{n: 4, next: &counterRand{}} }))
		wantError(t, e.do(&johnCreds, form("AssumeRole", longRole...)), http.StatusInternalServerError, CodeInternalFailure, msgInternalFailure)
		list, err := e.store.ListSTSSessions(context.Background(), storeFilterAll)
		if err != nil || len(list) != 0 {
			t.Errorf("sessions stored: %v (%v)", list, err)
		}
		if n := len(e.trail.all()); n != 0 {
			t.Errorf("%d audit records written", n)
		}
	})
}

// TestRevoker: a revoke by source identity revokes the sessions carrying
// it and hands them to Record in the revoking transaction; when Record
// fails, nothing is revoked.
func TestRevoker(t *testing.T) {
	t.Parallel()
	e := chainEnv(t, "[sts:AssumeRole, sts:SetSourceIdentity]", `"`+r0ARN+`"`)
	_, r0 := e.assumeRole(creds{key: saanviKey, secret: saanviSecret},
		"RoleArn", r0ARN, "RoleSessionName", "saanvi", "SourceIdentity", "Saanvi")
	works := func(want bool) {
		t.Helper()
		r := e.do(&r0, form("GetCallerIdentity"))
		if got := r.status == http.StatusOK; got != want {
			t.Fatalf("the session works: %v, want %v (%d %s)", got, want, r.status, r.body)
		}
	}
	ctx := context.Background()
	failing := Revoker{Store: e.store, Now: e.clock.Now, Record: func(context.Context, store.Tx, Revocation) error {
		return errors.New("trail full")
	}}
	if _, err := failing.SourceIdentity(ctx, "Saanvi"); err == nil {
		t.Fatal("the revoke succeeded although its record failed")
	}
	if _, err := failing.Session(ctx, r0.key); err == nil {
		t.Fatal("the revoke succeeded although its record failed")
	}
	works(true)

	var recorded Revocation
	r := Revoker{Store: e.store, Now: e.clock.Now, Record: func(_ context.Context, _ store.Tx, rv Revocation) error {
		recorded = rv
		return nil
	}}
	out, err := r.SourceIdentity(ctx, "Saanvi")
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Revoked) != 1 || out.Revoked[0].AccessKeyID != r0.key || len(recorded.Revoked) != 1 {
		t.Fatalf("revoked %+v, recorded %+v", out.Revoked, recorded.Revoked)
	}
	works(false)
	if _, err := r.Session(ctx, "ASIANOSUCHSESSION000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke of an unknown key: %v, want store.ErrNotFound", err)
	}
}
