package audit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
)

func maxProcs() int { return runtime.GOMAXPROCS(0) }

// seedIdentities is how many distinct source identities the seeded trail
// has: 1 M rows make about 95 events each (a prime, so that every identity
// gets events of every kind).
const seedIdentities = 7919

// seedEvents stores n varied events, one per second from testNow, the
// i-th with source identity "person-<i mod seedIdentities>" (and none for
// the sign-ins of genRecord), by bulk insert: COPY on PostgreSQL,
// multi-row INSERTs in large transactions on SQLite. It returns the
// encoded size of the records.
func seedEvents(b *testing.B, s store.Store, n int) int64 {
	b.Helper()
	ctx := context.Background()
	var size int64
	const batch = 10000
	if db, ok := s.(*postgres.DB); ok {
		if err := s.EnsureAuditPartitions(ctx, testNow, testNow.Add(time.Duration(n)*time.Second)); err != nil {
			b.Fatal(err)
		}
		cols := []string{"event_time", "event_id", "source", "name", "account", "principal", "role_arn",
			"source_identity", "error_code", "client_address", "request_id", "record"}
		for from := 0; from < n; from += batch {
			rows := make([][]any, 0, batch)
			for _, e := range seedBatch(b, from, min(batch, n-from)) {
				size += int64(len(e.Record))
				rows = append(rows, []any{e.EventTime, e.EventID, e.Source, e.Name, nullable(e.Account), nullable(e.Principal),
					nullable(e.RoleARN), nullable(e.SourceIdentity), nullable(e.ErrorCode), nullable(e.ClientAddress),
					nullable(e.RequestID), string(e.Record)})
			}
			if _, err := db.Pool().CopyFrom(ctx, []string{"audit_events"}, cols, pgx.CopyFromRows(rows)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := db.Pool().Exec(ctx, `ANALYZE audit_events`); err != nil {
			b.Fatal(err)
		}
		return size
	}
	for from := 0; from < n; from += batch {
		events := seedBatch(b, from, min(batch, n-from))
		for _, e := range events {
			size += int64(len(e.Record))
		}
		if err := s.InTx(ctx, func(tx store.Tx) error { return tx.AppendAuditEvents(ctx, events) }); err != nil {
			b.Fatal(err)
		}
	}
	return size
}

func seedBatch(b *testing.B, from, n int) []store.AuditEvent {
	out := make([]store.AuditEvent, n)
	for j := range out {
		i := from + j
		r := genRecord(i, testNow.Add(time.Duration(i)*time.Second))
		e, _, err := toEvent(r)
		if err != nil {
			b.Fatal(err)
		}
		if e.SourceIdentity != "" {
			e.SourceIdentity = fmt.Sprintf("person-%d", i%seedIdentities)
		}
		out[j] = e
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// BenchmarkLookupBySourceIdentity looks up the newest 50 events of a random
// source identity in a trail of 1 M rows (about 95 per identity), and reports
// the p50 and p99 latency. The seeding takes minutes: it runs only under
// -bench.
func BenchmarkLookupBySourceIdentity(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			start := time.Now()
			seedEvents(b, s, 1_000_000)
			b.Logf("%s: seeded 1,000,000 rows in %s", be.name, time.Since(start).Round(time.Second))
			b.Run("1M", func(b *testing.B) {
				ctx := context.Background()
				rng := rand.New(rand.NewPCG(1, 2))
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					si := fmt.Sprintf("person-%d", rng.IntN(seedIdentities))
					t0 := time.Now()
					page, err := Lookup(ctx, s, Query{SourceIdentity: si, Limit: 50})
					lat = append(lat, time.Since(t0))
					if err != nil || len(page.Events) == 0 {
						b.Fatalf("lookup %s: %d events, %v", si, len(page.Events), err)
					}
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			})
		})
	}
}
