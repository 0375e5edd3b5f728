package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
)

func countEvents(t *testing.T, s store.Store) int64 {
	t.Helper()
	n, err := s.CountAuditEventsAfter(context.Background(), store.AuditPos{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testUser(name string) store.User {
	return store.User{Username: name, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Attributes: map[string][]string{}, CreatedAt: testNow, UpdatedAt: testNow}
}

// The record and the action it records commit together or not at all.
func TestWriterAppendInCallersTransaction(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		w := NewWriter(s, WriterOptions{Logger: quietLogger()})
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("kept")); err != nil {
				return err
			}
			return w.Append(ctx, tx, genRecord(1, testNow), genRecord(2, testNow))
		})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("action failed after its record was written")
		err = s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("gone")); err != nil {
				return err
			}
			if err := w.Append(ctx, tx, genRecord(3, testNow)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		if n := countEvents(t, s); n != 2 {
			t.Fatalf("%d events stored, want the 2 of the committed transaction", n)
		}
		if _, err := s.GetUser(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("user of the rolled-back transaction: %v", err)
		}
		page, err := Lookup(ctx, s, Query{SourceIdentity: "Bob"})
		if err != nil || len(page.Events) != 1 || page.Events[0].Record.EventID != genRecord(1, testNow).EventID {
			t.Fatalf("lookup by the record's source identity = %+v, %v", page, err)
		}
	})
}

func TestWriterRefusesIncompleteRecords(t *testing.T) {
	t.Parallel()
	s := openSQLite(t)
	w := NewWriter(s, WriterOptions{Logger: quietLogger()})
	good := genRecord(1, testNow)
	tests := []struct {
		name   string
		change func(*Record)
	}{
		{"no event ID", func(r *Record) { r.EventID = "" }},
		{"no event name", func(r *Record) { r.EventName = "" }},
		{"no event source", func(r *Record) { r.EventSource = "" }},
		{"no event time", func(r *Record) { r.EventTime = Time{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := genRecord(2, testNow)
			tc.change(&bad)
			if err := w.Log(context.Background(), good, bad); err == nil {
				t.Fatal("Log accepted an incomplete record")
			}
			err := s.InTx(context.Background(), func(tx store.Tx) error { return w.Append(context.Background(), tx, good, bad) })
			if err == nil {
				t.Fatal("Append accepted an incomplete record")
			}
			if n := countEvents(t, s); n != 0 {
				t.Fatalf("%d events stored, want none (the good record shares the call)", n)
			}
		})
	}
}

// Records are redacted before they are stored, and characters PostgreSQL
// cannot store do not make the write fail.
func TestWriterRedactsAndStoresAwkwardText(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		var logged strings.Builder
		w := NewWriter(s, WriterOptions{Logger: slogTo(&logged)})
		r := genRecord(1, testNow)
		r.RequestParameters = json.RawMessage(`{"roleArn":"` + devRoleARN + `","password":"hunter2","nested":{"sessionToken":"FwoGZXIvYXdzEBYaDNnVnR"}}`)
		r.UserAgent = "curl/8.0\x00 <script>"
		if err := w.Log(ctx, r); err != nil {
			t.Fatalf("Log: %v", err)
		}
		page, err := Lookup(ctx, s, Query{})
		if err != nil || len(page.Events) != 1 {
			t.Fatalf("lookup = %+v, %v", page, err)
		}
		got := page.Events[0].Record
		var params map[string]any
		if err := json.Unmarshal(got.RequestParameters, &params); err != nil {
			t.Fatal(err)
		}
		if params["password"] != Hidden || params["nested"].(map[string]any)["sessionToken"] != Hidden {
			t.Errorf("stored requestParameters = %s, want the password and token hidden", got.RequestParameters)
		}
		if got.UserAgent != "curl/8.0\uFFFD <script>" {
			t.Errorf("stored userAgent = %q", got.UserAgent)
		}
		if !strings.Contains(logged.String(), "requestParameters.password") || strings.Contains(logged.String(), "hunter2") {
			t.Errorf("log = %q, want the redacted path and not the secret", logged.String())
		}
	})
}

// countingStore counts transactions and can hold or fail them.
type countingStore struct {
	store.Store
	txs          atomic.Int64
	beforeCommit func() // when set, called before each commit
	fail         error
}

func (c *countingStore) InTx(ctx context.Context, fn func(store.Tx) error) error {
	c.txs.Add(1)
	if c.fail != nil {
		return c.fail
	}
	return c.Store.InTx(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if c.beforeCommit != nil {
			c.beforeCommit()
		}
		return nil
	})
}

// queued is how many records wait in w's queue for a committer.
func (w *Writer) queued() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, b := range w.queue {
		n += len(b.events)
	}
	return n
}

