package local_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"idpbridge/idp/connector"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
)

func TestHashConcurrencyOptions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	if _, err := local.New(s, local.Options{Params: cheap, HashConcurrency: -1}); err == nil {
		t.Error("HashConcurrency -1 accepted")
	}
	if _, err := local.New(s, local.Options{Params: cheap, HashWait: -time.Second}); err == nil {
		t.Error("a negative HashWait accepted")
	}
}

// TestHashSlots: with every slot taken, known and unknown names alike get
// ErrBusy once the wait is over, or when the request ends first; a freed
// slot serves the next attempt.
func TestHashSlots(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	addUser(t, s, store.User{Username: "alice"}, "pw-alice")
	held, release := make(chan struct{}), make(chan struct{})
	c, err := local.New(s, local.Options{Params: cheap, HashConcurrency: 1, HashWait: 10 * time.Millisecond,
		Verify: func(hash, password string) (bool, error) {
			if password == "hold" {
				close(held)
				<-release
			}
			return local.VerifyPassword(hash, password)
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, _, err := c.Authenticate(ctx, "nobody", "hold")
		done <- err
	}()
	<-held
	for _, name := range []string{"alice", "nobody"} {
		if _, _, err := c.Authenticate(ctx, name, "pw-alice"); !errors.Is(err, connector.ErrBusy) {
			t.Errorf("%s with the slot taken: %v, want ErrBusy", name, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// (The empty name is looked up nowhere, so only the wait sees the end.)
	if _, ok, err := c.Login(cancelled, "", "pw-alice"); !errors.Is(err, connector.ErrBusy) || ok {
		t.Errorf("an ended request with the slot taken: %v, %v; want ErrBusy", ok, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the attempt holding the slot: %v", err)
	}
	if _, outcome, err := c.Authenticate(ctx, "alice", "pw-alice"); err != nil || outcome != connector.Accepted {
		t.Fatalf("after the slot was freed: %v, %v", outcome, err)
	}
}
