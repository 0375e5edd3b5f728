package audit

import (
	"context"
	"crypto/rsa"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/sqlite"
)

// tamperDB is a store with raw SQL access as the tables' owner, past the
// append-only triggers: what an attacker with the database would do.
type tamperDB struct {
	store.Store
	postgres bool
	exec     func(t *testing.T, pg, lite string, args ...any)
}

func tamperBackends() []struct {
	name string
	open func(t *testing.T) tamperDB
} {
	return []struct {
		name string
		open func(t *testing.T) tamperDB
	}{
		{"sqlite", func(t *testing.T) tamperDB {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "idpbridge.db")
			db, err := sqlite.Open(ctx, path, sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return tamperDB{Store: db, exec: func(t *testing.T, _, lite string, args ...any) {
				t.Helper()
				for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete", "audit_digests_no_update", "audit_digests_no_delete"} {
					if _, err := raw.Exec(`DROP TRIGGER IF EXISTS ` + trg); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := raw.Exec(lite, args...); err != nil {
					t.Fatalf("%s: %v", lite, err)
				}
			}}
		}},
		{"postgres", func(t *testing.T) tamperDB {
			s := openPostgres(t)
			pool := s.(*postgres.DB).Pool()
			return tamperDB{Store: s, postgres: true, exec: func(t *testing.T, pg, _ string, args ...any) {
				t.Helper()
				ctx := context.Background()
				for _, stmt := range []string{
					`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`,
					`ALTER TABLE audit_digests DISABLE TRIGGER audit_digests_append_only`,
				} {
					if _, err := pool.Exec(ctx, stmt); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := pool.Exec(ctx, pg, args...); err != nil {
					t.Fatalf("%s: %v", pg, err)
				}
			}}
		}},
	}
}

func newSealer(s store.Store, every int) *Sealer {
	// testKeys has run: the test called it first.
	return &Sealer{Store: s, Signer: KeySigner(testKey), EveryRows: every, Now: func() time.Time { return testNow }, Logger: quietLogger()}
}

func trusted(t testing.TB) map[string]*rsa.PublicKey {
	k, _ := testKeys(t)
	return map[string]*rsa.PublicKey{k.ID: &k.PrivateKey.PublicKey}
}

func logRecords(t testing.TB, s store.Store, from, n int) {
	t.Helper()
	w := NewWriter(s, WriterOptions{Logger: quietLogger()})
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = genRecord(from+i, testNow.Add(time.Duration(from+i)*time.Second))
	}
	if err := w.Log(context.Background(), recs...); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, s store.Store) *VerifyReport {
	t.Helper()
	r, err := Verify(context.Background(), s, trusted(t))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

// chainSeqs returns the seqs of the sealed rows in chain order.
func chainSeqs(t *testing.T, s store.Store) []int64 {
	t.Helper()
	rows, err := s.ListSealableAuditEvents(context.Background(), store.AuditPos{}, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Seq
	}
	return out
}

func TestSealAndVerifyIntact(t *testing.T) {
	t.Parallel()
	testKeys(t)
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		r := verify(t, s)
		if !r.OK() || r.Digests != 0 || r.Unsealed != 0 {
			t.Fatalf("empty trail: %+v", r)
		}
		logRecords(t, s, 0, 250)
		sealAll(t, newSealer(s, 100), 250)
		if n, err := newSealer(s, 100).SealAll(ctx); err != nil || n != 0 {
			t.Fatalf("SealAll with nothing waiting = %d, %v", n, err)
		}
		logRecords(t, s, 250, 7)
		r = verify(t, s)
		if !r.OK() {
			t.Fatalf("intact chain reported problems: %v", r.Problems)
		}
		k, _ := testKeys(t)
		if r.Digests != 3 || r.Rows != 250 || r.Unsealed != 7 || r.HeadNumber != 3 || len(r.HeadHash) != 64 ||
			!slices.Equal(r.KeyIDs, []string{k.ID}) {
			t.Fatalf("report = %+v; want 3 digests, 250 rows, 7 unsealed, head 3 signed by %s", r, k.ID)
		}
		// Without the signing key's certificate, nothing verifies.
		r, err := Verify(ctx, s, map[string]*rsa.PublicKey{})
		if err != nil || r.OK() || r.Problems[0].Digest != 1 || !strings.Contains(r.Problems[0].Message, "not a trusted key") {
			t.Fatalf("Verify without keys = %+v, %v", r, err)
		}
	})
}

