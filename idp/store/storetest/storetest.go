// Package storetest is the conformance suite every store.Store
// implementation passes: the same cases, run against each backend from its
// own package's tests.
package storetest

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"idpbridge/idp/store"
)

// NewStore returns a migrated, empty store that the test may use alone.
type NewStore func(t testing.TB) store.Store

// OpenWithMigrations returns an empty, unmigrated store whose migrations come
// from fsys (files under "<backend>/"), or the backend's shipped migrations
// when fsys is nil.
type OpenWithMigrations func(t testing.TB, fsys fs.FS) store.Store

// Backend is a store implementation under test.
type Backend struct {
	// Name is the backend's migrations directory: "sqlite", "postgres".
	Name string
	// Open makes the empty stores every case starts from.
	Open OpenWithMigrations
}

// Run runs every conformance suite against b: the users and keys, the STS,
// the browser sessions, the audit trail, the console's attribute mappings
// and the migration runner. A backend
// calls only Run, so a suite added here runs everywhere.
func Run(t *testing.T, b Backend) {
	if b.Name == "" || b.Open == nil {
		t.Fatal("storetest.Run: Backend needs a Name and an Open function")
	}
	newStore := func(t testing.TB) store.Store {
		s := b.Open(t, nil)
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Store", func(t *testing.T) { t.Parallel(); runStore(t, newStore) })
	t.Run("STS", func(t *testing.T) { t.Parallel(); runSTS(t, newStore) })
	t.Run("WebSessions", func(t *testing.T) { t.Parallel(); runWebSessions(t, newStore) })
	t.Run("Audit", func(t *testing.T) { t.Parallel(); runAudit(t, newStore) })
	t.Run("ServiceProviders", func(t *testing.T) { t.Parallel(); runServiceProviders(t, newStore) })
	t.Run("Mappings", func(t *testing.T) { t.Parallel(); runMappings(t, newStore) })
	t.Run("Migrations", func(t *testing.T) { t.Parallel(); runMigrations(t, b.Name, b.Open) })
}

// runStore runs the cases of users, signing keys, transactions and Migrate.
func runStore(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UserCreateGet", testUserCreateGet},
		{"UserCaseInsensitive", testUserCaseInsensitive},
		{"UserNotFound", testUserNotFound},
		{"UserUpdate", testUserUpdate},
		{"UserList", testUserList},
		{"UserConcurrentCreate", testUserConcurrentCreate},
		{"UserDelete", testUserDelete},
		{"UserDeleteConcurrent", testUserDeleteConcurrent},
		{"UserReadModifyWrite", testUserReadModifyWrite},
		{"SigningKeys", testSigningKeys},
		{"SigningKeyOneActive", testSigningKeyOneActive},
		{"SAMLProviderKeys", testSAMLProviderKeys},
		{"TxCommitRollback", testTxCommitRollback},
		{"TxPanicRollsBack", testTxPanicRollsBack},
		{"MigrateIdempotent", testMigrateIdempotent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			tc.fn(t, s)
		})
	}
}

var ctx = context.Background()

// t0 is a fixed time with microsecond precision (what every backend keeps).
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func user(name string) store.User {
	return store.User{
		Username:     name,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		Attributes: map[string][]string{
			"sAMAccountName": {"dramirez"},
			"department":     {"Platform"},
			"displayName":    {"José García"},
			"mail":           {"diego@example.com", "d.ramirez@example.com"},
		},
		Groups:    []string{"AWS-123456789012-Developer", "idpbridge-admins"},
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

func testUserCreateGet(t *testing.T, s store.Store) {
	want := user("DiegoRamirez")
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	got, err := s.GetUser(ctx, "DiegoRamirez")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetUser = %+v\nwant %+v", got, want)
	}
	n, err := s.CountUsers(ctx)
	if err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
}

func testUserCaseInsensitive(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, user("Alice")); err != nil {
		t.Fatal(err)
	}
	err := s.CreateUser(ctx, user("alice"))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateUser(alice) = %v, want ErrConflict", err)
	}
	got, err := s.GetUser(ctx, "ALICE")
	if err != nil {
		t.Fatalf("GetUser(ALICE): %v", err)
	}
	if got.Username != "Alice" {
		t.Fatalf("Username = %q, want the stored spelling Alice", got.Username)
	}
}

