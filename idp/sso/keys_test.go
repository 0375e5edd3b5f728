package sso

import (
	"context"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
	"idpbridge/idp/store/sqlite"
)

func sqliteStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "idpbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func states(t *testing.T, s store.Store) map[string]store.KeyState {
	t.Helper()
	keys, err := s.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.KeyState{}
	for _, k := range keys {
		out[k.ID] = k.State
	}
	return out
}

// TestKeyLifecycle: rotate publishes a next key, activate makes it the
// signer and keeps the old signer published, retire unpublishes it; the
// key ring sees each change once its TTL has passed.
func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := sqliteStore(t)
	kek := make([]byte, 32)
	rand.Read(kek)
	first := fixedKey(t, "idp-active")
	sk, err := first.Seal(rand.Reader, kek, store.KeyActive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSigningKey(ctx, sk); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{string(first.Certificate.Raw): first.ID}
	keyIDOf := func(raw []byte) string { return ids[string(raw)] }
	now := testNow
	ring := &StoreKeys{Store: s, KEK: kek, TTL: time.Minute, Now: func() time.Time { return now }}
	published := func() []string {
		t.Helper()
		ks, err := ring.SigningKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range ks.Published() {
			ids = append(ids, keyIDOf(c.Raw))
		}
		return append([]string{ks.Active.ID}, ids...)
	}
	if got := published(); len(got) != 2 || got[0] != first.ID {
		t.Fatalf("published %v", got)
	}

	next, err := RotateKey(ctx, s, kek, rand.Reader, "idp.test", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids[string(next.Certificate.Raw)] = next.ID
	if st := states(t, s); st[first.ID] != store.KeyActive || st[next.ID] != store.KeyNext {
		t.Fatalf("after rotate %v", st)
	}
	if got := published(); len(got) != 2 {
		t.Fatalf("the ring re-read the store before its TTL: %v", got)
	}
	now = now.Add(time.Minute)
	if got := published(); len(got) != 3 || got[0] != first.ID || got[2] != next.ID {
		t.Fatalf("after rotate: signer and published %v", got)
	}

	ch, err := ActivateKey(ctx, s, kek, next.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Demoted != first.ID {
		t.Errorf("demoted %q", ch.Demoted)
	}
	if st := states(t, s); st[first.ID] != store.KeyNext || st[next.ID] != store.KeyActive {
		t.Fatalf("after activate %v", st)
	}
	now = now.Add(time.Minute)
	if got := published(); len(got) != 3 || got[0] != next.ID || got[2] != first.ID {
		t.Fatalf("after activate: signer and published %v", got)
	}

	if _, err := RetireKey(ctx, s, next.ID, nil); idp.ErrorCode(err) != idp.EInvalid {
		t.Errorf("retiring the active key: %v", err)
	}
	if _, err := RetireKey(ctx, s, first.ID, nil); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if got := published(); len(got) != 2 || got[0] != next.ID {
		t.Fatalf("after retire: %v", got)
	}

	tests := []struct {
		name string
		do   func() error
		code string
	}{
		{"activate unknown", func() error { _, err := ActivateKey(ctx, s, kek, "nope", nil); return err }, idp.ENotFound},
		{"activate active", func() error { _, err := ActivateKey(ctx, s, kek, next.ID, nil); return err }, idp.EInvalid},
		{"activate retired", func() error { _, err := ActivateKey(ctx, s, kek, first.ID, nil); return err }, idp.EInvalid},
		{"retire retired", func() error { _, err := RetireKey(ctx, s, first.ID, nil); return err }, idp.EInvalid},
		{"retire unknown", func() error { _, err := RetireKey(ctx, s, "nope", nil); return err }, idp.ENotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do(); idp.ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %s", err, tc.code)
			}
		})
	}
	if st := states(t, s); st[first.ID] != store.KeyRetired || st[next.ID] != store.KeyActive {
		t.Fatalf("refused changes changed states: %v", st)
	}

	// The audit record is written in the change's transaction: when it
	// fails, nothing changes; when it runs, it sees the change.
	failing := func(store.Tx, KeyChange) error { return errors.New("audit down") }
	if _, err := RetireKey(ctx, s, "nope", failing); idp.ErrorCode(err) != idp.ENotFound {
		t.Fatalf("retire unknown with a recorder: %v", err)
	}
	before := states(t, s)
	if _, err := RotateKey(ctx, s, kek, rand.Reader, "idp.test", now, failing); err == nil {
		t.Fatal("rotate succeeded without its audit record")
	}
	if got := states(t, s); len(got) != len(before) {
		t.Fatalf("rotate without its record left a key: %v", got)
	}
	var seen KeyChange
	var stateInTx store.KeyState
	rec := func(tx store.Tx, ch KeyChange) error {
		seen = ch
		keys, err := tx.ListSigningKeys(ctx)
		for _, k := range keys {
			if k.ID == ch.ID {
				stateInTx = k.State
			}
		}
		return err
	}
	extra, err := RotateKey(ctx, s, kek, rand.Reader, "idp.test", now, rec)
	if err != nil || seen.ID != extra.ID || stateInTx != store.KeyNext {
		t.Fatalf("rotate recorder saw %+v (%s), err %v", seen, stateInTx, err)
	}
	if _, err := ActivateKey(ctx, s, kek, extra.ID, failing); err == nil {
		t.Fatal("activate succeeded without its audit record")
	}
	if st := states(t, s); st[next.ID] != store.KeyActive || st[extra.ID] != store.KeyNext {
		t.Fatalf("activate without its record changed states: %v", st)
	}
	if ch, err := ActivateKey(ctx, s, kek, extra.ID, rec); err != nil || seen != ch || ch.Demoted != next.ID || stateInTx != store.KeyActive {
		t.Fatalf("activate recorder saw %+v (%s), err %v", seen, stateInTx, err)
	}

	// A next key the key-encryption key cannot open is never activated.
	third, err := RotateKey(ctx, s, make([]byte, 32), rand.Reader, "idp.test", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ActivateKey(ctx, s, kek, third.ID, nil); err == nil {
		t.Fatal("activated a key that cannot be opened")
	}
	if st := states(t, s); st[extra.ID] != store.KeyActive || st[third.ID] != store.KeyNext {
		t.Fatalf("failed activate changed states: %v", st)
	}
}

func TestStoreKeysWithoutActiveKey(t *testing.T) {
	t.Parallel()
	ring := &StoreKeys{Store: sqliteStore(t), KEK: make([]byte, 32)}
	if _, err := ring.SigningKeys(context.Background()); err != ErrNoActiveKey {
		t.Fatalf("err %v", err)
	}
}
