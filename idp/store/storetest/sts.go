package storetest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// runSTS runs the conformance cases of the STS area (session records and
// the SAML replay cache) against the stores newStore makes.
func runSTS(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"SessionCreateGet", testSTSSessionCreateGet},
		{"SessionDuplicate", testSTSSessionDuplicate},
		{"SessionNotFound", testSTSSessionNotFound},
		{"SessionRevoke", testSTSSessionRevoke},
		{"SessionRevokeChain", testSTSSessionRevokeChain},
		{"SessionChainedFromRevoked", testSTSSessionChainedFromRevoked},
		{"SessionRevokeChainConcurrent", testSTSSessionRevokeChainConcurrent},
		{"SessionRevokeBySourceIdentity", testSTSSessionRevokeBySourceIdentity},
		{"SessionList", testSTSSessionList},
		{"SessionDeleteExpired", testSTSSessionDeleteExpired},
		{"SessionInTx", testSTSSessionInTx},
		{"ReplayRemember", testSAMLReplayRemember},
		{"ReplayConcurrent", testSAMLReplayConcurrent},
		{"ReplayDeleteExpired", testSAMLReplayDeleteExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func stsSession(akid string, issued time.Time) store.STSSession {
	sum := sha256.Sum256([]byte("token-of-" + akid))
	return store.STSSession{
		AccessKeyID:       akid,
		AccountID:         "111111111111",
		RoleARN:           "arn:aws:iam::111111111111:role/CriticalRole",
		SessionName:       "Saanvi",
		SourceIdentity:    "Saanvi",
		Tags:              []idp.Tag{{Key: "Project", Value: "Unicorn"}, {Key: "Département", Value: "Ingénierie"}},
		TransitiveTagKeys: []string{"Project"},
		CallerARN:         "arn:aws:iam::111111111111:saml-provider/idpbridge",
		TokenSHA256:       sum[:],
		IssuedAt:          issued,
		ExpiresAt:         issued.Add(time.Hour),
	}
}

func testSTSSessionCreateGet(t *testing.T, s store.Store) {
	want := stsSession("ASIAQ3EGVEXAMPLE0001", t0)
	if err := s.CreateSTSSession(ctx, want); err != nil {
		t.Fatalf("CreateSTSSession: %v", err)
	}
	got, err := s.GetSTSSession(ctx, want.AccessKeyID)
	if err != nil {
		t.Fatalf("GetSTSSession: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetSTSSession =\n%+v\nwant\n%+v", got, want)
	}

	bare := store.STSSession{AccessKeyID: "ASIAQ3EGVEXAMPLE0002", AccountID: "123456789012",
		RoleARN: "arn:aws:iam::123456789012:role/R", SessionName: "s1", CallerARN: "arn:aws:iam::123456789012:user/U",
		TokenSHA256: []byte{1, 2, 3}, IssuedAt: t0, ExpiresAt: t0.Add(15 * time.Minute)}
	if err := s.CreateSTSSession(ctx, bare); err != nil {
		t.Fatalf("CreateSTSSession without tags: %v", err)
	}
	got, err = s.GetSTSSession(ctx, bare.AccessKeyID)
	if err != nil || !reflect.DeepEqual(got, bare) {
		t.Fatalf("GetSTSSession = %+v, %v; want %+v", got, err, bare)
	}
	if _, err := s.GetSTSSession(ctx, "asiaq3egvexample0002"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lookup in another case = %v, want ErrNotFound (access key IDs are exact)", err)
	}
}

func testSTSSessionDuplicate(t *testing.T, s store.Store) {
	a := stsSession("ASIAQ3EGVEXAMPLE0001", t0)
	if err := s.CreateSTSSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := stsSession("ASIAQ3EGVEXAMPLE0001", t0.Add(time.Minute))
	b.SessionName = "other"
	if err := s.CreateSTSSession(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateSTSSession = %v, want ErrConflict", err)
	}
	got, _ := s.GetSTSSession(ctx, a.AccessKeyID)
	if got.SessionName != a.SessionName {
		t.Fatalf("the conflicting insert changed the record: %+v", got)
	}
}

func testSTSSessionNotFound(t *testing.T, s store.Store) {
	if _, err := s.GetSTSSession(ctx, "ASIANOSUCHKEY0000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSTSSession = %v, want ErrNotFound", err)
	}
	if err := s.RevokeSTSSession(ctx, "ASIANOSUCHKEY0000000", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeSTSSession = %v, want ErrNotFound", err)
	}
}