// Each kind of tampering is found, and the first problem names the first
// row or digest changed.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	_, otherKey := testKeys(t)
	tests := []struct {
		name   string
		pgOnly bool
		// tamper changes the trail; seqs are the sealed rows in chain order
		// (30 rows, digests of 10). It returns the expected first problem.
		tamper func(t *testing.T, db tamperDB, seqs []int64) Problem
	}{
		{"record JSON edited", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `UPDATE audit_events SET record = jsonb_set(record, '{sourceIPAddress}', '"10.0.0.1"') WHERE seq = $1`,
				`UPDATE audit_events SET record = json_set(record, '$.sourceIPAddress', '10.0.0.1') WHERE seq = ?`, seqs[13])
			return Problem{Digest: 2, Seq: seqs[13]}
		}},
		{"index column edited", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `UPDATE audit_events SET source_identity = 'Mallory' WHERE seq = $1`,
				`UPDATE audit_events SET source_identity = 'Mallory' WHERE seq = ?`, seqs[4])
			return Problem{Digest: 1, Seq: seqs[4]}
		}},
		{"row deleted", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `DELETE FROM audit_events WHERE seq = $1`, `DELETE FROM audit_events WHERE seq = ?`, seqs[21])
			return Problem{Digest: 3, Seq: seqs[21]}
		}},
		{"two rows' records swapped", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `UPDATE audit_events a SET record = b.record FROM audit_events b
					WHERE (a.seq, b.seq) IN (($1::bigint, $2::bigint), ($2, $1))`,
				`UPDATE audit_events SET record = CASE seq WHEN ?1 THEN (SELECT record FROM audit_events WHERE seq = ?2)
					ELSE (SELECT record FROM audit_events WHERE seq = ?1) END WHERE seq IN (?1, ?2)`, seqs[7], seqs[8])
			return Problem{Digest: 1, Seq: seqs[7]}
		}},
		{"row moved in chain order", true, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			// All 30 rows came from one transaction; row 15 now claims a
			// later one, which moves it past every sealed row.
			db.exec(t, `UPDATE audit_events SET txn = txn + 1 WHERE seq = $1`, "", seqs[15])
			return Problem{Digest: 2, Seq: seqs[15]}
		}},
		{"row added inside a sealed range", true, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `INSERT INTO audit_events (seq, txn, event_time, event_id, source, name, record)
					SELECT seq + 1000000, txn - 1, event_time, 'forged', source, name, record FROM audit_events WHERE seq = $1`,
				"", seqs[25])
			return Problem{Digest: 1, Seq: seqs[25] + 1000000}
		}},
		{"digest body altered", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `UPDATE audit_digests SET body = replace(body, '"count":10', '"count":9') WHERE number = 2`,
				`UPDATE audit_digests SET body = replace(body, '"count":10', '"count":9') WHERE number = 2`)
			return Problem{Digest: 2}
		}},
		{"digest re-signed with an untrusted key", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			// The attacker edits a row and issues a matching digest with
			// their own key.
			db.exec(t, `UPDATE audit_events SET source_identity = 'Mallory' WHERE seq = $1`,
				`UPDATE audit_events SET source_identity = 'Mallory' WHERE seq = ?`, seqs[12])
			d := forgeDigest(t, db, 2, KeySigner(otherKey))
			db.exec(t, `UPDATE audit_digests SET body = $1, signature = $2, entries = $3 WHERE number = 2`,
				`UPDATE audit_digests SET body = ?, signature = ?, entries = ? WHERE number = 2`, string(d.Body), d.Signature, d.Entries)
			return Problem{Digest: 2}
		}},
		{"digest deleted", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `DELETE FROM audit_digests WHERE number = 2`, `DELETE FROM audit_digests WHERE number = 2`)
			return Problem{Digest: 2}
		}},
		{"digest entries altered", false, func(t *testing.T, db tamperDB, seqs []int64) Problem {
			db.exec(t, `UPDATE audit_digests SET entries = substring(entries from 49) WHERE number = 3`,
				`UPDATE audit_digests SET entries = substr(entries, 49) WHERE number = 3`)
			return Problem{Digest: 3}
		}},
	}
	for _, b := range tamperBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range tests {
				if tc.pgOnly && b.name != "postgres" {
					continue // SQLite has no transaction order to forge
				}
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					db := b.open(t)
					logRecords(t, db, 0, 30)
					sealAll(t, newSealer(db, 10), 30)
					seqs := chainSeqs(t, db)
					if r := verify(t, db); !r.OK() || r.Rows != 30 {
						t.Fatalf("before tampering: %+v", r)
					}
					want := tc.tamper(t, db, seqs)
					r := verify(t, db)
					if r.OK() {
						t.Fatalf("tampering not found: %+v", r)
					}
					got := r.Problems[0]
					if got.Digest != want.Digest || got.Seq != want.Seq {
						t.Fatalf("first problem = %v; want digest %d, row %d (all: %v)", got, want.Digest, want.Seq, r.Problems)
					}
				})
			}
		})
	}
}

