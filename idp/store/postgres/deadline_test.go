package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

// guard is how long a test waits for a call that must return at all.
const guard = 15 * time.Second

func testUser(name string) store.User {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return store.User{Username: name, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: t0, UpdatedAt: t0}
}

// within runs f and fails the test when it does not return within guard.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(guard):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// TestQueryTimeoutStalledServer: when the server stops answering, calls on
// the pool, transactions and Ping give up with store.ErrUnavailable
// instead of waiting on the connection; nothing of the stalled
// transaction is kept, and once the server answers again the store works.
func TestQueryTimeoutStalledServer(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	direct, err := postgres.Open(context.Background(), u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	if _, err := direct.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	proxy := pgtest.NewProxy(t, u)
	db, err := postgres.Open(context.Background(), pgtest.SlowConnect(t, proxy.URL(u)), postgres.Options{QueryTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.CountUsers(ctx); err != nil {
		t.Fatal(err)
	}

	proxy.Stall()
	for _, c := range []struct {
		name string
		call func() error
	}{
		{"a call on the pool", func() error { _, err := db.CountUsers(ctx); return err }},
		{"a transaction", func() error {
			return db.InTx(ctx, func(tx store.Tx) error { return tx.CreateUser(ctx, testUser("stalled")) })
		}},
		{"Ping", func() error { return db.Ping(ctx) }},
	} {
		if err := within(t, c.name, c.call); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the server stalls = %v, want ErrUnavailable", c.name, err)
		}
	}
	if _, err := direct.GetUser(ctx, "stalled"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the stalled transaction's user: %v", err)
	}

	proxy.Resume()
	if err := within(t, "a call after the stall", func() error { return db.CreateUser(ctx, testUser("after")) }); err != nil {
		t.Fatalf("after the stall: %v", err)
	}
	if err := db.CreateUser(ctx, testUser("after")); !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("duplicate user = %v, want ErrConflict only", err)
	}
}

// TestQueryTimeoutLockWait: a statement that waits on a lock is bounded
// like one the network holds, while pruning and transactions marked with
// store.WithoutQueryTimeout wait as long as they must.
func TestQueryTimeoutLockWait(t *testing.T) {
	t.Parallel()
	db, err := postgres.Open(context.Background(), pgtest.SlowConnect(t, pgtest.Schema(t)), postgres.Options{QueryTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	locker, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Rollback(ctx)
	if _, err := locker.Exec(ctx, `LOCK TABLE users, browser_sessions IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	prune := make(chan error, 1)
	go func() { _, err := db.DeleteBrowserSessions(ctx, time.Now()); prune <- err }()
	exempt := make(chan error, 1)
	go func() {
		exempt <- db.InTx(store.WithoutQueryTimeout(ctx), func(tx store.Tx) error { return tx.CreateUser(ctx, testUser("patient")) })
	}()
	// Both wait on the locks before the bounded call starts.
	for waiting := 0; waiting < 2; {
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname IN ('users', 'browser_sessions') AND NOT l.granted`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := within(t, "a bounded call", func() error { _, err := db.CountUsers(ctx); return err }); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a call waiting on a lock past the timeout = %v, want ErrUnavailable", err)
	}
	if err := locker.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for what, c := range map[string]chan error{"pruning": prune, "the exempt transaction": exempt} {
		select {
		case err := <-c:
			if err != nil {
				t.Errorf("%s = %v, want it to wait for the lock", what, err)
			}
		case <-time.After(guard):
			t.Fatalf("%s did not return", what)
		}
	}
	if _, err := db.GetUser(ctx, "patient"); err != nil {
		t.Fatalf("the exempt transaction's user: %v", err)
	}
}
