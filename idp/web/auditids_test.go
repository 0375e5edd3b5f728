package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// noUUIDRand is the injected randomness with one failure: it cannot supply
// the 16 bytes of a UUID (session IDs and CSRF values, 32 bytes, still work).
type noUUIDRand struct{}

var errNoEntropy = errors.New("entropy source down")

func (noUUIDRand) Read(p []byte) (int, error) {
	if len(p) == 16 {
		return 0, errNoEntropy
	}
	return rand.Read(p)
}

// TestAuditIDsUseInjectedRandomness: the sign-in record's IDs come from
// IdPOptions.Rand only. When it fails, there is no record and so, failing
// closed, no session; nothing falls back to another source.
func TestAuditIDsUseInjectedRandomness(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false, func(_ *testing.T, o *IdPOptions) { o.Rand = noUUIDRand{} })
	b := ti.browser()

	res := b.login("alice", alicePassword, "")
	if res.code != http.StatusServiceUnavailable || !strings.Contains(res.body, "try again") {
		t.Fatalf("login without randomness for the record's IDs = %d:\n%s", res.code, res.body)
	}
	if _, ok := setCookies(res.header)[ti.sessName]; ok {
		t.Fatal("a session cookie was sent although the sign-in could not be recorded")
	}
	if b.signedIn() {
		t.Fatal("signed in although the sign-in could not be recorded")
	}
	// A refusal is still a refusal, with no record made up.
	if res := b.login("alice", "wrong-password", ""); res.code != http.StatusUnauthorized {
		t.Fatalf("wrong password without randomness for the record's IDs = %d", res.code)
	}
	if recs := ti.events.records(); len(recs) != 0 {
		t.Fatalf("%d records written with IDs from another source: %+v", len(recs), recs)
	}
}
