package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"idpbridge/idp/store"
)

// runServiceProviders runs the cases of the service providers added in the
// admin console.
func runServiceProviders(t *testing.T, newStore NewStore) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGetList", testSPCreateGetList},
		{"Conflicts", testSPConflicts},
		{"ConcurrentCreate", testSPConcurrentCreate},
		{"Delete", testSPDelete},
		{"TxRollback", testSPTxRollback},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func serviceProvider(name, entityID string) store.ServiceProvider {
	return store.ServiceProvider{
		Name: name, EntityID: entityID, DisplayName: "App " + name, Mapping: "default",
		Sign: "both", ACSURL: "https://" + name + ".example.com/saml/acs",
		CreatedBy: "local:admin", CreatedAt: t0,
	}
}

func testSPCreateGetList(t *testing.T, s store.Store) {
	if got, err := s.ListServiceProviders(ctx); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("ListServiceProviders of an empty store = %#v, %v; want an empty non-nil list", got, err)
	}
	byMetadata := serviceProvider("wiki", "https://wiki.example.com/saml")
	byMetadata.ACSURL, byMetadata.Sign = "", ""
	byMetadata.Metadata = []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://wiki.example.com/saml"/>`)
	byMetadata.MetadataURL = "https://wiki.example.com/saml/metadata"
	byACS := serviceProvider("crm", "urn:example:crm")
	for _, sp := range []store.ServiceProvider{byMetadata, byACS} {
		if err := s.CreateServiceProvider(ctx, sp); err != nil {
			t.Fatalf("CreateServiceProvider(%s): %v", sp.Name, err)
		}
	}
	got, err := s.GetServiceProvider(ctx, "wiki")
	if err != nil || !reflect.DeepEqual(got, byMetadata) {
		t.Fatalf("GetServiceProvider(wiki) = %+v, %v\nwant %+v", got, err, byMetadata)
	}
	got, err = s.GetServiceProvider(ctx, "crm")
	if err != nil || !reflect.DeepEqual(got, byACS) {
		t.Fatalf("GetServiceProvider(crm) = %+v, %v\nwant %+v (no metadata: nil)", got, err, byACS)
	}
	list, err := s.ListServiceProviders(ctx)
	if err != nil || !reflect.DeepEqual(list, []store.ServiceProvider{byACS, byMetadata}) {
		t.Fatalf("ListServiceProviders = %+v, %v; want crm, wiki by name", list, err)
	}
	if _, err := s.GetServiceProvider(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetServiceProvider(nope) = %v, want ErrNotFound", err)
	}
}

func testSPConflicts(t *testing.T, s store.Store) {
	if err := s.CreateServiceProvider(ctx, serviceProvider("crm", "urn:example:crm")); err != nil {
		t.Fatal(err)
	}
	for _, sp := range []store.ServiceProvider{
		serviceProvider("crm", "urn:example:other"), // same name
		serviceProvider("crm2", "urn:example:crm"),  // same entity ID
	} {
		if err := s.CreateServiceProvider(ctx, sp); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateServiceProvider(%s, %s) = %v, want ErrConflict", sp.Name, sp.EntityID, err)
		}
	}
	if list, _ := s.ListServiceProviders(ctx); len(list) != 1 {
		t.Errorf("after refused creates: %d providers, want 1", len(list))
	}
}

// testSPConcurrentCreate: of many simultaneous creates of one entity ID
// under different names, exactly one succeeds.
func testSPConcurrentCreate(t *testing.T, s store.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateServiceProvider(ctx, serviceProvider(string(rune('a'+i))+"-app", "urn:example:same"))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("concurrent create: %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creates succeeded, want exactly 1", ok)
	}
}

func testSPDelete(t *testing.T, s store.Store) {
	if err := s.CreateServiceProvider(ctx, serviceProvider("crm", "urn:example:crm")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteServiceProvider(ctx, "crm"); err != nil {
		t.Fatalf("DeleteServiceProvider: %v", err)
	}
	if err := s.DeleteServiceProvider(ctx, "crm"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteServiceProvider = %v, want ErrNotFound", err)
	}
	if _, err := s.GetServiceProvider(ctx, "crm"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetServiceProvider after delete = %v, want ErrNotFound", err)
	}
	// The entity ID is free again.
	if err := s.CreateServiceProvider(ctx, serviceProvider("crm-new", "urn:example:crm")); err != nil {
		t.Fatalf("re-create with the deleted entity ID: %v", err)
	}
}

// testSPTxRollback: a create in a transaction that fails leaves nothing,
// so a change and its audit record can share one transaction.
func testSPTxRollback(t *testing.T, s store.Store) {
	boom := errors.New("the audit record could not be written")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateServiceProvider(ctx, serviceProvider("crm", "urn:example:crm")); err != nil {
			return err
		}
		if _, err := tx.GetServiceProvider(ctx, "crm"); err != nil {
			t.Errorf("the Tx does not see its own create: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v", err)
	}
	if _, err := s.GetServiceProvider(ctx, "crm"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after rollback: %v, want ErrNotFound", err)
	}
}