// Concurrent Log calls share transactions, and each returns only once its
// own record is committed and visible.
func TestWriterLogGroupCommit(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		// The first commit is held until every other caller waits behind
		// it; then they all share the next transaction.
		held, release := make(chan struct{}), make(chan struct{})
		var first sync.Once
		cs := &countingStore{Store: s, beforeCommit: func() {
			first.Do(func() {
				close(held)
				<-release
			})
		}}
		w := NewWriter(cs, WriterOptions{Logger: quietLogger(), Concurrency: 1})
		const callers = 200
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for i := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := genRecord(i, testNow.Add(time.Duration(i)*time.Second))
				if err := w.Log(ctx, r); err != nil {
					errs <- err
					return
				}
				// Committed before Log returned: visible now.
				page, err := Lookup(ctx, s, Query{Since: r.EventTime.Time, Until: r.EventTime.Add(time.Second)})
				if err != nil || len(page.Events) != 1 || page.Events[0].Record.EventID != r.EventID {
					errs <- fmt.Errorf("record %d not visible after Log returned: %+v, %v", i, page, err)
				}
			}()
		}
		<-held
		waitFor(t, fmt.Sprintf("%d records queued", callers-1), func() bool { return w.queued() == callers-1 || len(errs) > 0 })
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := countEvents(t, s); n != callers {
			t.Fatalf("%d events stored, want %d", n, callers)
		}
		if txs := cs.txs.Load(); txs != 2 {
			t.Errorf("%d transactions for %d concurrent records, want 2: the held one and one for the rest", txs, callers)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Log(ctx, genRecord(999, testNow)); !errors.Is(err, ErrWriterClosed) {
			t.Fatalf("Log after Close = %v, want ErrWriterClosed", err)
		}
	})
}

// A failed group commit fails every caller in it.
func TestWriterLogFailsClosed(t *testing.T) {
	t.Parallel()
	s := openSQLite(t)
	down := errors.New("database unavailable")
	w := NewWriter(&countingStore{Store: s, fail: down}, WriterOptions{Logger: quietLogger()})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Log(context.Background(), genRecord(i, testNow)); errors.Is(err, down) {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 50 {
		t.Fatalf("%d of 50 Log calls reported the failure", failed.Load())
	}
	if n := countEvents(t, s); n != 0 {
		t.Fatalf("%d events stored", n)
	}
}

// With the database gone in the middle of the action's transaction, the
// action fails and leaves neither its change nor its record.
func TestWriterFailClosedDatabaseLost(t *testing.T) {
	t.Run("postgres backend terminated", func(t *testing.T) {
		ctx := context.Background()
		s := openPostgres(t)
		db := s.(*postgres.DB)
		w := NewWriter(s, WriterOptions{Logger: quietLogger()})
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("issued")); err != nil {
				return err
			}
			// The server ends every other session on this database: the
			// one of this transaction among them.
			c, err := db.Pool().Acquire(ctx)
			if err != nil {
				return err
			}
			defer c.Release()
			if _, err := c.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
				return err
			}
			return w.Append(ctx, tx, genRecord(1, testNow))
		})
		if err == nil {
			t.Fatal("the transaction committed after its backend was terminated")
		}
		if _, err := s.GetUser(ctx, "issued"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the action's change survived: %v", err)
		}
		if n := countEvents(t, s); n != 0 {
			t.Fatalf("%d events stored", n)
		}
		// The batched path on a closed pool fails too.
		db.Close()
		if err := w.Log(ctx, genRecord(2, testNow)); err == nil {
			t.Fatal("Log on a closed pool succeeded")
		}
	})
	t.Run("sqlite context ended mid-transaction", func(t *testing.T) {
		s := openSQLite(t)
		w := NewWriter(s, WriterOptions{Logger: quietLogger()})
		ctx, cancel := context.WithCancel(context.Background())
		err := s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("issued")); err != nil {
				return err
			}
			cancel()
			return w.Append(ctx, tx, genRecord(1, testNow))
		})
		if err == nil {
			t.Fatal("the transaction committed")
		}
		if _, err := s.GetUser(context.Background(), "issued"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the action's change survived: %v", err)
		}
		if n := countEvents(t, s); n != 0 {
			t.Fatalf("%d events stored", n)
		}
	})
}

// secretKey's ASCII fast path agrees with full Unicode case folding.
func TestSecretKeyFolding(t *testing.T) {
	t.Parallel()
	slow := func(k string) bool {
		return k != "" && secretNames[strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))]
	}
	for _, k := range []string{"", "password", "Password", "SESSION_TOKEN", "secret-Access-Key", "to\u212Aen", "api_\u212Aey",
		"passwordx", "roleArn", "sourceIdentity", "x-api-key", "Authorization", "ſecret", "__token__", strings.Repeat("a", 40)} {
		if got, want := secretKey(k), slow(k); got != want {
			t.Errorf("secretKey(%q) = %v, want %v", k, got, want)
		}
	}
	if !secretKey("to\u212Aen") {
		t.Error(`a Kelvin sign in "token" hides it`)
	}
}