func testSTSSessionRevoke(t *testing.T, s store.Store) {
	a := stsSession("ASIAQ3EGVEXAMPLE0001", t0)
	if err := s.CreateSTSSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(10 * time.Minute)
	if err := s.RevokeSTSSession(ctx, a.AccessKeyID, at); err != nil {
		t.Fatalf("RevokeSTSSession: %v", err)
	}
	got, err := s.GetSTSSession(ctx, a.AccessKeyID)
	if err != nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("after revoke: RevokedAt = %v, %v; want %v", got.RevokedAt, err, at)
	}
	if err := s.RevokeSTSSession(ctx, a.AccessKeyID, at.Add(time.Minute)); err != nil {
		t.Fatalf("second RevokeSTSSession: %v", err)
	}
	got, _ = s.GetSTSSession(ctx, a.AccessKeyID)
	if !got.RevokedAt.Equal(at) {
		t.Fatalf("second revoke moved RevokedAt to %v, want the first time %v", got.RevokedAt, at)
	}
}

func testSTSSessionList(t *testing.T, s store.Store) {
	var all []store.STSSession
	for i := range 5 {
		x := stsSession(fmt.Sprintf("ASIAQ3EGVEXAMPLE%04d", i), t0.Add(time.Duration(i)*time.Minute))
		if i%2 == 1 {
			x.SourceIdentity = "Diego"
			x.RoleARN = "arn:aws:iam::222222222222:role/CriticalRole_2"
		}
		if err := s.CreateSTSSession(ctx, x); err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
	}
	if err := s.RevokeSTSSession(ctx, all[4].AccessKeyID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys := func(ss []store.STSSession) []string {
		var out []string
		for _, x := range ss {
			out = append(out, x.AccessKeyID)
		}
		return out
	}
	tests := []struct {
		name string
		f    store.STSSessionFilter
		want []string
	}{
		{"all, newest first", store.STSSessionFilter{}, []string{"ASIAQ3EGVEXAMPLE0004", "ASIAQ3EGVEXAMPLE0003", "ASIAQ3EGVEXAMPLE0002", "ASIAQ3EGVEXAMPLE0001", "ASIAQ3EGVEXAMPLE0000"}},
		{"by source identity", store.STSSessionFilter{SourceIdentity: "Diego"}, []string{"ASIAQ3EGVEXAMPLE0003", "ASIAQ3EGVEXAMPLE0001"}},
		{"by role", store.STSSessionFilter{RoleARN: "arn:aws:iam::111111111111:role/CriticalRole"}, []string{"ASIAQ3EGVEXAMPLE0004", "ASIAQ3EGVEXAMPLE0002", "ASIAQ3EGVEXAMPLE0000"}},
		// At t0+61m30s sessions 0 and 1 have expired (issued t0, t0+1m, one hour
		// each) and 4 is revoked.
		{"active", store.STSSessionFilter{ActiveAt: t0.Add(61*time.Minute + 30*time.Second)}, []string{"ASIAQ3EGVEXAMPLE0003", "ASIAQ3EGVEXAMPLE0002"}},
		{"limit", store.STSSessionFilter{Limit: 2}, []string{"ASIAQ3EGVEXAMPLE0004", "ASIAQ3EGVEXAMPLE0003"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListSTSSessions(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(keys(got), tc.want) {
				t.Fatalf("ListSTSSessions = %v, want %v", keys(got), tc.want)
			}
		})
	}
}

func testSTSSessionDeleteExpired(t *testing.T, s store.Store) {
	old := stsSession("ASIAQ3EGVEXAMPLE0001", t0)
	fresh := stsSession("ASIAQ3EGVEXAMPLE0002", t0.Add(2*time.Hour))
	for _, x := range []store.STSSession{old, fresh} {
		if err := s.CreateSTSSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSTSSessions(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSTSSessions = %d, %v; want 1", n, err)
	}
	if _, err := s.GetSTSSession(ctx, old.AccessKeyID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session still there: %v", err)
	}
	if _, err := s.GetSTSSession(ctx, fresh.AccessKeyID); err != nil {
		t.Fatalf("current session gone: %v", err)
	}
}

// testSTSSessionInTx: a session created in a transaction that fails is not
// kept (credentials and their audit record are written together).
func testSTSSessionInTx(t *testing.T, s store.Store) {
	a := stsSession("ASIAQ3EGVEXAMPLE0001", t0)
	boom := errors.New("audit write failed")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateSTSSession(ctx, a); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	if _, err := s.GetSTSSession(ctx, a.AccessKeyID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of a rolled-back transaction exists: %v", err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateSTSSession(ctx, a) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSTSSession(ctx, a.AccessKeyID)
	if err != nil || !bytes.Equal(got.TokenSHA256, a.TokenSHA256) {
		t.Fatalf("committed session = %+v, %v", got, err)
	}
}

func testSAMLReplayRemember(t *testing.T, s store.Store) {
	const issuer = "https://idp.example.com/saml/metadata"
	until := t0.Add(5 * time.Minute)
	steps := []struct {
		name      string
		issuer    string
		id        string
		until     time.Time
		now       time.Time
		wantFresh bool
	}{
		{"first use", issuer, "_a1", until, t0, true},
		{"replay", issuer, "_a1", until, t0.Add(time.Minute), false},
		{"replay just before the entry lapses", issuer, "_a1", until.Add(time.Hour), until, false},
		{"same ID from another issuer", "https://other.example.com", "_a1", until, t0, true},
		{"another ID", issuer, "_a2", until, t0, true},
		{"after the entry lapsed", issuer, "_a1", until.Add(time.Hour), until.Add(time.Microsecond), true},
		{"replay of the renewed entry", issuer, "_a1", until.Add(time.Hour), until.Add(time.Minute), false},
	}
	for _, st := range steps {
		fresh, err := s.RememberSAMLAssertion(ctx, st.issuer, st.id, st.until, st.now)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if fresh != st.wantFresh {
			t.Fatalf("%s: fresh = %v, want %v", st.name, fresh, st.wantFresh)
		}
	}
}

func testSAMLReplayConcurrent(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh, errs := 0, []error{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.RememberSAMLAssertion(ctx, "https://idp.example.com", "_same", t0.Add(time.Hour), t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if ok {
				fresh++
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("RememberSAMLAssertion errors: %v", errs)
	}
	if fresh != 1 {
		t.Fatalf("%d of %d concurrent uses of one assertion were fresh, want exactly 1", fresh, n)
	}
}

func testSAMLReplayDeleteExpired(t *testing.T, s store.Store) {
	for i, until := range []time.Time{t0.Add(time.Minute), t0.Add(time.Hour)} {
		if _, err := s.RememberSAMLAssertion(ctx, "iss", fmt.Sprintf("_%d", i), until, t0); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteExpiredSAMLAssertions(ctx, t0.Add(10*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredSAMLAssertions = %d, %v; want 1", n, err)
	}
	if fresh, _ := s.RememberSAMLAssertion(ctx, "iss", "_1", t0.Add(time.Hour), t0.Add(10*time.Minute)); fresh {
		t.Fatal("the live entry was deleted")
	}
}
