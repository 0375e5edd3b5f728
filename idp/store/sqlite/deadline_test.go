package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
)

// guard is how long a test waits for a call that must return at all.
const guard = 15 * time.Second

func testUser(name string) store.User {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return store.User{Username: name, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: t0, UpdatedAt: t0}
}

func await(t *testing.T, what string, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(guard):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// TestQueryTimeoutWholeTransaction: a transaction is bounded as a whole,
// including the wait for the write lock behind another transaction of the
// process. Both the waiter and the transaction that outlived its deadline
// fail with store.ErrUnavailable, and neither leaves anything behind.
func TestQueryTimeoutWholeTransaction(t *testing.T) {
	t.Parallel()
	db := open(t, sqlite.Options{QueryTimeout: 200 * time.Millisecond})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("slow")); err != nil {
				return err
			}
			close(inside)
			<-release // held past the deadline of the transaction
			return nil
		})
	}()
	<-inside
	second := make(chan error, 1)
	go func() {
		second <- db.InTx(ctx, func(tx store.Tx) error { return tx.CreateUser(ctx, testUser("queued")) })
	}()
	if err := await(t, "a transaction waiting for the write lock", second); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("waiting for the write lock past the timeout = %v, want ErrUnavailable", err)
	}
	close(release)
	if err := await(t, "a transaction held past its deadline", first); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("a transaction held past its deadline = %v, want ErrUnavailable", err)
	}
	for _, name := range []string{"slow", "queued"} {
		if _, err := db.GetUser(ctx, name); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("user %s after the failed transaction: %v", name, err)
		}
	}

	// The store works again, and a refused statement is not mistaken for
	// an unavailable database.
	if err := db.CreateUser(ctx, testUser("fresh")); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, testUser("fresh")); !errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("duplicate user = %v, want ErrConflict only", err)
	}
}

// TestQueryTimeoutExempt: a transaction made with a context marked by
// store.WithoutQueryTimeout is bounded by that context only.
func TestQueryTimeoutExempt(t *testing.T) {
	t.Parallel()
	db := open(t, sqlite.Options{QueryTimeout: 100 * time.Millisecond})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	inside, release := make(chan struct{}), make(chan struct{})
	long := make(chan error, 1)
	go func() {
		long <- db.InTx(store.WithoutQueryTimeout(ctx), func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, testUser("long")); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	// A bounded transaction queued behind it gives up: the exempt one has
	// by then outlived the query timeout.
	queued := make(chan error, 1)
	go func() { queued <- db.InTx(ctx, func(tx store.Tx) error { return nil }) }()
	if err := await(t, "the queued transaction", queued); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("queued bounded transaction = %v, want ErrUnavailable", err)
	}
	close(release)
	if err := await(t, "the exempt transaction", long); err != nil {
		t.Fatalf("exempt transaction = %v", err)
	}
	if _, err := db.GetUser(ctx, "long"); err != nil {
		t.Fatalf("the exempt transaction's user: %v", err)
	}
}
