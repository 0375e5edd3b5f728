package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
)

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idpbridge.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	jan := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ev := func(id string, at time.Time) store.AuditEvent {
		return store.AuditEvent{EventTime: at, EventID: id, Source: "idpbridge", Name: "SignIn", Record: []byte(`{}`)}
	}
	if err := db.AppendAuditEvents(ctx, []store.AuditEvent{ev("jan", jan), ev("mar", jan.AddDate(0, 2, 0))}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAuditDigest(ctx, store.AuditDigest{Number: 1, Body: []byte("{}"), Signature: []byte{1}, Entries: []byte{}, CreatedAt: jan}); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, stmt := range []string{
		`UPDATE audit_events SET record = '{"edited":true}'`,
		`DELETE FROM audit_events`,
		`DELETE FROM audit_events WHERE event_id = 'jan'`,
		`UPDATE audit_digests SET body = 'x'`,
		`DELETE FROM audit_digests`,
	} {
		_, err := raw.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused by the trigger", stmt, err)
		}
	}

	// Pruning works only inside a transaction, and leaves no permit behind.
	if _, err := db.PruneAuditEvents(ctx, jan.AddDate(0, 1, 0)); err == nil {
		t.Error("PruneAuditEvents outside a transaction: no error")
	}
	err = db.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.PruneAuditEvents(ctx, jan.AddDate(0, 1, 0))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var permits, events int
	if err := raw.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM audit_prune_permit), (SELECT count(*) FROM audit_events)`).Scan(&permits, &events); err != nil {
		t.Fatal(err)
	}
	if permits != 0 || events != 1 {
		t.Fatalf("after prune: %d permits, %d events; want 0 and 1", permits, events)
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM audit_events`); err == nil {
		t.Error("DELETE after a prune was allowed")
	}
}
