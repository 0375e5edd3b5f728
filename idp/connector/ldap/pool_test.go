package ldap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/connector"
)

// TestPoolBoundsConnections: a burst of concurrent sign-ins shares at
// most pool_size service connections, and every one succeeds.
func TestPoolBoundsConnections(t *testing.T) {
	t.Parallel()
	s := startSlapd(t)
	cfg := slapdConfig(s)
	n := 2
	cfg.PoolSize = &n
	var dials atomic.Int64
	c, _ := newTestConnector(t, cfg, Options{Observe: func(op string, ok bool, _ time.Duration) {
		if op == "dial" {
			dials.Add(1)
		}
	}})
	const burst = 40
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, pw := "diego", "diego-pw"
			if i%2 == 1 {
				user, pw = "alice", "alice-pw"
			}
			id, ok, err := c.Login(t.Context(), user, pw)
			switch {
			case err != nil:
				errs <- err
			case !ok || id.Username != user:
				errs <- fmt.Errorf("login %d as %s: ok=%v, username %q", i, user, ok, id.Username)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := dials.Load(); got > int64(n) {
		t.Errorf("%d sign-ins dialed %d connections, want at most pool_size=%d", burst, got, n)
	}
}

// TestPoolFullIsBusy: with every pooled connection in use, a sign-in
// whose context ends first fails with ErrBusy, not a wrong password.
func TestPoolFullIsBusy(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	inSearch := make(chan struct{}, 1)
	release := make(chan struct{})
	var once sync.Once
	d.OnSearch = func() {
		once.Do(func() {
			inSearch <- struct{}{}
			<-release
		})
	}
	cfg := adConfig(d)
	n := 1
	cfg.PoolSize = &n
	cfg.Timeout = Duration(time.Minute)
	c, _ := newTestConnector(t, cfg, Options{})
	first := make(chan error, 1)
	go func() {
		_, ok, err := c.Login(context.Background(), "diego.ramirez", "diego-pw")
		if err == nil && !ok {
			err = errors.New("refused")
		}
		first <- err
	}()
	<-inSearch
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, ok, err := c.Login(ctx, "diego.ramirez", "diego-pw")
	if ok || !errors.Is(err, connector.ErrBusy) {
		t.Errorf("Login with the pool in use = %v, %v; want ErrBusy", ok, err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("the first sign-in: %v", err)
	}
}

// TestUserBindThenServiceBind: the password is checked by a bind as the
// person's DN, and the connection binds back as the service account
// before anything else runs on it; an unknown name costs a bind too.
func TestUserBindThenServiceBind(t *testing.T) {
	t.Parallel()
	d := newFakeAD(t)
	cfg := adConfig(d)
	n := 1
	cfg.PoolSize = &n
	c, _ := newTestConnector(t, cfg, Options{})
	for _, tc := range []struct{ user, pw string }{{"diego.ramirez", "diego-pw"}, {"diego.ramirez", "wrong"}, {"nobody", "x"}, {"diego.ramirez", ""}} {
		if _, _, err := c.Authenticate(t.Context(), tc.user, tc.pw); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{adSvcDN, adDiegoDN, adSvcDN, adDiegoDN, adSvcDN, "cn=idpbridge-no-such-user," + adBase, adSvcDN}
	if got := d.Binds(); !slices.Equal(got, want) {
		t.Errorf("binds =\n%q\nwant\n%q", got, want)
	}
}

// TestHungDirectoryTimesOut: a server that accepts connections and never
// answers makes every call fail with ErrUnavailable within the
// configured timeouts, and the next URL is tried.
func TestHungDirectoryTimesOut(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn // accepted, never answered
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	d := newFakeAD(t)
	cfg := adConfig(d)
	cfg.URLs = []string{"ldap://" + l.Addr().String()}
	cfg.Timeout = Duration(50 * time.Millisecond)
	c, _ := newTestConnector(t, cfg, Options{})
	if _, _, err := c.Authenticate(t.Context(), "diego.ramirez", "diego-pw"); !errors.Is(err, connector.ErrUnavailable) {
		t.Errorf("Authenticate against a hung server = %v, want ErrUnavailable", err)
	}
	if err := c.Check(t.Context()); !errors.Is(err, connector.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Check against a hung server = %v, want ErrUnavailable from the timeout", err)
	}
	cfg.URLs = append(cfg.URLs, "ldap://"+d.Addr())
	c2, _ := newTestConnector(t, cfg, Options{})
	if _, ok, err := c2.Login(t.Context(), "diego.ramirez", "diego-pw"); err != nil || !ok {
		t.Errorf("Login with the first server hung = %v, %v; want the second server to answer", ok, err)
	}
}
