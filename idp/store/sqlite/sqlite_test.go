package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
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

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Backend{Name: "sqlite", Open: func(t testing.TB, fsys fs.FS) store.Store {
		return open(t, sqlite.Options{Migrations: fsys})
	}})
}
func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }

// TestWritersQueue: a transaction waits its turn behind a long one in the
// same process instead of failing when SQLite's busy timeout (here 10ms)
// runs out, and a waiter whose context ends gives up with that error.
func TestWritersQueue(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "idpbridge.db")
	db, err := sqlite.Open(context.Background(), path, sqlite.Options{BusyTimeout: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
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
	queued := &doneWatch{Context: context.Background(), called: make(chan struct{})}
	second := make(chan error, 1)
	go func() {
		second <- db.InTx(queued, func(tx store.Tx) error {
			return tx.CreateUser(context.Background(), store.User{Username: "queued", PasswordHash: "x",
				Attributes: map[string][]string{}, CreatedAt: time.Now(), UpdatedAt: time.Now()})
		})
	}()
	<-queued.called // the second writer waits for its turn
	// While it waits, another process's writer (a connection of its own
	// with the same 10ms busy timeout) fails ten times on the lock: ten
	// busy timeouts have run out.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for range 10 {
		_, err := raw.Exec(`BEGIN IMMEDIATE`)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			t.Fatalf("another process's writer while the lock is held: %v, want SQLITE_BUSY", err)
		}
	}
	select {
	case err := <-second:
		t.Fatalf("the queued transaction ended while the first held the lock: %v", err)
	default:
	}
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

// doneWatch is a context that closes called when Done is first asked for:
// InTx asks as it starts to wait for its turn.
type doneWatch struct {
	context.Context
	once   sync.Once
	called chan struct{}
}

func (c *doneWatch) Done() <-chan struct{} {
	c.once.Do(func() { close(c.called) })
	return c.Context.Done()
}
