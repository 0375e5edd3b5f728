package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// chained is a session chained from parent.
func chained(akid, parent string, issued time.Time) store.STSSession {
	s := stsSession(akid, issued)
	s.ParentAccessKeyID = parent
	s.CallerARN = "arn:aws:sts::111111111111:assumed-role/CriticalRole/Saanvi"
	return s
}

func akids(list []store.STSSession) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, s.AccessKeyID)
	}
	return out
}

func mustCreate(t *testing.T, s store.Store, list ...store.STSSession) {
	t.Helper()
	for _, x := range list {
		if err := s.CreateSTSSession(ctx, x); err != nil {
			t.Fatalf("CreateSTSSession(%s): %v", x.AccessKeyID, err)
		}
	}
}

func revokedAt(t *testing.T, s store.Store, akid string) time.Time {
	t.Helper()
	got, err := s.GetSTSSession(ctx, akid)
	if err != nil {
		t.Fatalf("GetSTSSession(%s): %v", akid, err)
	}
	return got.RevokedAt
}

// testSTSSessionRevokeChain: revoking a session revokes the live sessions
// chained from it at any depth, and only those; the parent is read back.
func testSTSSessionRevokeChain(t *testing.T, s store.Store) {
	at := t0.Add(30 * time.Minute)
	earlier := t0.Add(10 * time.Minute)
	root := stsSession("ASIAQ3EGVCHAINROOT01", t0)
	child := chained("ASIAQ3EGVCHAINCHILD1", root.AccessKeyID, t0.Add(time.Minute))
	grandchild := chained("ASIAQ3EGVCHAINGRAND1", child.AccessKeyID, t0.Add(2*time.Minute))
	expired := chained("ASIAQ3EGVCHAINEXPIR1", grandchild.AccessKeyID, t0.Add(3*time.Minute))
	expired.ExpiresAt = at
	beyondExpired := chained("ASIAQ3EGVCHAINBEYON1", expired.AccessKeyID, t0.Add(4*time.Minute))
	revoked := chained("ASIAQ3EGVCHAINREVOK1", root.AccessKeyID, t0.Add(5*time.Minute))
	mustCreate(t, s, root, child, grandchild, expired, beyondExpired, revoked)
	if err := s.RevokeSTSSession(ctx, revoked.AccessKeyID, earlier); err != nil {
		t.Fatal(err)
	}
	other := stsSession("ASIAQ3EGVCHAINOTHER1", t0)
	mustCreate(t, s, other)

	if got, err := s.GetSTSSession(ctx, grandchild.AccessKeyID); err != nil || got.ParentAccessKeyID != child.AccessKeyID {
		t.Fatalf("ParentAccessKeyID read back as %q, %v", got.ParentAccessKeyID, err)
	}
	if got, _ := s.GetSTSSession(ctx, root.AccessKeyID); got.ParentAccessKeyID != "" {
		t.Fatalf("root ParentAccessKeyID = %q", got.ParentAccessKeyID)
	}

	got, err := s.RevokeSTSSessionChain(ctx, root.AccessKeyID, at)
	if err != nil {
		t.Fatalf("RevokeSTSSessionChain: %v", err)
	}
	ids := akids(got)
	if len(ids) == 0 || ids[0] != root.AccessKeyID {
		t.Fatalf("revoked %v, want the root first", ids)
	}
	sort.Strings(ids[1:])
	want := []string{root.AccessKeyID, beyondExpired.AccessKeyID, child.AccessKeyID, grandchild.AccessKeyID}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("revoked %v, want %v", ids, want)
	}
	for _, x := range got {
		if !x.RevokedAt.Equal(at) {
			t.Errorf("%s returned with RevokedAt %v, want %v", x.AccessKeyID, x.RevokedAt, at)
		}
	}
	for akid, want := range map[string]time.Time{
		root.AccessKeyID: at, child.AccessKeyID: at, grandchild.AccessKeyID: at, beyondExpired.AccessKeyID: at,
		expired.AccessKeyID: {}, revoked.AccessKeyID: earlier, other.AccessKeyID: {},
	} {
		if got := revokedAt(t, s, akid); !got.Equal(want) {
			t.Errorf("%s RevokedAt = %v, want %v", akid, got, want)
		}
	}

	// Again: nothing more to revoke; the times stay.
	if again, err := s.RevokeSTSSessionChain(ctx, root.AccessKeyID, at.Add(time.Minute)); err != nil || len(again) != 0 {
		t.Fatalf("second RevokeSTSSessionChain = %v, %v; want nothing", akids(again), err)
	}
	// A session revoked before chains were followed: its live chained
	// sessions are revoked when it is revoked again.
	late := chained("ASIAQ3EGVCHAINLATE01", other.AccessKeyID, t0.Add(time.Minute))
	mustCreate(t, s, late)
	if err := s.RevokeSTSSession(ctx, other.AccessKeyID, earlier); err != nil {
		t.Fatal(err)
	}
	if got, err := s.RevokeSTSSessionChain(ctx, other.AccessKeyID, at); err != nil || fmt.Sprint(akids(got)) != fmt.Sprint([]string{late.AccessKeyID}) {
		t.Fatalf("RevokeSTSSessionChain of a revoked session = %v, %v; want its chained session", akids(got), err)
	}
	if _, err := s.RevokeSTSSessionChain(ctx, "ASIANOSUCHKEY0000000", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeSTSSessionChain of an unknown key = %v, want ErrNotFound", err)
	}
}

