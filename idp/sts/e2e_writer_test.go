package sts

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

// TestSeedScenariosWithAuditWriter runs the seed scenarios with the real
// audit Writer on the real store, SQLite and PostgreSQL, and reads the
// trail back from the store; then finds the chain by source identity the
// way `idpbridge audit lookup --source-identity` does.
func TestSeedScenariosWithAuditWriter(t *testing.T) {
	t.Parallel()
	for _, be := range benchBackends {
		t.Run(be.name, func(t *testing.T) {
			st := be.open(t)
			f := newSeedFixture(t)
			opts := append(f.options(), withOptions(func(o *Options) {
				o.Trail = audit.NewWriter(st, audit.WriterOptions{Logger: slog.New(slog.DiscardHandler)})
			}))
			e := newEnvOn(t, f.config, st, opts...)
			runSeedScenarios(t, e, f, func(t testing.TB) []audit.Record { return storedRecords(t, st) })

			page, err := audit.Lookup(context.Background(), st, audit.Query{SourceIdentity: "Saanvi", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]int{}
			for _, ev := range page.Events {
				names[ev.Record.EventName]++
			}
			// The SAML call, both copies of the chained AssumeRole, both
			// copies of the denied Diego call (indexed under Saanvi and
			// Diego), and GetCallerIdentity.
			if names[audit.EventAssumeRoleWithSAML] != 1 || names[audit.EventAssumeRole] != 4 || names[audit.EventGetCallerIdentity] != 1 {
				t.Fatalf("events with source identity Saanvi: %v", names)
			}
		})
	}
}

// storedRecords reads every record of the trail, oldest first.
func storedRecords(t testing.TB, st store.Store) []audit.Record {
	t.Helper()
	var out []audit.Record
	err := st.ScanAuditEvents(context.Background(), testNow.Add(-time.Hour), testNow.Add(time.Hour), func(ev store.AuditEvent) error {
		r, err := audit.DecodeRecord(ev.Record)
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
