package storetest

import (
	"errors"
	"fmt"
	"sync"
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

// testUserDeleteConcurrent: a burst of deletes of one user under different
// spellings: exactly one succeeds, every other one is ErrNotFound.
func testUserDeleteConcurrent(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, user("target")); err != nil {
		t.Fatal(err)
	}
	names := []string{"target", "TARGET", "Target", "tArget", "taRget", "tarGet", "targEt", "targeT"}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, name) })
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("DeleteUser(%s) = %v, want nil or ErrNotFound", names[i], err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent deletes succeeded, want exactly 1", ok, len(names))
	}
}

// testUserReadModifyWrite: a burst of transactions that each read the
// user, add one attribute and write it back: GetUser in a Tx holds the
// user until the Tx ends, so no update is lost.
func testUserReadModifyWrite(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx, user("shared")); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx store.Tx) error {
				u, err := tx.GetUser(ctx, "shared")
				if err != nil {
					return err
				}
				u.Attributes[fmt.Sprintf("k%d", i)] = []string{"v"}
				return tx.UpdateUser(ctx, u)
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	u, err := s.GetUser(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, ok := u.Attributes[fmt.Sprintf("k%d", i)]; !ok {
			t.Errorf("the update of transaction %d was lost: %v", i, u.Attributes)
		}
	}
}