// testSTSSessionChainedFromRevoked: no session is stored chained from a
// revoked or unknown session.
func testSTSSessionChainedFromRevoked(t *testing.T, s store.Store) {
	parent := stsSession("ASIAQ3EGVPARENT00001", t0)
	mustCreate(t, s, parent, chained("ASIAQ3EGVCHILD000001", parent.AccessKeyID, t0))
	if err := s.RevokeSTSSession(ctx, parent.AccessKeyID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.STSSession{
		chained("ASIAQ3EGVCHILD000002", parent.AccessKeyID, t0.Add(2*time.Minute)),
		chained("ASIAQ3EGVCHILD000003", "ASIANOSUCHKEY0000000", t0.Add(2*time.Minute)),
	} {
		if err := s.CreateSTSSession(ctx, c); !errors.Is(err, store.ErrRevoked) {
			t.Errorf("CreateSTSSession chained from %s = %v, want ErrRevoked", c.ParentAccessKeyID, err)
		}
		if _, err := s.GetSTSSession(ctx, c.AccessKeyID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s stored: %v", c.AccessKeyID, err)
		}
	}
}

// testSTSSessionRevokeChainConcurrent: sessions chained while their parent
// is being revoked are either refused or revoked with it; none survives.
func testSTSSessionRevokeChainConcurrent(t *testing.T, s store.Store) {
	parent := stsSession("ASIAQ3EGVRACEPARENT1", t0)
	mustCreate(t, s, parent)
	const n = 24
	at := t0.Add(time.Minute)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := chained(fmt.Sprintf("ASIAQ3EGVRACECHILD%02d", i), parent.AccessKeyID, t0.Add(time.Second))
			err := s.InTx(ctx, func(tx store.Tx) error { return tx.CreateSTSSession(ctx, c) })
			if err != nil && !errors.Is(err, store.ErrRevoked) {
				errs <- fmt.Errorf("create %s: %w", c.AccessKeyID, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		err := s.InTx(ctx, func(tx store.Tx) error {
			_, err := tx.RevokeSTSSessionChain(ctx, parent.AccessKeyID, at)
			return err
		})
		if err != nil {
			errs <- fmt.Errorf("revoke: %w", err)
		}
	}()
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range n {
		akid := fmt.Sprintf("ASIAQ3EGVRACECHILD%02d", i)
		got, err := s.GetSTSSession(ctx, akid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.RevokedAt.IsZero() {
			t.Errorf("%s, chained while its parent was revoked, is live", akid)
		}
	}
}

// testSTSSessionRevokeBySourceIdentity: every live session carrying the
// source identity is revoked, whatever its role and account; no other.
func testSTSSessionRevokeBySourceIdentity(t *testing.T, s store.Store) {
	at := t0.Add(30 * time.Minute)
	d1 := stsSession("ASIAQ3EGVDIEGO000001", t0)
	d1.SourceIdentity = "Diego"
	d2 := chained("ASIAQ3EGVDIEGO000002", d1.AccessKeyID, t0.Add(time.Minute))
	d2.SourceIdentity, d2.AccountID, d2.RoleARN = "Diego", "222222222222", "arn:aws:iam::222222222222:role/CriticalRole_2"
	expired := stsSession("ASIAQ3EGVDIEGO000003", t0)
	expired.SourceIdentity, expired.ExpiresAt = "Diego", at
	revoked := stsSession("ASIAQ3EGVDIEGO000004", t0)
	revoked.SourceIdentity = "Diego"
	lower := stsSession("ASIAQ3EGVDIEGO000005", t0)
	lower.SourceIdentity = "diego"
	saanvi := stsSession("ASIAQ3EGVSAANVI00001", t0)
	mustCreate(t, s, d1, d2, expired, revoked, lower, saanvi)
	if err := s.RevokeSTSSession(ctx, revoked.AccessKeyID, t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.RevokeSTSSessionsBySourceIdentity(ctx, "Diego", at)
	if err != nil {
		t.Fatalf("RevokeSTSSessionsBySourceIdentity: %v", err)
	}
	ids := akids(got)
	sort.Strings(ids)
	if fmt.Sprint(ids) != fmt.Sprint([]string{d1.AccessKeyID, d2.AccessKeyID}) {
		t.Fatalf("revoked %v, want %s and %s", ids, d1.AccessKeyID, d2.AccessKeyID)
	}
	for akid, want := range map[string]time.Time{
		d1.AccessKeyID: at, d2.AccessKeyID: at, expired.AccessKeyID: {}, revoked.AccessKeyID: t0,
		lower.AccessKeyID: {}, saanvi.AccessKeyID: {},
	} {
		if got := revokedAt(t, s, akid); !got.Equal(want) {
			t.Errorf("%s RevokedAt = %v, want %v", akid, got, want)
		}
	}
	if again, err := s.RevokeSTSSessionsBySourceIdentity(ctx, "Diego", at); err != nil || len(again) != 0 {
		t.Fatalf("second RevokeSTSSessionsBySourceIdentity = %v, %v; want nothing", akids(again), err)
	}
	if _, err := s.RevokeSTSSessionsBySourceIdentity(ctx, "", at); err == nil {
		t.Fatal("RevokeSTSSessionsBySourceIdentity with an empty source identity succeeded")
	}
}
