package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

func auditRow(id string, at time.Time) store.AuditEvent {
	return store.AuditEvent{EventTime: at, EventID: id, Source: "idpbridge", Name: "SignIn", Record: []byte(`{"eventID":"` + id + `"}`)}
}

// isRefused reports whether err is the append-only trigger's refusal or a
// missing privilege (both SQLSTATE 42501).
func isRefused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42501"
}

func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newStore(t).(*postgres.DB)
	now := time.Now().UTC()
	if err := db.AppendAuditEvents(ctx, []store.AuditEvent{auditRow("a", now), auditRow("far", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAuditDigest(ctx, store.AuditDigest{Number: 1, Body: []byte("{}"), Signature: []byte{1}, Entries: []byte{}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	part := "audit_events_y" + now.Format("2006") + "m" + now.Format("01")
	var where string
	if err := db.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_events WHERE event_id = 'a'`).Scan(&where); err != nil || where != part {
		t.Fatalf("this month's event is in %q (%v), want partition %s", where, err, part)
	}
	if err := db.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_events WHERE event_id = 'far'`).Scan(&where); err != nil || where != "audit_events_default" {
		t.Fatalf("an event of 1999 is in %q (%v), want the default partition", where, err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET record = '{"edited":true}' WHERE event_id = 'a'`,
		`UPDATE ` + part + ` SET name = 'x'`,
		`UPDATE audit_events_default SET name = 'x'`,
		`DELETE FROM audit_events WHERE event_id = 'a'`,
		`DELETE FROM ` + part,
		`DELETE FROM audit_events_default`,
		`TRUNCATE audit_events`,
		`TRUNCATE ` + part,
		`TRUNCATE audit_events_default`,
		`UPDATE audit_digests SET body = '{"forged":true}'`,
		`DELETE FROM audit_digests`,
		`TRUNCATE audit_digests`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := db.Pool().Exec(ctx, stmt)
			if !isRefused(err) {
				t.Fatalf("%s as the owner: %v, want refused by the trigger", stmt, err)
			}
		})
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("events after refused changes = %d, %v; want 2", n, err)
	}
}

// TestAuditNonOwnerRole follows the migration's instructions for running
// idpbridge as a role that does not own the tables: it can append, read
// and create next month's partition, and nothing else.
func TestAuditNonOwnerRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schemaURL := pgtest.Schema(t)
	owner, err := postgres.Open(ctx, schemaURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(schemaURL)
	schema := u.Query().Get("search_path")
	b := make([]byte, 6)
	rand.Read(b)
	role := "idpbridge_app_" + hex.EncodeToString(b)
	ident := pgx.Identifier{role}.Sanitize()
	rand.Read(b)
	password := hex.EncodeToString(b)
	grants := []string{
		// A password, so that the role can sign in whatever the server's
		// authentication rules for other roles are.
		`CREATE ROLE ` + ident + ` LOGIN PASSWORD '` + password + `'`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + ident,
		`GRANT SELECT ON schema_migrations TO ` + ident,
		`GRANT SELECT, INSERT ON audit_events, audit_digests TO ` + ident,
		`GRANT USAGE ON SEQUENCE audit_events_seq TO ` + ident,
		`GRANT EXECUTE ON FUNCTION audit_ensure_partition(timestamptz) TO ` + ident,
	}
	for _, g := range grants {
		if _, err := owner.Pool().Exec(ctx, g); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), schemaURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), `DROP OWNED BY `+ident)
		c.Exec(context.Background(), `DROP ROLE IF EXISTS `+ident)
	})
	u.User = url.UserPassword(role, password)
	app, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	future := time.Date(2031, 7, 4, 0, 0, 0, 0, time.UTC)
	if err := app.EnsureAuditPartitions(ctx, future, future); err != nil {
		t.Fatalf("EnsureAuditPartitions as the application role: %v", err)
	}
	if err := app.AppendAuditEvents(ctx, []store.AuditEvent{auditRow("x", future)}); err != nil {
		t.Fatalf("append as the application role: %v", err)
	}
	got, err := app.LookupAuditEvents(ctx, store.AuditQuery{Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("lookup as the application role = %v, %v", got, err)
	}
	var where string
	if err := app.Pool().QueryRow(ctx, `SELECT tableoid::regclass::text FROM audit_events`).Scan(&where); err != nil || where != "audit_events_y2031m07" {
		t.Fatalf("event in %q (%v), want audit_events_y2031m07", where, err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET name = 'x'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
		`DROP TABLE audit_events_y2031m07`,
		`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
		`ALTER TABLE audit_events DETACH PARTITION audit_events_y2031m07`,
		`UPDATE audit_digests SET body = '{}'`,
	} {
		_, err := app.Pool().Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || (pe.Code != "42501" && !strings.HasPrefix(pe.Code, "42")) {
			t.Errorf("%s as the application role: %v, want a privilege error", stmt, err)
		}
	}
	if _, err := app.Pool().Exec(ctx, `SELECT audit_ensure_partition(now()); SELECT 1`); err != nil {
		t.Errorf("audit_ensure_partition again: %v", err)
	}
	err = app.InTx(ctx, func(tx store.Tx) error {
		_, err := tx.PruneAuditEvents(ctx, future.AddDate(0, 2, 0))
		return err
	})
	if err == nil {
		t.Error("prune as the application role succeeded; it must need the owner")
	}
}

// The partition of a month whose events already sit in the default
// partition cannot be created; the function warns instead of failing, and
// appends keep working.
func TestAuditEnsurePartitionAfterDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newStore(t).(*postgres.DB)
	at := time.Date(2033, 2, 3, 0, 0, 0, 0, time.UTC)
	if err := db.AppendAuditEvents(ctx, []store.AuditEvent{auditRow("early", at)}); err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureAuditPartitions(ctx, at, at); err != nil {
		t.Fatalf("EnsureAuditPartitions over a populated default partition: %v", err)
	}
	if err := db.AppendAuditEvents(ctx, []store.AuditEvent{auditRow("later", at)}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events_default`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("default partition holds %d (%v), want 2", n, err)
	}
}
