package storetest

import (
	"errors"
	"testing"

	"idpbridge/idp/store"
)

// testUserDelete: DeleteUser removes the user under any spelling, leaves
// the others, answers ErrNotFound for a missing user, and rolls back with
// its transaction; the name is free to be taken again afterwards.
func testUserDelete(t *testing.T, s store.Store) {
	for _, n := range []string{"Gone", "kept"} {
		if err := s.CreateUser(ctx, user(n)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.DeleteUser(ctx, "gone"); err != nil {
			return err
		}
		if _, err := tx.GetUser(ctx, "Gone"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetUser in the deleting transaction = %v, want ErrNotFound", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if _, err := s.GetUser(ctx, "Gone"); err != nil {
		t.Fatalf("a rolled-back delete removed the user: %v", err)
	}

	if err := s.DeleteUser(ctx, "GONE"); err != nil {
		t.Fatalf("DeleteUser(GONE): %v", err)
	}
	if _, err := s.GetUser(ctx, "Gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after DeleteUser = %v, want ErrNotFound", err)
	}
	if _, err := s.GetUser(ctx, "kept"); err != nil {
		t.Fatalf("DeleteUser(GONE) touched kept: %v", err)
	}
	if n, err := s.CountUsers(ctx); err != nil || n != 1 {
		t.Fatalf("CountUsers = %d, %v; want 1", n, err)
	}
	if err := s.DeleteUser(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteUser = %v, want ErrNotFound", err)
	}
	if err := s.CreateUser(ctx, user("gone")); err != nil {
		t.Fatalf("CreateUser after DeleteUser: %v", err)
	}
}
