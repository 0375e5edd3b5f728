package local_test

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
)

var cheap = local.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

var ctx = context.Background()

func newStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "idpbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

func addUser(t *testing.T, s store.Store, u store.User, password string) {
	t.Helper()
	h, err := local.HashPassword(rand.Reader, password, cheap)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = h
	u.CreatedAt, u.UpdatedAt = time.Now(), time.Now()
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// countingVerify records the hashes checked.
type countingVerify struct{ hashes []string }

func (c *countingVerify) verify(hash, password string) (bool, error) {
	c.hashes = append(c.hashes, hash)
	return local.VerifyPassword(hash, password)
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	addUser(t, s, store.User{
		Username: "DiegoRamirez",
		Groups:   []string{"AWS-123456789012-Developer", "idpbridge-admins"},
		Attributes: map[string][]string{
			"mail":           {"diego@example.com", "d.ramirez@example.com"},
			"displayName":    {"Diego Ramírez"},
			"sAMAccountName": {"dramirez"},
		},
	}, "correct horse")
	addUser(t, s, store.User{Username: "carol", Attributes: map[string][]string{"email": {"carol@example.com"}, "cn": {"Carol C"}}}, "carol pass")
	addUser(t, s, store.User{Username: "mallory", Disabled: true}, "mallory pass")

	var cv countingVerify
	c, err := local.New(s, local.Options{Params: cheap, Verify: cv.verify})
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, u := range []string{"DiegoRamirez", "carol", "mallory"} {
		got, _ := s.GetUser(ctx, u)
		users[u] = got.PasswordHash
	}

	diego := idp.Identity{
		Username: "DiegoRamirez", Email: "diego@example.com", DisplayName: "Diego Ramírez",
		Groups: []string{"AWS-123456789012-Developer", "idpbridge-admins"},
		Attributes: map[string][]string{
			"mail":           {"diego@example.com", "d.ramirez@example.com"},
			"displayName":    {"Diego Ramírez"},
			"sAMAccountName": {"dramirez"},
		},
		Connector: "local",
	}
	for _, tc := range []struct {
		name, username, password string
		want                     idp.Identity
		outcome                  connector.Outcome
		checked                  string // the hash that must be checked
	}{
		{"right password", "DiegoRamirez", "correct horse", diego, connector.Accepted, users["DiegoRamirez"]},
		{"name in another case", "diegoramirez", "correct horse", diego, connector.Accepted, users["DiegoRamirez"]},
		{"email and cn fallbacks", "carol", "carol pass",
			idp.Identity{Username: "carol", Email: "carol@example.com", DisplayName: "Carol C", Attributes: map[string][]string{"email": {"carol@example.com"}, "cn": {"Carol C"}}, Connector: "local"},
			connector.Accepted, users["carol"]},
		{"wrong password", "DiegoRamirez", "correct horsf", idp.Identity{Username: "DiegoRamirez", Connector: "local"}, connector.WrongPassword, users["DiegoRamirez"]},
		{"empty password", "DiegoRamirez", "", idp.Identity{Username: "DiegoRamirez", Connector: "local"}, connector.WrongPassword, users["DiegoRamirez"]},
		{"unknown user", "nobody", "correct horse", idp.Identity{}, connector.UnknownUser, c.DummyHash()},
		{"empty name", "", "correct horse", idp.Identity{}, connector.UnknownUser, c.DummyHash()},
		{"over-long name", strings.Repeat("a", 257), "x", idp.Identity{}, connector.UnknownUser, c.DummyHash()},
		{"injection-looking name", "admin' OR '1'='1", "x", idp.Identity{}, connector.UnknownUser, c.DummyHash()},
		{"disabled, right password", "mallory", "mallory pass", idp.Identity{Username: "mallory", Connector: "local"}, connector.AccountDisabled, users["mallory"]},
		{"disabled, wrong password", "mallory", "nope", idp.Identity{Username: "mallory", Connector: "local"}, connector.WrongPassword, users["mallory"]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cv.hashes = nil
			got, outcome, err := c.Authenticate(ctx, tc.username, tc.password)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			if outcome != tc.outcome {
				t.Errorf("outcome = %v, want %v", outcome, tc.outcome)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("identity = %+v\nwant %+v", got, tc.want)
			}
			if len(cv.hashes) != 1 || cv.hashes[0] != tc.checked {
				t.Errorf("checked hashes %q, want exactly %q (one hash per attempt, whatever the outcome)", cv.hashes, tc.checked)
			}
			id, ok, err := c.Login(ctx, tc.username, tc.password)
			if err != nil || ok != (tc.outcome == connector.Accepted) {
				t.Errorf("Login = %v, %v; want ok=%v", ok, err, tc.outcome == connector.Accepted)
			}
			if !ok && !reflect.DeepEqual(id, idp.Identity{}) {
				t.Errorf("a refused Login returned identity %+v", id)
			}
		})
	}
}

func TestDummyHashHasTheCostOfRealHashes(t *testing.T) {
	t.Parallel()
	c, err := local.New(newStore(t), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if local.NeedsRehash(c.DummyHash(), local.DefaultParams) || !strings.HasPrefix(c.DummyHash(), "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("dummy hash %q is not made with DefaultParams", c.DummyHash())
	}
}

func TestActive(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	addUser(t, s, store.User{Username: "alice"}, "pw-alice")
	addUser(t, s, store.User{Username: "bob", Disabled: true}, "pw-bob")
	c, err := local.New(s, local.Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"alice": true, "ALICE": true, "bob": false, "nobody": false, "": false} {
		if got, err := c.Active(ctx, name); err != nil || got != want {
			t.Errorf("Active(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
}

// brokenUsers fails every lookup, like a database that is down.
type brokenUsers struct{ store.UserStore }

func (brokenUsers) GetUser(context.Context, string) (store.User, error) {
	return store.User{}, errors.New("connection refused")
}

func TestDirectoryFailureIsAnError(t *testing.T) {
	t.Parallel()
	c, err := local.New(brokenUsers{}, local.Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Login(ctx, "alice", "pw"); err == nil || ok {
		t.Fatalf("Login with a failing store = %v, %v; want an error", ok, err)
	}
	if _, err := c.Active(ctx, "alice"); err == nil {
		t.Fatal("Active with a failing store: no error")
	}
}

func TestCorruptHashIsAnError(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	now := time.Now()
	if err := s.CreateUser(ctx, store.User{Username: "eve", PasswordHash: "plaintext", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c, err := local.New(s, local.Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Login(ctx, "eve", "plaintext"); !errors.Is(err, local.ErrBadHash) || ok {
		t.Fatalf("Login against a corrupt hash = %v, %v; want ErrBadHash", ok, err)
	}
}
