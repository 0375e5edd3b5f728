package sts

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

// stallTimeout is the query timeout of the stores behind the proxy; short,
// so that the tests wait little.
const stallTimeout = 300 * time.Millisecond

// stallGuard is how long a test waits for a call that must return at all.
const stallGuard = 15 * time.Second

var longRole = []string{"RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1"}

// proxiedPostgres opens a migrated PostgreSQL schema twice: directly, and
// through a proxy that can stall, with a short query timeout. The service
// on the proxied store writes the real audit trail into the database.
func proxiedPostgres(t *testing.T) (direct store.Store, proxied store.Store, p *pgtest.Proxy) {
	t.Helper()
	u := pgtest.Schema(t)
	d, err := postgres.Open(context.Background(), u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	p = pgtest.NewProxy(t, u)
	pd, err := postgres.Open(context.Background(), pgtest.SlowConnect(t, p.URL(u)), postgres.Options{QueryTimeout: stallTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pd.Close() })
	return d, pd, p
}

func withAuditWriter(st store.Store) envOption {
	return withOptions(func(o *Options) {
		o.Trail = audit.NewWriter(st, audit.WriterOptions{Logger: slog.New(slog.DiscardHandler)})
	})
}

// doGuarded is e.do that fails the test when the call does not return
// within stallGuard.
func doGuarded(t *testing.T, e *testEnv, c *creds, action string, kv ...string) response {
	t.Helper()
	done := make(chan response, 1)
	go func() { done <- e.do(c, form(action, kv...)) }()
	select {
	case r := <-done:
		return r
	case <-time.After(stallGuard):
		t.Fatalf("%s did not return while the database stalled", action)
		return response{}
	}
}

// countingStore counts the transactions begun on it.
type countingStore struct {
	store.Store
	txs atomic.Int64
}

func (c *countingStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	return c.Store.InTx(ctx, fn)
}

// TestStalledDatabaseAnswersServiceUnavailable: while the database does not
// answer, AssumeRole and GetCallerIdentity return (within about the query
// timeout) with ServiceUnavailable, 503, instead of hanging with the
// connection; a call whose session lookup timed out does not then wait for
// an audit transaction as well; once the database answers again, calls
// succeed.
func TestStalledDatabaseAnswersServiceUnavailable(t *testing.T) {
	t.Parallel()
	_, pd, proxy := proxiedPostgres(t)
	st := &countingStore{Store: pd}
	e := newEnvOn(t, seedConfig, st, withAuditWriter(st))
	_, s := e.assumeRole(johnCreds, longRole...)

	proxy.Stall()
	wantError(t, doGuarded(t, e, &johnCreds, "AssumeRole", longRole...),
		http.StatusServiceUnavailable, CodeServiceUnavailable, msgServiceUnavailable)
	before := st.txs.Load()
	wantError(t, doGuarded(t, e, &s, "GetCallerIdentity"),
		http.StatusServiceUnavailable, CodeServiceUnavailable, msgServiceUnavailable)
	if n := st.txs.Load() - before; n != 0 {
		t.Errorf("GetCallerIdentity whose session lookup timed out began %d more transactions", n)
	}
	r := doGuarded(t, e, &johnCreds, "AssumeRole", longRole...)
	if r.err == nil || r.err.Error.Type != "Receiver" {
		t.Fatalf("ServiceUnavailable is not the Receiver's fault: %s", r.body)
	}

	proxy.Resume()
	if r := doGuarded(t, e, &s, "GetCallerIdentity"); r.status != http.StatusOK {
		t.Fatalf("after the stall: %d %s", r.status, r.body)
	}
}

// TestUnreachableDatabaseAnswersServiceUnavailable: a database that cannot
// be reached at all (the connections drop, new ones are refused) is
// ServiceUnavailable, 503, too; a failure that is not the database's stays
// InternalFailure, 500.
func TestUnreachableDatabaseAnswersServiceUnavailable(t *testing.T) {
	t.Parallel()
	_, st, proxy := proxiedPostgres(t)
	e := newEnvOn(t, seedConfig, st)
	_, s := e.assumeRole(johnCreds, longRole...)

	e.trail.Fail = errors.New("disk full")
	wantError(t, e.do(&johnCreds, form("AssumeRole", longRole...)),
		http.StatusInternalServerError, CodeInternalFailure, msgInternalFailure)
	e.trail.Fail = nil

	proxy.Close()
	wantError(t, doGuarded(t, e, &johnCreds, "AssumeRole", longRole...),
		http.StatusServiceUnavailable, CodeServiceUnavailable, msgServiceUnavailable)
	wantError(t, doGuarded(t, e, &s, "GetCallerIdentity"),
		http.StatusServiceUnavailable, CodeServiceUnavailable, msgServiceUnavailable)
}

// TestCommitOutcomeUnknown: the COMMIT of the credential transaction goes
// unanswered, so the service cannot know whether the credentials exist and
// answers ServiceUnavailable. Whatever the server did, credentials and
// their audit record are all or nothing: either the access key works and
// its AssumeRole record is in the trail, or neither.
//
// The credentials the service minted are recovered from a twin service
// with the same clock, keys and random source, on a store of its own: it
// answers the same call with the same credentials.
func TestCommitOutcomeUnknown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stall pgtest.CommitStall
	}{
		{"server never got the COMMIT", pgtest.HoldCommit},
		{"server's answer to COMMIT lost", pgtest.HoldCommitAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			direct, st, proxy := proxiedPostgres(t)
			e := newEnvOn(t, seedConfig, st, withAuditWriter(st))
			twin := newEnvOn(t, seedConfig, openTestStore(t))

			// The same calls on both, so that both draw the same random
			// bytes: one that succeeds, then the one whose COMMIT stalls.
			e.assumeRole(johnCreds, longRole...)
			twin.assumeRole(johnCreds, longRole...)
			proxy.ArmCommit(tc.stall)
			wantError(t, doGuarded(t, e, &johnCreds, "AssumeRole", longRole...),
				http.StatusServiceUnavailable, CodeServiceUnavailable, msgServiceUnavailable)
			_, minted := twin.assumeRole(johnCreds, longRole...)
			// What the server did: with the COMMIT held back, nothing; with
			// its answer held back, it committed. On a machine slow enough
			// for the transaction to time out before its COMMIT went by,
			// only the all-or-nothing rule is checked.
			want := "either"
			select {
			case <-proxy.CommitSeen():
				want = "nothing"
				if tc.stall == pgtest.HoldCommitAnswer {
					want = "issued"
					select {
					case <-proxy.CommitAnswered():
					case <-time.After(stallGuard):
						t.Fatal("the server did not answer the COMMIT")
					}
				}
			default:
				t.Log("the transaction timed out before its COMMIT")
			}

			// Judge on the database directly, through a replica that did
			// not stall.
			check := newEnvOn(t, seedConfig, direct, withOptions(func(o *Options) { o.Rand = &counterRand{n: 1 << 40} }))
			_, recErr := direct.GetSTSSession(context.Background(), minted.key)
			r := check.do(&minted, form("GetCallerIdentity"))
			audited := 0
			err := direct.ScanAuditEvents(context.Background(), testNow.Add(-time.Hour), testNow.Add(time.Hour), func(ev store.AuditEvent) error {
				if ev.Name == audit.EventAssumeRole && bytes.Contains(ev.Record, []byte(minted.key)) {
					audited++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			usable := r.status == http.StatusOK
			switch {
			case usable && recErr == nil && audited == 1:
				if want == "nothing" {
					t.Fatal("credentials exist although the server never got the COMMIT")
				}
			case !usable && errors.Is(recErr, store.ErrNotFound) && audited == 0:
				wantError(t, r, http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
				if want == "issued" {
					t.Fatal("the server answered the COMMIT, yet nothing was stored")
				}
			default:
				t.Fatalf("credentials and their record are not all or nothing: usable %v (%d %s), session record %v, audit records %d",
					usable, r.status, r.body, recErr, audited)
			}
		})
	}
}
