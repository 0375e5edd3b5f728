package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// runWebSessions runs the conformance cases of store.WebSessionStore:
// browser sessions and login failures.
func runWebSessions(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"SessionCreateGet", testSessionCreateGet},
		{"SessionNotFound", testSessionNotFound},
		{"SessionConflict", testSessionConflict},
		{"SessionRevoke", testSessionRevoke},
		{"SessionRevokeUser", testSessionRevokeUser},
		{"SessionRevokeUserInTx", testSessionRevokeUserInTx},
		{"SessionDelete", testSessionDelete},
		{"SessionList", testSessionList},
		{"LoginFailures", testLoginFailures},
		{"LoginFailuresConcurrent", testLoginFailuresConcurrent},
		{"LoginFailuresDelete", testLoginFailuresDelete},
		{"LoginReserve", testLoginReserve},
		{"LoginReserveConcurrent", testLoginReserveConcurrent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

func idHash(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

func session(id, username string) store.BrowserSession {
	return store.BrowserSession{
		IDHash:       idHash(id),
		Username:     username,
		Connector:    "local",
		Identity:     []byte(`{"username":"` + username + `","attributes":{"displayName":["José García"]}}`),
		CreatedAt:    t0,
		AuthnInstant: t0.Add(-time.Second),
		ExpiresAt:    t0.Add(8 * time.Hour),
	}
}

func testSessionCreateGet(t *testing.T, s store.Store) {
	want := session("s1", "DiegoRamirez")
	if err := s.CreateBrowserSession(ctx, want); err != nil {
		t.Fatalf("CreateBrowserSession: %v", err)
	}
	got, err := s.GetBrowserSession(ctx, idHash("s1"))
	if err != nil {
		t.Fatalf("GetBrowserSession: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetBrowserSession = %+v\nwant %+v", got, want)
	}
	if !got.RevokedAt.IsZero() {
		t.Fatalf("a new session is revoked at %v", got.RevokedAt)
	}
	if err := s.CreateBrowserSession(ctx, store.BrowserSession{IDHash: []byte("short"), Username: "x", Connector: "local",
		Identity: []byte("{}"), CreatedAt: t0, AuthnInstant: t0, ExpiresAt: t0}); err == nil {
		t.Fatal("CreateBrowserSession with a 5-byte id hash succeeded")
	}
}

func testSessionNotFound(t *testing.T, s store.Store) {
	if _, err := s.GetBrowserSession(ctx, idHash("none")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetBrowserSession(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.RevokeBrowserSession(ctx, idHash("none"), t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RevokeBrowserSession(unknown) = %v, want ErrNotFound", err)
	}
}

func testSessionConflict(t *testing.T, s store.Store) {
	if err := s.CreateBrowserSession(ctx, session("same", "alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBrowserSession(ctx, session("same", "bob")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateBrowserSession with the same id = %v, want ErrConflict", err)
	}
	got, err := s.GetBrowserSession(ctx, idHash("same"))
	if err != nil || got.Username != "alice" {
		t.Fatalf("after a conflict the session belongs to %q (%v), want alice", got.Username, err)
	}
}

func testSessionRevoke(t *testing.T, s store.Store) {
	if err := s.CreateBrowserSession(ctx, session("s1", "alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBrowserSession(ctx, session("s2", "alice")); err != nil {
		t.Fatal(err)
	}
	first := t0.Add(time.Minute)
	if err := s.RevokeBrowserSession(ctx, idHash("s1"), first); err != nil {
		t.Fatalf("RevokeBrowserSession: %v", err)
	}
	if err := s.RevokeBrowserSession(ctx, idHash("s1"), first.Add(time.Hour)); err != nil {
		t.Fatalf("second RevokeBrowserSession: %v", err)
	}
	got, err := s.GetBrowserSession(ctx, idHash("s1"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.RevokedAt.Equal(first) {
		t.Fatalf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, first)
	}
	other, err := s.GetBrowserSession(ctx, idHash("s2"))
	if err != nil || !other.RevokedAt.IsZero() {
		t.Fatalf("revoking s1 touched s2: %+v, %v", other, err)
	}
}

func testSessionRevokeUser(t *testing.T, s store.Store) {
	for i, sess := range []store.BrowserSession{
		session("a1", "Alice"), session("a2", "alice"), session("a3", "ALICE"),
		session("b1", "bob"),
	} {
		if err := s.CreateBrowserSession(ctx, sess); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	ldap := session("l1", "alice")
	ldap.Connector = "ldap"
	if err := s.CreateBrowserSession(ctx, ldap); err != nil {
		t.Fatal(err)
	}
	earlier := t0.Add(time.Minute)
	if err := s.RevokeBrowserSession(ctx, idHash("a3"), earlier); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Hour)
	n, err := s.RevokeUserBrowserSessions(ctx, "local", "aLiCe", at)
	if err != nil {
		t.Fatalf("RevokeUserBrowserSessions: %v", err)
	}
	if n != 2 {
		t.Fatalf("RevokeUserBrowserSessions revoked %d, want 2 (a3 was revoked already)", n)
	}
	want := map[string]time.Time{"a1": at, "a2": at, "a3": earlier, "b1": {}, "l1": {}}
	for id, revoked := range want {
		got, err := s.GetBrowserSession(ctx, idHash(id))
		if err != nil {
			t.Fatal(err)
		}
		if !got.RevokedAt.Equal(revoked) {
			t.Errorf("session %s: RevokedAt = %v, want %v", id, got.RevokedAt, revoked)
		}
	}
	if n, err := s.RevokeUserBrowserSessions(ctx, "local", "nobody", at); err != nil || n != 0 {
		t.Fatalf("RevokeUserBrowserSessions(nobody) = %d, %v; want 0, nil", n, err)
	}
}

func testSessionRevokeUserInTx(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, user("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBrowserSession(ctx, session("a1", "alice")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, "alice")
		if err != nil {
			return err
		}
		u.Disabled = true
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if n, err := tx.RevokeUserBrowserSessions(ctx, "local", "alice", t0); err != nil || n != 1 {
			return fmt.Errorf("revoked %d: %v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	got, err := s.GetBrowserSession(ctx, idHash("a1"))
	if err != nil || !got.RevokedAt.IsZero() {
		t.Fatalf("a rolled-back revocation stuck: %+v, %v", got, err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.RevokeUserBrowserSessions(ctx, "local", "alice", t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetBrowserSession(ctx, idHash("a1")); err != nil || !got.RevokedAt.Equal(t0) {
		t.Fatalf("a committed revocation is missing: %+v, %v", got, err)
	}
}

func testSessionDelete(t *testing.T, s store.Store) {
	live := session("live", "alice")
	expired := session("expired", "alice")
	expired.ExpiresAt = t0.Add(-time.Minute)
	revoked := session("revoked", "alice")
	revokedRecently := session("revoked-recently", "alice")
	for _, sess := range []store.BrowserSession{live, expired, revoked, revokedRecently} {
		if err := s.CreateBrowserSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeBrowserSession(ctx, idHash("revoked"), t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeBrowserSession(ctx, idHash("revoked-recently"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteBrowserSessions(ctx, t0)
	if err != nil || n != 2 {
		t.Fatalf("DeleteBrowserSessions = %d, %v; want 2", n, err)
	}
	for id, exists := range map[string]bool{"live": true, "expired": false, "revoked": false, "revoked-recently": true} {
		_, err := s.GetBrowserSession(ctx, idHash(id))
		if exists && err != nil || !exists && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %s after delete: %v (want exists=%v)", id, err, exists)
		}
	}
}

func testLoginFailures(t *testing.T, s store.Store) {
	for i := 0; i < 4; i++ {
		if err := s.RecordLoginFailure(ctx, "user:alice", t0.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatalf("RecordLoginFailure: %v", err)
		}
	}
	if err := s.RecordLoginFailure(ctx, "addr:192.0.2.1", t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecentLoginFailures(ctx, "user:alice", t0, 10)
	if err != nil {
		t.Fatalf("RecentLoginFailures: %v", err)
	}
	want := []time.Time{t0.Add(3 * time.Minute), t0.Add(2 * time.Minute), t0.Add(time.Minute)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RecentLoginFailures(after t0) = %v, want %v (newest first, since excluded)", got, want)
	}
	got, err = s.RecentLoginFailures(ctx, "user:alice", t0.Add(-time.Second), 2)
	if err != nil || !reflect.DeepEqual(got, want[:2]) {
		t.Fatalf("RecentLoginFailures(limit 2) = %v, %v; want %v", got, err, want[:2])
	}
	if got, err := s.RecentLoginFailures(ctx, "user:bob", t0.Add(-time.Hour), 10); err != nil || len(got) != 0 {
		t.Fatalf("RecentLoginFailures(bob) = %v, %v; want none", got, err)
	}
	if err := s.ClearLoginFailures(ctx, "user:alice"); err != nil {
		t.Fatalf("ClearLoginFailures: %v", err)
	}
	if got, _ := s.RecentLoginFailures(ctx, "user:alice", t0.Add(-time.Hour), 10); len(got) != 0 {
		t.Fatalf("after ClearLoginFailures: %v", got)
	}
	if got, _ := s.RecentLoginFailures(ctx, "addr:192.0.2.1", t0.Add(-time.Hour), 10); len(got) != 1 {
		t.Fatalf("ClearLoginFailures(user:alice) touched another key: %v", got)
	}
}

// testLoginFailuresConcurrent: failures recorded at once by many writers
// (replicas) are all counted.
func testLoginFailuresConcurrent(t *testing.T, s store.Store) {
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.RecordLoginFailure(ctx, "addr:198.51.100.7", t0.Add(time.Duration(i)*time.Millisecond))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RecentLoginFailures(ctx, "addr:198.51.100.7", t0.Add(-time.Second), 100)
	if err != nil || len(got) != n {
		t.Fatalf("RecentLoginFailures = %d entries, %v; want %d", len(got), err, n)
	}
}

func testLoginFailuresDelete(t *testing.T, s store.Store) {
	for _, at := range []time.Time{t0.Add(-time.Hour), t0.Add(-time.Minute), t0, t0.Add(time.Minute)} {
		if err := s.RecordLoginFailure(ctx, "k", at); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.DeleteLoginFailures(ctx, t0)
	if err != nil || n != 2 {
		t.Fatalf("DeleteLoginFailures = %d, %v; want 2", n, err)
	}
	got, err := s.RecentLoginFailures(ctx, "k", t0.Add(-24*time.Hour), 10)
	if err != nil || len(got) != 2 || !got[1].Equal(t0) {
		t.Fatalf("after delete: %v, %v; want the failures at t0 and later", got, err)
	}
}

// testSessionList: ListBrowserSessions filters by account (the name in any
// case) and liveness, newest first, and caps the result.
func testSessionList(t *testing.T, s store.Store) {
	a1, a2, b1 := session("a1", "Alice"), session("a2", "alice"), session("b1", "bob")
	a2.CreatedAt = t0.Add(time.Minute)
	b1.CreatedAt = t0.Add(2 * time.Minute)
	expired := session("a3", "alice")
	expired.ExpiresAt = t0.Add(time.Hour)
	expired.CreatedAt = t0.Add(-time.Minute)
	ldap := session("l1", "alice")
	ldap.Connector = "ldap"
	ldap.CreatedAt = t0.Add(-2 * time.Minute)
	for _, sess := range []store.BrowserSession{a1, a2, b1, expired, ldap} {
		if err := s.CreateBrowserSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeBrowserSession(ctx, idHash("a1"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	names := func(f store.BrowserSessionFilter) string {
		t.Helper()
		got, err := s.ListBrowserSessions(ctx, f)
		if err != nil {
			t.Fatalf("ListBrowserSessions(%+v): %v", f, err)
		}
		var out []string
		for _, g := range got {
			for _, id := range []string{"a1", "a2", "a3", "b1", "l1"} {
				if string(g.IDHash) == string(idHash(id)) {
					out = append(out, id)
				}
			}
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		f    store.BrowserSessionFilter
		want string
	}{
		{store.BrowserSessionFilter{}, "b1,a2,a1,a3,l1"},
		{store.BrowserSessionFilter{Connector: "local", Username: "ALICE"}, "a2,a1,a3"},
		{store.BrowserSessionFilter{Connector: "local", Username: "alice", ActiveAt: t0.Add(2 * time.Hour)}, "a2"},
		{store.BrowserSessionFilter{ActiveAt: t0.Add(2 * time.Hour)}, "b1,a2,l1"},
		{store.BrowserSessionFilter{Connector: "ldap"}, "l1"},
		{store.BrowserSessionFilter{Limit: 2}, "b1,a2"},
	} {
		if got := names(tc.f); got != tc.want {
			t.Errorf("ListBrowserSessions(%+v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}
