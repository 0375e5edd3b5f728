package audit

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
	"idpbridge/idp/store/sqlite"
)

// The tests of the trail's storage run against both backends with the
// real stores.

func TestMain(m *testing.M) { pgtest.Main(m) }

type backend struct {
	name string
	open func(t testing.TB) store.Store
}

func backends() []backend {
	return []backend{
		{"sqlite", openSQLite},
		{"postgres", openPostgres},
	}
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	// Hundreds of concurrent callers under the race detector on a busy
	// machine can outlast the production query timeout.
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpbridge.db"), sqlite.Options{QueryTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func openPostgres(t testing.TB) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// eachBackend runs fn as a parallel subtest per backend.
func eachBackend(t *testing.T, fn func(t *testing.T, s store.Store)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.open(t))
		})
	}
}

// waitFor calls done until it reports true, backing off briefly between
// calls. It fails the test, naming what it waited
// for, shortly before the test binary's deadline (go test -timeout).
func waitFor(t testing.TB, what string, done func() bool) {
	t.Helper()
	ctx := context.Background()
	if tt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := tt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
			defer cancel()
		}
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

var (
	keyOnce  sync.Once
	testKey  *signing.Key
	testKey2 *signing.Key
)

// testKeys returns two signing keys, made once per test binary (RSA-2048
// to keep the tests quick; production keys are RSA-3072).
func testKeys(t testing.TB) (*signing.Key, *signing.Key) {
	t.Helper()
	keyOnce.Do(func() {
		testKey, testKey2 = newTestKey(t, "audit-test-1"), newTestKey(t, "audit-test-2")
	})
	return testKey, testKey2
}

func newTestKey(t testing.TB, cn string) *signing.Key {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.AddDate(2, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &signing.Key{ID: signing.KeyID(cert), State: store.KeyActive, Certificate: cert, PrivateKey: priv}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// genRecord makes the i-th record of a varied stream: STS calls allowed and
// denied, sign-ins and assertions, with distinct event IDs.
func genRecord(i int, at time.Time) Record {
	c := call(devUser(), acctA, cliUA)
	c.EventID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	c.RequestID = fmt.Sprintf("10000000-0000-4000-8000-%012d", i)
	c.Time = at
	who := []string{"Alice", "Bob", "Carol", "Dave", "Erin"}[i%5]
	switch i % 4 {
	case 0:
		return AssumeRoleEvent(c, AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: who, SourceIdentity: who},
			&AssumeRoleOutput{AccessKeyID: "ASIAQ3EGVEXAMPLE0001", Expiration: at.Add(time.Hour),
				AssumedRoleID: devRoleID + ":" + who, ARN: "arn:aws:sts::" + acctA + ":assumed-role/Developer_Role/" + who, SourceIdentity: who}, nil)
	case 1:
		return AssumeRoleEvent(c, AssumeRoleParams{RoleARN: criticalRoleARN, RoleSessionName: who, SourceIdentity: who}, nil,
			&APIError{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"})
	case 2:
		c2 := idpCall(IdpbridgeUser(who, "local"))
		c2.EventID, c2.RequestID, c2.Time = c.EventID, c.RequestID, at
		return SignInEvent(c2, "local", nil)
	default:
		c2 := idpCall(IdpbridgeUser(who, "local"))
		c2.EventID, c2.RequestID, c2.Time = c.EventID, c.RequestID, at
		return IssueAssertionEvent(c2, AssertionRequest{ServiceProvider: "aws", EntityID: "urn:amazon:webservices"},
			AssertionResponse{AssertionID: fmt.Sprintf("_a%d", i), NameID: who, SourceIdentity: who, Roles: []string{samlRoleARN}})
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