func testUserNotFound(t *testing.T, s store.Store) {
	if _, err := s.GetUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser(nobody) = %v, want ErrNotFound", err)
	}
	u := user("nobody")
	if err := s.UpdateUser(ctx, u); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateUser(nobody) = %v, want ErrNotFound", err)
	}
}

func testUserUpdate(t *testing.T, s store.Store) {
	u := user("bob")
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	u.Username = "BOB" // any spelling addresses the same user
	u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3"
	u.Disabled = true
	u.Attributes = map[string][]string{"team": {"red"}}
	u.Groups = nil
	u.UpdatedAt = t0.Add(time.Hour)
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, err := s.GetUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if got.Username != "bob" || got.PasswordHash != u.PasswordHash || !got.Disabled ||
		!reflect.DeepEqual(got.Attributes, u.Attributes) || len(got.Groups) != 0 ||
		!got.UpdatedAt.Equal(u.UpdatedAt) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after update: %+v", got)
	}
}

func testUserList(t *testing.T, s store.Store) {
	for _, n := range []string{"carol", "Alice", "bob"} {
		if err := s.CreateUser(ctx, user(n)); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if want := []string{"Alice", "bob", "carol"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ListUsers = %v, want %v (ordered case-insensitively)", names, want)
	}
}

func testUserConcurrentCreate(t *testing.T, s store.Store) {
	// Eight spellings of one name race: exactly one wins.
	names := []string{"racer", "RACER", "Racer", "rAcer", "raCer", "racEr", "raceR", "RaceR"}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateUser(ctx, user(name))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers succeeded, want exactly 1", ok)
	}
}

func key(id string, state store.KeyState, created time.Time) store.SigningKey {
	return store.SigningKey{ID: id, State: state, CertPEM: []byte("-----BEGIN CERTIFICATE-----\n" + id + "\n-----END CERTIFICATE-----\n"),
		EncryptedKey: []byte{0, 1, 2, 255}, CreatedAt: created}
}

func testSigningKeys(t *testing.T, s store.Store) {
	k1 := key("k1", store.KeyActive, t0)
	k2 := key("k2", store.KeyNext, t0.Add(time.Minute))
	k2.EncryptedKey, k2.KeyFile = nil, "/etc/idpbridge/k2.pem"
	for _, k := range []store.SigningKey{k2, k1} {
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s): %v", k.ID, err)
		}
	}
	if err := s.CreateSigningKey(ctx, k1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate CreateSigningKey = %v, want ErrConflict", err)
	}
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(keys, []store.SigningKey{k1, k2}) {
		t.Fatalf("ListSigningKeys = %+v\nwant oldest first %+v", keys, []store.SigningKey{k1, k2})
	}
	if err := s.SetSigningKeyState(ctx, "k1", store.KeyRetired); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSigningKeyState(ctx, "k2", store.KeyActive); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSigningKeyState(ctx, "nope", store.KeyActive); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetSigningKeyState(nope) = %v, want ErrNotFound", err)
	}
	keys, _ = s.ListSigningKeys(ctx)
	if keys[0].State != store.KeyRetired || keys[1].State != store.KeyActive {
		t.Fatalf("states = %s, %s", keys[0].State, keys[1].State)
	}
}

func testSigningKeyOneActive(t *testing.T, s store.Store) {
	if err := s.CreateSigningKey(ctx, key("a", store.KeyActive, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSigningKey(ctx, key("b", store.KeyNext, t0)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSigningKeyState(ctx, "b", store.KeyActive); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second active key = %v, want ErrConflict", err)
	}
	// Swapping inside one transaction works.
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.SetSigningKeyState(ctx, "a", store.KeyNext); err != nil {
			return err
		}
		return tx.SetSigningKeyState(ctx, "b", store.KeyActive)
	})
	if err != nil {
		t.Fatalf("swap in a transaction: %v", err)
	}
}

func testTxCommitRollback(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, user("ghost")); err != nil {
			return err
		}
		if _, err := tx.GetUser(ctx, "ghost"); err != nil {
			t.Errorf("a transaction must see its own writes: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if _, err := s.GetUser(ctx, "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rolled-back user is visible: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, user("kept")); err != nil {
			return err
		}
		return tx.CreateSigningKey(ctx, key("kept", store.KeyNext, t0))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "kept"); err != nil {
		t.Fatalf("committed user missing: %v", err)
	}
}