// forgeDigest rebuilds digest n over the current rows, signed by signer.
func forgeDigest(t *testing.T, s store.Store, n int64, signer Signer) store.AuditDigest {
	t.Helper()
	ctx := context.Background()
	ds, err := s.ListAuditDigests(ctx, n-1, 1)
	if err != nil || len(ds) != 1 {
		t.Fatal(ds, err)
	}
	var body DigestBody
	if err := json.Unmarshal(ds[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	var entries []byte
	err = s.ScanAuditChain(ctx, body.After.pos(), body.Last.pos(), func(e store.AuditEvent) error {
		h, err := RowHash(e)
		entries = appendEntry(entries, e.Seq, e.EventTime, h)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := signDigest(signer, body, entries, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Writers on many connections commit out of sequence order while the
// sealer runs; the chain covers every committed row exactly once.
func TestSealConcurrentWriters(t *testing.T) {
	t.Parallel()
	testKeys(t)
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		const writers, perWriter = 8, 1000
		w := NewWriter(s, WriterOptions{Logger: quietLogger(), Concurrency: 2})
		sealer := newSealer(s, 500)
		sealerCtx, stopSealer := context.WithCancel(ctx)
		sealerDone := make(chan error, 1)
		wrote := make(chan struct{}, 1) // a write committed since the last seal
		go func() {
			for {
				select {
				case <-sealerCtx.Done():
					sealerDone <- nil
					return
				case <-wrote:
				}
				if _, err := sealer.SealOnce(sealerCtx); err != nil && sealerCtx.Err() == nil {
					sealerDone <- err
					return
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		var rolledBack int
		var mu sync.Mutex
		for g := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 1))
				for i := 0; i < perWriter; {
					n := min(1+rng.IntN(20), perWriter-i)
					recs := make([]Record, n)
					for j := range recs {
						id := g*perWriter + i + j
						recs[j] = genRecord(id, testNow.Add(time.Duration(id)*time.Millisecond))
					}
					var err error
					switch {
					case g%2 == 0:
						err = w.Log(ctx, recs...)
					default:
						// In the caller's transaction, holding it open while
						// other writers run so that commits overtake each
						// other; now and then rolled back (a gap in the
						// sequence).
						rollback := rng.IntN(10) == 0
						err = s.InTx(ctx, func(tx store.Tx) error {
							if err := w.Append(ctx, tx, recs...); err != nil {
								return err
							}
							for range rng.IntN(3) {
								runtime.Gosched()
							}
							if rollback {
								return errRollback
							}
							return nil
						})
						if errors.Is(err, errRollback) {
							mu.Lock()
							rolledBack += n
							mu.Unlock()
							continue // the same records again
						}
					}
					if err != nil {
						errs <- err
						return
					}
					select {
					case wrote <- struct{}{}:
					default:
					}
					i += n
				}
			}()
		}
		wg.Wait()
		stopSealer()
		if err := <-sealerDone; err != nil {
			t.Fatalf("sealer: %v", err)
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		sealRest(t, sealer)
		r := verify(t, s)
		if !r.OK() || r.Unsealed != 0 || r.Rows != writers*perWriter {
			t.Fatalf("after concurrent writes: ok=%v rows=%d unsealed=%d problems=%v", r.OK(), r.Rows, r.Unsealed, r.Problems)
		}
		// Every stored row is listed by exactly one digest.
		covered := map[int64]int{}
		err := eachDigest(ctx, s, func(d store.AuditDigest) error {
			es, err := decodeEntries(d.Entries)
			for _, e := range es {
				covered[e.seq]++
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		seqs := chainSeqs(t, s)
		if len(seqs) != writers*perWriter || len(covered) != len(seqs) {
			t.Fatalf("%d rows stored, %d distinct seqs covered; want %d", len(seqs), len(covered), writers*perWriter)
		}
		for _, seq := range seqs {
			if covered[seq] != 1 {
				t.Fatalf("row %d covered %d times", seq, covered[seq])
			}
		}
		t.Logf("%d digests, %d records rolled back and written again", r.Digests, rolledBack)
	})
}

var errRollback = errors.New("rolled back on purpose")

// sealAll seals until want rows in all are sealed. On PostgreSQL a row is
// sealable only once every older write transaction on the server has
// ended, and other tests' transactions may hold it back for a moment.
func sealAll(t testing.TB, s *Sealer, want int) {
	t.Helper()
	total := 0
	waitFor(t, fmt.Sprintf("%d rows to be sealed", want), func() bool {
		n, err := s.SealAll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if total += n; total > want {
			t.Fatalf("sealed %d rows, want %d", total, want)
		}
		return total == want
	})
}

// sealRest seals until no row is waiting.
func sealRest(t testing.TB, s *Sealer) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, "every row to be sealed", func() bool {
		if _, err := s.SealAll(ctx); err != nil {
			t.Fatal(err)
		}
		head, err := headOf(ctx, s.Store)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Store.CountAuditEventsAfter(ctx, head.last)
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}

// Two sealers at once never fork the chain.
func TestSealersRace(t *testing.T) {
	t.Parallel()
	testKeys(t)
	eachBackend(t, func(t *testing.T, s store.Store) {
		logRecords(t, s, 0, 300)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if _, err := newSealer(s, 7).SealOnce(context.Background()); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		sealRest(t, newSealer(s, 7))
		if r := verify(t, s); !r.OK() || r.Rows != 300 || r.Unsealed != 0 {
			t.Fatalf("after racing sealers: %+v", r)
		}
	})
}

// sealerRounds hands the rounds of a running Sealer to the test one at a
// time: each round begins by counting the waiting rows, and waits there
// until the test receives from begun.
type sealerRounds struct {
	store.Store
	begun chan struct{}
}

func (s *sealerRounds) CountAuditEventsAfter(ctx context.Context, after store.AuditPos) (int64, error) {
	select {
	case s.begun <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return s.Store.CountAuditEventsAfter(ctx, after)
}

// Run seals as soon as EveryRows rows wait, and fewer rows only once
// Interval has passed on its clock.
func TestSealerRun(t *testing.T) {
	t.Parallel()
	testKeys(t)
	eachBackend(t, func(t *testing.T, s store.Store) {
		rounds := &sealerRounds{Store: s, begun: make(chan struct{})}
		var elapsed atomic.Int64 // the sealer's clock, past testNow
		sealer := newSealer(rounds, 5)
		sealer.Now = func() time.Time { return testNow.Add(time.Duration(elapsed.Load())) }
		sealer.Interval = 10 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sealer.Run(ctx) }()
		// untilSealed lets rounds run until no row waits; a row may wait
		// for other transactions on PostgreSQL.
		untilSealed := func(what string) (r *VerifyReport) {
			waitFor(t, what, func() bool {
				<-rounds.begun
				r = verify(t, s)
				return r.Unsealed == 0
			})
			return r
		}
		logRecords(t, s, 0, 12) // 5 rows or more wait: sealed at once
		if r := untilSealed("12 rows to be sealed"); !r.OK() || r.Rows != 12 || r.Digests != 3 {
			t.Fatalf("after 12 rows: %+v", r)
		}
		logRecords(t, s, 12, 2) // fewer than 5: they wait for the interval
		<-rounds.begun
		<-rounds.begun // a whole round ran since
		if r := verify(t, s); !r.OK() || r.Unsealed != 2 || r.Digests != 3 {
			t.Fatalf("2 rows before the interval: %+v", r)
		}
		elapsed.Add(int64(sealer.Interval))
		if r := untilSealed("2 rows to be sealed after the interval"); !r.OK() || r.Rows != 14 || r.Digests != 4 {
			t.Fatalf("2 rows after the interval: %+v", r)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
	})
}

// A prune is recorded in the chain: verify passes afterwards, counting the
// removed rows as pruned, and still finds a row deleted outside a prune.
func TestPruneRecordedInChain(t *testing.T) {
	t.Parallel()
	k, _ := testKeys(t)
	for _, b := range tamperBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := b.open(t)
			jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := db.EnsureAuditPartitions(ctx, jan, jan.AddDate(0, 3, 0)); err != nil {
				t.Fatal(err)
			}
			w := NewWriter(db, WriterOptions{Logger: quietLogger()})
			var recs []Record
			for i := range 30 {
				// Ten each in January, February and March.
				recs = append(recs, genRecord(i, jan.AddDate(0, i/10, 1).Add(time.Duration(i)*time.Minute)))
			}
			if err := w.Log(ctx, recs...); err != nil {
				t.Fatal(err)
			}
			sealer := newSealer(db, 8) // digests straddle the months
			sealAll(t, sealer, 30)
			c := idpCall(IdpbridgeUser("root", "cli"))
			c.EventID, c.Time = "11111111-2222-4333-8444-555555555555", testNow
			res, err := Prune(ctx, db, w, KeySigner(k), jan.AddDate(0, 2, 20), c, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if res.Events != 20 || len(res.Months) != 2 || res.Digest != 5 || !res.Before.Equal(jan.AddDate(0, 2, 0)) {
				t.Fatalf("Prune = %+v; want 20 events of 2 months, digest 5, cut-off 1 March", res)
			}
			r := verify(t, db)
			if !r.OK() || r.Pruned != 20 || r.Rows != 10 || r.Prunes != 1 || r.Unsealed != 1 {
				t.Fatalf("after prune: %+v", r)
			}
			page, err := Lookup(ctx, db, Query{Event: string(AdminAuditPruned)})
			if err != nil || len(page.Events) != 1 {
				t.Fatalf("AdminAuditPruned records = %+v, %v", page, err)
			}
			var ch AdminChange
			json.Unmarshal(page.Events[0].Record.RequestParameters, &ch)
			if ch.Details["events"] != "20" || ch.Details["months"] != "2026-01,2026-02" || ch.Details["before"] != "2026-03-01T00:00:00Z" {
				t.Fatalf("AdminAuditPruned details = %v", ch.Details)
			}
			// The chain goes on after the prune.
			sealAll(t, sealer, 1)
			if r := verify(t, db); !r.OK() || r.Rows != 11 {
				t.Fatalf("after sealing past the prune: %+v", r)
			}
			// A March row deleted by hand is not excused by the prune.
			seqs := chainSeqs(t, db)
			db.exec(t, `DELETE FROM audit_events WHERE seq = $1`, `DELETE FROM audit_events WHERE seq = ?`, seqs[3])
			r = verify(t, db)
			if r.OK() || r.Problems[0].Seq != seqs[3] {
				t.Fatalf("deleted March row: %+v", r)
			}
		})
	}
}

func TestRowHashIgnoresStorageForm(t *testing.T) {
	t.Parallel()
	e := store.AuditEvent{Seq: 7, EventTime: testNow, EventID: "e", Source: "s", Name: "n",
		Record: []byte(`{"b": 1.50, "a": "x<y&z", "c": [1e2, -0, 12345678901234567890]}`)}
	same := e
	same.Record = []byte(`{"a":"x\u003cy\u0026z","c":[100,0,12345678901234567890],"b":1.5}`)
	h1, err1 := RowHash(e)
	h2, err2 := RowHash(same)
	if err1 != nil || err2 != nil || h1 != h2 {
		t.Fatalf("equivalent JSON hashes differently (%v, %v)", err1, err2)
	}
	other := e
	other.Seq = 8
	if h3, _ := RowHash(other); h3 == h1 {
		t.Fatal("the seq is not part of the hash")
	}
	b, _ := CanonicalRow(e)
	if want := `{"account":"","clientAddress":"","errorCode":"","eventId":"e","eventTime":"2026-01-02T03:04:05Z","name":"n",` +
		`"principal":"","record":{"a":"x<y&z","b":1.5,"c":[100,0,1.2345678901234567e+19]},"requestId":"","roleArn":"",` +
		`"seq":7,"source":"s","sourceIdentity":""}`; string(b) != want {
		t.Fatalf("canonical row =\n%s\nwant\n%s", b, want)
	}
	if _, err := RowHash(store.AuditEvent{Record: []byte(`{"a":1} x`)}); err == nil {
		t.Fatal("RowHash accepted trailing data")
	}
}
