package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

// proxied opens a migrated schema directly and through a proxy that counts
// round trips and can stall, on one connection. The query timeout leaves
// room for a new connection after a stall on a loaded machine.
func proxied(t *testing.T) (direct, db *postgres.DB, proxy *pgtest.Proxy) {
	t.Helper()
	u := pgtest.Schema(t)
	direct, err := postgres.Open(context.Background(), u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	if _, err := direct.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	proxy = pgtest.NewProxy(t, u)
	db, err = postgres.Open(context.Background(), proxy.URL(u), postgres.Options{MaxConns: 1, QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return direct, db, proxy
}

var batchT0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func batchSession(key string) store.STSSession {
	return store.STSSession{AccessKeyID: key, AccountID: "123456789012", RoleARN: "arn:aws:iam::123456789012:role/R",
		SessionName: "s", TokenSHA256: make([]byte, 32), IssuedAt: batchT0, ExpiresAt: batchT0.Add(time.Hour),
		Tags: []idp.Tag{{Key: "k", Value: "v"}}}
}

func batchEvent(id string) store.AuditEvent {
	return store.AuditEvent{EventTime: batchT0, EventID: id, Source: "sts.amazonaws.com", Name: "AssumeRole",
		Record: []byte(`{"eventID":"` + id + `"}`)}
}

// issueBatch writes a session and its audit event as one write batch.
func issueBatch(ctx context.Context, db *postgres.DB, key, eventID string) error {
	return db.InWriteBatch(ctx, func(tx store.Tx) error {
		if err := tx.CreateSTSSession(ctx, batchSession(key)); err != nil {
			return err
		}
		return tx.AppendAuditEvents(ctx, []store.AuditEvent{batchEvent(eventID)})
	})
}

func auditIDs(t *testing.T, db *postgres.DB) map[string]int {
	t.Helper()
	ids := map[string]int{}
	err := db.ScanAuditEvents(context.Background(), batchT0.Add(-time.Hour), batchT0.Add(time.Hour), func(e store.AuditEvent) error {
		ids[e.EventID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestWriteBatchOneRoundTrip: the session row, the audit row and the
// commit go to the server as one round trip (once the connection has
// prepared the statements), and both rows are stored.
func TestWriteBatchOneRoundTrip(t *testing.T) {
	t.Parallel()
	direct, db, proxy := proxied(t)
	ctx := context.Background()
	if err := issueBatch(ctx, db, "ASIAFIRST", "ev-first"); err != nil {
		t.Fatal(err)
	}
	before := proxy.RoundTrips()
	if err := issueBatch(ctx, db, "ASIASECOND", "ev-second"); err != nil {
		t.Fatal(err)
	}
	if n := proxy.RoundTrips() - before; n != 1 {
		t.Errorf("a credential transaction took %d round trips, want 1", n)
	}
	// The same transaction through InTx, for comparison (once to prepare
	// its statements): begin, two statements, commit.
	inTx := func(key, id string) error {
		return db.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateSTSSession(ctx, batchSession(key)); err != nil {
				return err
			}
			return tx.AppendAuditEvents(ctx, []store.AuditEvent{batchEvent(id)})
		})
	}
	if err := inTx("ASIATHIRD", "ev-third"); err != nil {
		t.Fatal(err)
	}
	before = proxy.RoundTrips()
	if err := inTx("ASIAFOURTH", "ev-fourth"); err != nil {
		t.Fatal(err)
	}
	if n := proxy.RoundTrips() - before; n != 4 {
		t.Errorf("InTx took %d round trips, want 4 (is the counter right?)", n)
	}
	for _, key := range []string{"ASIAFIRST", "ASIASECOND"} {
		got, err := direct.GetSTSSession(ctx, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if len(got.Tags) != 1 || got.Tags[0].Value != "v" || !got.ExpiresAt.Equal(batchT0.Add(time.Hour)) {
			t.Errorf("%s stored as %+v", key, got)
		}
	}
	if ids := auditIDs(t, direct); ids["ev-first"] != 1 || ids["ev-second"] != 1 {
		t.Errorf("audit events stored: %v", ids)
	}
}

// TestWriteBatchAllOrNothing: when a statement of the batch fails (the
// access key is taken), nothing of the batch is stored, the error is
// ErrConflict, and the connection serves the next batch.
func TestWriteBatchAllOrNothing(t *testing.T) {
	t.Parallel()
	direct, db, _ := proxied(t)
	ctx := context.Background()
	if err := direct.CreateSTSSession(ctx, batchSession("ASIATAKEN")); err != nil {
		t.Fatal(err)
	}
	// The audit event goes first, so that a half-applied batch would show.
	err := db.InWriteBatch(ctx, func(tx store.Tx) error {
		if err := tx.AppendAuditEvents(ctx, []store.AuditEvent{batchEvent("ev-lost")}); err != nil {
			return err
		}
		return tx.CreateSTSSession(ctx, batchSession("ASIATAKEN"))
	})
	if !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("batch with a taken access key = %v, want ErrConflict", err)
	}
	if ids := auditIDs(t, direct); ids["ev-lost"] != 0 {
		t.Errorf("the failed batch's audit event was stored: %v", ids)
	}
	if err := issueBatch(ctx, db, "ASIANEXT", "ev-next"); err != nil {
		t.Fatalf("the batch after a failed one: %v", err)
	}
	if ids := auditIDs(t, direct); ids["ev-next"] != 1 {
		t.Errorf("audit events stored: %v", ids)
	}
}

// TestWriteBatchRefusesReads: a read inside a write batch is an error and
// nothing is sent.
func TestWriteBatchRefusesReads(t *testing.T) {
	t.Parallel()
	direct, db, _ := proxied(t)
	ctx := context.Background()
	err := db.InWriteBatch(ctx, func(tx store.Tx) error {
		if err := tx.CreateSTSSession(ctx, batchSession("ASIAREAD")); err != nil {
			return err
		}
		_, err := tx.GetSTSSession(ctx, "ASIAREAD")
		return err
	})
	if err == nil {
		t.Fatal("a read in a write batch succeeded")
	}
	if _, err := direct.GetSTSSession(ctx, "ASIAREAD"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused batch's session: %v", err)
	}
}

// TestWriteBatchStalledServer: a batch the server does not answer gives
// up with ErrUnavailable within the query timeout; with the COMMIT held
// back, nothing is stored.
func TestWriteBatchStalledServer(t *testing.T) {
	t.Parallel()
	direct, db, proxy := proxied(t)
	ctx := context.Background()
	proxy.ArmCommit(pgtest.HoldCommit)
	err := within(t, "a write batch whose commit is held", func() error { return issueBatch(ctx, db, "ASIAHELD", "ev-held") })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("held batch = %v, want ErrUnavailable", err)
	}
	select {
	case <-proxy.CommitSeen():
	default:
		t.Fatal("the proxy did not see the batch's COMMIT")
	}
	if _, err := direct.GetSTSSession(ctx, "ASIAHELD"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the held batch's session: %v", err)
	}
	if ids := auditIDs(t, direct); ids["ev-held"] != 0 {
		t.Errorf("the held batch's audit event was stored: %v", ids)
	}
	if err := within(t, "a batch after the stall", func() error { return issueBatch(ctx, db, "ASIAAFTER", "ev-after") }); err != nil {
		t.Fatalf("after the stall: %v", err)
	}
}

// TestWriteBatchNoRowChanged: a write of the batch that changes no row
// (it was told it changed one) makes the batch fail, naming it.
func TestWriteBatchNoRowChanged(t *testing.T) {
	t.Parallel()
	_, db, _ := proxied(t)
	ctx := context.Background()
	err := db.InWriteBatch(ctx, func(tx store.Tx) error {
		return tx.RevokeSTSSession(ctx, "ASIANOSUCHKEY", batchT0)
	})
	if err == nil || !strings.Contains(err.Error(), "changed no row") {
		t.Fatalf("a batch whose write changed no row = %v", err)
	}
}
