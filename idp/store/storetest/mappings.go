package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// runMappings runs the cases of the console's versioned attribute mappings.
func runMappings(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PutGetList", testMappingPutGetList},
		{"OptimisticConcurrency", testMappingOptimisticConcurrency},
		{"ConcurrentSaves", testMappingConcurrentSaves},
		{"NotFound", testMappingNotFound},
		{"Refusals", testMappingRefusals},
		{"StampGrows", testMappingStamp},
		{"InTx", testMappingInTx},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func mappingVersion(name string, v int, body string) store.MappingVersion {
	return store.MappingVersion{
		Name: name, Version: v, Body: body, Author: "local:ana",
		Comment: fmt.Sprintf("version %d", v), CreatedAt: t0.Add(time.Duration(v) * time.Minute),
	}
}

func testMappingPutGetList(t *testing.T, s store.Store) {
	v1 := mappingVersion("aws", 1, "name: aws\nsource_identity: {from: username}\n")
	v2 := mappingVersion("aws", 2, "name: aws\nsource_identity: {from: mail, transforms: [strip_domain]}\n")
	v2.Comment = ""
	other := mappingVersion("wiki", 1, "name: wiki\n")
	for _, m := range []store.MappingVersion{v1, v2, other} {
		if err := s.PutMappingVersion(ctx, m); err != nil {
			t.Fatalf("PutMappingVersion(%s v%d): %v", m.Name, m.Version, err)
		}
	}
	got, err := s.LatestMappingVersion(ctx, "aws")
	if err != nil || !reflect.DeepEqual(got, v2) {
		t.Fatalf("LatestMappingVersion(aws) = %+v, %v; want %+v", got, err, v2)
	}
	got, err = s.GetMappingVersion(ctx, "aws", 1)
	if err != nil || !reflect.DeepEqual(got, v1) {
		t.Fatalf("GetMappingVersion(aws, 1) = %+v, %v; want %+v", got, err, v1)
	}
	list, err := s.ListMappingVersions(ctx, "aws")
	if err != nil || !reflect.DeepEqual(list, []store.MappingVersion{v2, v1}) {
		t.Fatalf("ListMappingVersions(aws) = %+v, %v; want v2, v1", list, err)
	}
	latest, err := s.LatestMappingVersions(ctx)
	if err != nil || !reflect.DeepEqual(latest, []store.MappingVersion{v2, other}) {
		t.Fatalf("LatestMappingVersions = %+v, %v; want aws v2, wiki v1", latest, err)
	}
	// An empty body (back to the config file) is a version like any other.
	v3 := mappingVersion("aws", 3, "")
	if err := s.PutMappingVersion(ctx, v3); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LatestMappingVersion(ctx, "aws"); err != nil || !reflect.DeepEqual(got, v3) {
		t.Fatalf("after an empty version, LatestMappingVersion = %+v, %v", got, err)
	}
}

func testMappingOptimisticConcurrency(t *testing.T, s store.Store) {
	if err := s.PutMappingVersion(ctx, mappingVersion("aws", 1, "a")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMappingVersion(ctx, mappingVersion("aws", 2, "b")); err != nil {
		t.Fatal(err)
	}
	// An admin who read version 1 saves "version 2": someone else did.
	for _, v := range []int{1, 2, 4} {
		err := s.PutMappingVersion(ctx, mappingVersion("aws", v, "stale"))
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("PutMappingVersion(v%d) after v2 = %v, want ErrConflict", v, err)
		}
	}
	// A new mapping starts at 1, not 2.
	if err := s.PutMappingVersion(ctx, mappingVersion("new", 2, "x")); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutMappingVersion(new v2) = %v, want ErrConflict", err)
	}
	if got, err := s.LatestMappingVersion(ctx, "aws"); err != nil || got.Body != "b" || got.Version != 2 {
		t.Fatalf("a refused save changed the mapping: %+v, %v", got, err)
	}
}

func testMappingConcurrentSaves(t *testing.T, s store.Store) {
	if err := s.PutMappingVersion(ctx, mappingVersion("aws", 1, "a")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.PutMappingVersion(ctx, mappingVersion("aws", 2, fmt.Sprintf("writer %d", i)))
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers saved version 2, want exactly 1", won)
	}
	if list, err := s.ListMappingVersions(ctx, "aws"); err != nil || len(list) != 2 {
		t.Fatalf("ListMappingVersions = %d versions, %v; want 2", len(list), err)
	}
}

func testMappingNotFound(t *testing.T, s store.Store) {
	if _, err := s.LatestMappingVersion(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestMappingVersion(nope) = %v, want ErrNotFound", err)
	}
	if _, err := s.GetMappingVersion(ctx, "nope", 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMappingVersion(nope, 1) = %v, want ErrNotFound", err)
	}
	if err := s.PutMappingVersion(ctx, mappingVersion("aws", 1, "a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMappingVersion(ctx, "aws", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMappingVersion(aws, 2) = %v, want ErrNotFound", err)
	}
	if list, err := s.ListMappingVersions(ctx, "nope"); err != nil || len(list) != 0 {
		t.Errorf("ListMappingVersions(nope) = %v, %v; want none", list, err)
	}
	if list, err := s.LatestMappingVersions(ctx); err != nil || len(list) != 1 {
		t.Errorf("LatestMappingVersions = %v, %v; want aws only", list, err)
	}
}

func testMappingRefusals(t *testing.T, s store.Store) {
	for _, tc := range []struct {
		name string
		m    store.MappingVersion
	}{
		{"no name", store.MappingVersion{Version: 1, Author: "local:ana", CreatedAt: t0}},
		{"no author", store.MappingVersion{Name: "aws", Version: 1, CreatedAt: t0}},
		{"version 0", store.MappingVersion{Name: "aws", Version: 0, Author: "local:ana", CreatedAt: t0}},
	} {
		if err := s.PutMappingVersion(ctx, tc.m); err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: PutMappingVersion = %v, want a validation error", tc.name, err)
		}
	}
	if n, err := s.MappingsStamp(ctx); err != nil || n != 0 {
		t.Fatalf("MappingsStamp after refusals = %d, %v; want 0", n, err)
	}
}

func testMappingStamp(t *testing.T, s store.Store) {
	prev, err := s.MappingsStamp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []store.MappingVersion{mappingVersion("aws", 1, "a"), mappingVersion("wiki", 1, "w"), mappingVersion("aws", 2, "")} {
		if err := s.PutMappingVersion(ctx, m); err != nil {
			t.Fatal(err)
		}
		n, err := s.MappingsStamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n <= prev {
			t.Fatalf("save %d: stamp %d, not above %d", i, n, prev)
		}
		prev = n
	}
	// A refused save leaves the stamp alone.
	_ = s.PutMappingVersion(ctx, mappingVersion("aws", 2, "stale"))
	if n, err := s.MappingsStamp(ctx); err != nil || n != prev {
		t.Fatalf("stamp after a conflict = %d, %v; want %d", n, err, prev)
	}
}

func testMappingInTx(t *testing.T, s store.Store) {
	boom := errors.New("audit record failed")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.PutMappingVersion(ctx, mappingVersion("aws", 1, "a")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := s.LatestMappingVersion(ctx, "aws"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a rolled-back save is visible: %v", err)
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		return tx.PutMappingVersion(ctx, mappingVersion("aws", 1, "a"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.LatestMappingVersion(ctx, "aws"); err != nil || got.Body != "a" {
		t.Fatalf("committed save: %+v, %v", got, err)
	}
}
