package sso

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mailMapping overrides "one-role": source identity from mail, domain
// stripped.
const mailMapping = `name: one-role
source_identity: {from: mail, transforms: [strip_domain]}
role_session_name: {from: username}
roles:
  - {role_arn: 'arn:aws:iam::123456789012:role/ReadOnly', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
`

var diego = idp.Identity{Username: "diego", Connector: "local", Attributes: map[string][]string{"mail": {"diego.ramirez@example.com"}}}

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func sourceIdentityOf(t *testing.T, c *Catalog) string {
	t.Helper()
	rep, err := c.TestContext(context.Background(), "ro", diego)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("report %+v", rep)
	}
	for _, a := range rep.Attributes {
		if a.Name == "https://aws.amazon.com/SAML/Attributes/SourceIdentity" {
			return a.Values[0]
		}
	}
	return ""
}

func replicaCatalog(t *testing.T, src MappingVersions, clock *testClock) (*Catalog, *MappingReloader) {
	t.Helper()
	c, err := NewCatalog([]ServiceProviderConfig{{Name: "ro", Preset: PresetAWS, Mapping: "one-role"}}, testMappings(), testBase)
	if err != nil {
		t.Fatal(err)
	}
	r := c.ConsoleMappings(src, MappingReloaderOptions{Every: 5 * time.Second, Now: clock.Now})
	if err := r.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, r
}

// TestConsoleMappingsAcrossReplicas: two replicas over one PostgreSQL
// database. A mapping saved on A is used by A at once (it reloads after
// saving) and by B after its refresh interval, without a restart; an empty
// version brings the config file's mapping back on both.
func TestConsoleMappingsAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	open := func() store.Store {
		db, err := postgres.Open(context.Background(), url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return db
	}
	dbA, dbB := open(), open()
	clock := &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	catA, reloadA := replicaCatalog(t, dbA, clock)
	catB, _ := replicaCatalog(t, dbB, clock)
	if a, b := sourceIdentityOf(t, catA), sourceIdentityOf(t, catB); a != "diego" || b != "diego" {
		t.Fatalf("before any save: %q, %q; want the config file's username", a, b)
	}

	ctx := context.Background()
	if err := dbA.PutMappingVersion(ctx, store.MappingVersion{Name: "one-role", Version: 1, Body: mailMapping, Author: "local:ana", CreatedAt: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := reloadA.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sourceIdentityOf(t, catA); got != "diego.ramirez" {
		t.Fatalf("A after saving: %q, want diego.ramirez", got)
	}
	if got := sourceIdentityOf(t, catB); got != "diego" {
		t.Fatalf("B before its refresh interval: %q, want the old diego (it checks at most every 5s)", got)
	}
	clock.Add(5 * time.Second)
	if got := sourceIdentityOf(t, catB); got != "diego.ramirez" {
		t.Fatalf("B after its refresh interval: %q, want diego.ramirez", got)
	}

	// Back to the file: an empty version.
	if err := dbB.PutMappingVersion(ctx, store.MappingVersion{Name: "one-role", Version: 2, Author: "local:ana", CreatedAt: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	clock.Add(5 * time.Second)
	if a, b := sourceIdentityOf(t, catA), sourceIdentityOf(t, catB); a != "diego" || b != "diego" {
		t.Fatalf("after an empty version: %q, %q; want the config file's username on both", a, b)
	}
	src := catA.MappingSources()
	for _, s := range src {
		if s.Name == "one-role" && (!s.Config || s.Console.Version != 2 || s.InEffect() || len(s.UsedBy) != 1) {
			t.Fatalf("source of one-role: %+v", s)
		}
	}
}

// fakeVersions is a MappingVersions in memory that counts the store's
// reads and can fail.
type fakeVersions struct {
	mu       sync.Mutex
	versions []store.MappingVersion
	stamps   int
	err      error
}

func (f *fakeVersions) LatestMappingVersions(context.Context) ([]store.MappingVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	latest := map[string]store.MappingVersion{}
	for _, v := range f.versions {
		latest[v.Name] = v
	}
	var out []store.MappingVersion
	for _, v := range latest {
		out = append(out, v)
	}
	return out, f.err
}

func (f *fakeVersions) MappingsStamp(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stamps++
	return int64(len(f.versions)), f.err
}

func (f *fakeVersions) put(v store.MappingVersion) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions = append(f.versions, v)
}

// TestConsoleMappingsPolling: using a mapping checks the store at most once
// per interval; a failing store keeps the mappings in use; a body that no
// longer compiles falls back to the config file's mapping.
func TestConsoleMappingsPolling(t *testing.T) {
	t.Parallel()
	src := &fakeVersions{}
	clock := &testClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cat, _ := replicaCatalog(t, src, clock)
	before := src.stamps
	for range 10 {
		sourceIdentityOf(t, cat)
	}
	if src.stamps != before {
		t.Fatalf("%d stamp reads within the interval, want none", src.stamps-before)
	}
	src.put(store.MappingVersion{Name: "one-role", Version: 1, Body: mailMapping, Author: "local:ana"})
	clock.Add(5 * time.Second)
	if got := sourceIdentityOf(t, cat); got != "diego.ramirez" {
		t.Fatalf("after the interval: %q", got)
	}
	if src.stamps != before+1 {
		t.Fatalf("%d stamp reads, want 1", src.stamps-before)
	}

	src.mu.Lock()
	src.err = errors.New("database down")
	src.mu.Unlock()
	clock.Add(5 * time.Second)
	if got := sourceIdentityOf(t, cat); got != "diego.ramirez" {
		t.Fatalf("with the store failing: %q, want the mapping in use kept", got)
	}
	src.mu.Lock()
	src.err = nil
	src.mu.Unlock()

	src.put(store.MappingVersion{Name: "one-role", Version: 2, Body: "name: one-role\nroles: nope\n", Author: "local:ana"})
	clock.Add(5 * time.Second)
	if got := sourceIdentityOf(t, cat); got != "diego" {
		t.Fatalf("with a body that does not compile: %q, want the config file's mapping", got)
	}
}
