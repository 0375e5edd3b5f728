package sqlite_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

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