func testTxPanicRollsBack(t *testing.T, s store.Store) {
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("InTx swallowed a panic")
			}
		}()
		s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, user("panicky")); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	if _, err := s.GetUser(ctx, "panicky"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user written before a panic is visible: %v", err)
	}
	// The store is still usable.
	if err := s.CreateUser(ctx, user("after")); err != nil {
		t.Fatal(err)
	}
}

func testMigrateIdempotent(t *testing.T, s store.Store) {
	applied, err := s.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Migrate applied %v, want nothing", applied)
	}
	pending, err := s.MigrationStatus(ctx)
	if err != nil || len(pending) != 0 {
		t.Fatalf("MigrationStatus = %v, %v; want none pending", pending, err)
	}
}

// runMigrations checks the migration runner with synthetic migration sets.
func runMigrations(t *testing.T, backend string, open OpenWithMigrations) {
	mig := func(files map[string]string) fs.FS {
		m := fstest.MapFS{}
		for name, sql := range files {
			m[backend+"/"+name] = &fstest.MapFile{Data: []byte(sql)}
		}
		return m
	}
	good := map[string]string{
		"0001_a.sql": "CREATE TABLE a (x INTEGER);",
		"0002_b.sql": "CREATE TABLE b (y INTEGER);",
	}

	t.Run("AppliesInOrderOnce", func(t *testing.T) {
		s := open(t, mig(good))
		pending, err := s.MigrationStatus(ctx)
		if err != nil || !reflect.DeepEqual(pending, []string{"0001_a.sql", "0002_b.sql"}) {
			t.Fatalf("MigrationStatus before = %v, %v", pending, err)
		}
		applied, err := s.Migrate(ctx)
		if err != nil || !reflect.DeepEqual(applied, []string{"0001_a.sql", "0002_b.sql"}) {
			t.Fatalf("Migrate = %v, %v", applied, err)
		}
		applied, err = s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("Migrate again = %v, %v; want a no-op", applied, err)
		}
	})

	t.Run("ChangedOnDiskIsAnError", func(t *testing.T) {
		fsys := mig(good).(fstest.MapFS)
		s := open(t, fsys)
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		fsys[backend+"/0001_a.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE a (x INTEGER, z INTEGER);")}
		_, err := s.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "0001_a.sql was changed") {
			t.Fatalf("Migrate after an edit = %v, want an error naming 0001_a.sql", err)
		}
		if _, err := s.MigrationStatus(ctx); err == nil {
			t.Fatal("MigrationStatus after an edit: no error")
		}
	})

	t.Run("FailureRollsBackThatMigration", func(t *testing.T) {
		files := map[string]string{
			"0001_a.sql": good["0001_a.sql"],
			"0002_bad.sql": "CREATE TABLE half (x INTEGER);\n" +
				"INSERT INTO no_such_table VALUES (1);",
		}
		fsys := mig(files).(fstest.MapFS)
		s := open(t, fsys)
		applied, err := s.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
			t.Fatalf("Migrate = %v, want an error naming 0002_bad.sql", err)
		}
		if !reflect.DeepEqual(applied, []string{"0001_a.sql"}) {
			t.Fatalf("applied = %v, want only 0001_a.sql", applied)
		}
		pending, err := s.MigrationStatus(ctx)
		if err != nil || !reflect.DeepEqual(pending, []string{"0002_bad.sql"}) {
			t.Fatalf("pending = %v, %v; want 0002_bad.sql", pending, err)
		}
		// The table created before the failing statement must not exist:
		// the fixed migration creates it again without a conflict.
		fsys[backend+"/0002_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE half (x INTEGER);")}
		if applied, err := s.Migrate(ctx); err != nil || !reflect.DeepEqual(applied, []string{"0002_bad.sql"}) {
			t.Fatalf("Migrate after the fix = %v, %v: the failed migration left something behind", applied, err)
		}
	})

	t.Run("UnknownRecordedMigration", func(t *testing.T) {
		fsys := mig(good).(fstest.MapFS)
		s := open(t, fsys)
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		delete(fsys, backend+"/0002_b.sql")
		if _, err := s.MigrationStatus(ctx); err == nil || !strings.Contains(err.Error(), "newer version") {
			t.Fatalf("MigrationStatus = %v, want an error about a newer version", err)
		}
	})
}
