package postgres_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
	"idpbridge/idp/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB, opt postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.Schema(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t testing.TB) store.Store {
	db := open(t, postgres.Options{})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, storetest.Backend{Name: "postgres", Open: func(t testing.TB, fsys fs.FS) store.Store {
		return open(t, postgres.Options{Migrations: fsys})
	}})
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://idp:s3cret@127.0.0.1:1/x?connect_timeout=2", postgres.Options{})
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"127.0.0.1:1"} {
		if !contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
	if contains(msg, "s3cret") {
		t.Errorf("error %q reveals the password", msg)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
func BenchmarkStore(b *testing.B) { storetest.Bench(b, newStore) }
