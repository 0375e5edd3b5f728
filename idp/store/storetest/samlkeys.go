package storetest

import (
	"reflect"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// testSAMLProviderKeys: a key is stored once per provider and ID (a
// second Put leaves the first sealed copy), listed oldest first, and
// only under its provider.
func testSAMLProviderKeys(t *testing.T, s store.Store) {
	const a, b = "arn:aws:iam::123456789012:saml-provider/A", "arn:aws:iam::123456789012:saml-provider/B"
	k1 := store.SAMLProviderKey{ProviderARN: a, ID: "0123456789abcdef", EncryptedKey: []byte{0, 1, 2, 255}, CreatedAt: t0.Add(time.Minute)}
	k2 := store.SAMLProviderKey{ProviderARN: a, ID: "fedcba9876543210", EncryptedKey: []byte{9, 8, 7}, CreatedAt: t0}
	k3 := store.SAMLProviderKey{ProviderARN: b, ID: k1.ID, EncryptedKey: []byte{5}, CreatedAt: t0}
	for _, k := range []store.SAMLProviderKey{k1, k2, k3} {
		stored, err := s.PutSAMLProviderKey(ctx, k)
		if err != nil || !stored {
			t.Fatalf("PutSAMLProviderKey(%s, %s) = %v, %v", k.ProviderARN, k.ID, stored, err)
		}
	}
	again := k1
	again.EncryptedKey, again.CreatedAt = []byte{42}, t0.Add(time.Hour)
	if stored, err := s.PutSAMLProviderKey(ctx, again); err != nil || stored {
		t.Fatalf("second PutSAMLProviderKey = %v, %v; want not stored", stored, err)
	}
	got, err := s.ListSAMLProviderKeys(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []store.SAMLProviderKey{k2, k1}) {
		t.Fatalf("ListSAMLProviderKeys(A) = %+v\nwant oldest first, the first copy kept: %+v", got, []store.SAMLProviderKey{k2, k1})
	}
	if got, err := s.ListSAMLProviderKeys(ctx, "arn:aws:iam::123456789012:saml-provider/none"); err != nil || len(got) != 0 {
		t.Fatalf("ListSAMLProviderKeys(none) = %v, %v", got, err)
	}
	if err := s.InTx(ctx, func(tx store.Tx) error {
		got, err := tx.ListSAMLProviderKeys(ctx, b)
		if err == nil && (len(got) != 1 || !reflect.DeepEqual(got[0], k3)) {
			t.Errorf("ListSAMLProviderKeys(B) in a Tx = %+v", got)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
