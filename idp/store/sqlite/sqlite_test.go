package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
	"idpbridge/idp/store/storetest"
)

func open(t testing.TB, opt sqlite.Options) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpbridge.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t testing.TB) store.Store {
	db := open(t, sqlite.Options{})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func TestSTS(t *testing.T) { storetest.RunSTS(t, newStore) }

func TestWebSessions(t *testing.T) { storetest.RunWebSessions(t, newStore) }

func TestAudit(t *testing.T) { storetest.RunAudit(t, newStore) }

func TestMigrations(t *testing.T) {
	storetest.RunMigrations(t, "sqlite", func(t *testing.T, fsys fs.FS) store.Store {
		return open(t, sqlite.Options{Migrations: fsys})
	})
}
func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }

// TestWritersQueue: a transaction waits its turn behind a long one in the
// same process instead of failing when SQLite's busy timeout (here 10ms)
// runs out, and a waiter whose context ends gives up with that error.
func TestWritersQueue(t *testing.T) {
	db := open(t, sqlite.Options{BusyTimeout: 10 * time.Millisecond})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.InTx(context.Background(), func(tx store.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := db.InTx(ctx, func(store.Tx) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a waiter whose context ended: %v, want context.DeadlineExceeded", err)
	}
	second := make(chan error, 1)
	go func() {
		second <- db.InTx(context.Background(), func(tx store.Tx) error {
			return tx.CreateUser(context.Background(), store.User{Username: "queued", PasswordHash: "x",
				Attributes: map[string][]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()})
		})
	}()
	time.Sleep(100 * time.Millisecond) // ten busy timeouts
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatalf("the queued transaction failed: %v", err)
	}
	if _, err := db.GetUser(context.Background(), "queued"); err != nil {
		t.Fatal(err)
	}
}
