package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// testLoginReserve: a reservation counts against every key at once, or
// against none when one key is full, and names when room comes back.
func testLoginReserve(t *testing.T, s store.Store) {
	limits := []store.LoginLimit{{Key: "user:alice", Max: 2}, {Key: "addr:192.0.2.1", Max: 3}}
	since := t0.Add(-time.Hour)
	for i := 0; i < 2; i++ {
		res, err := s.ReserveLoginAttempt(ctx, limits, since, t0.Add(time.Duration(i)*time.Minute))
		if err != nil || !res.Reserved {
			t.Fatalf("reservation %d = %+v, %v; want Reserved", i+1, res, err)
		}
	}
	// alice is full: nothing is recorded, not even against the address.
	res, err := s.ReserveLoginAttempt(ctx, limits, since, t0.Add(2*time.Minute))
	if err != nil || res.Reserved || !res.Blocking.Equal(t0) {
		t.Fatalf("reservation over alice's limit = %+v, %v; want refused, Blocking %v", res, err, t0)
	}
	if got, _ := s.RecentLoginFailures(ctx, "addr:192.0.2.1", since, 10); len(got) != 2 {
		t.Fatalf("the refused reservation counted against the address: %v", got)
	}
	// Blocking is the latest among the full keys.
	for _, f := range []struct {
		key string
		at  time.Time
	}{{"user:carol", t0.Add(10 * time.Second)}, {"addr:192.0.2.2", t0.Add(20 * time.Second)}} {
		if err := s.RecordLoginFailure(ctx, f.key, f.at); err != nil {
			t.Fatal(err)
		}
	}
	two := []store.LoginLimit{{Key: "user:carol", Max: 1}, {Key: "addr:192.0.2.2", Max: 1}}
	if res, err := s.ReserveLoginAttempt(ctx, two, since, t0.Add(time.Minute)); err != nil || res.Reserved || !res.Blocking.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("both keys full = %+v, %v; want Blocking %v (the later of the two)", res, err, t0.Add(20*time.Second))
	}
	// Once the blocking failures leave the window there is room again.
	res, err = s.ReserveLoginAttempt(ctx, limits, t0, t0.Add(5*time.Minute))
	if err != nil || !res.Reserved {
		t.Fatalf("after the window moved = %+v, %v; want Reserved", res, err)
	}

	// Release deletes one failure recorded at that time, and only one.
	for i := 0; i < 2; i++ {
		if err := s.RecordLoginFailure(ctx, "user:bob", t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReleaseLoginAttempt(ctx, "user:bob", t0); err != nil {
		t.Fatalf("ReleaseLoginAttempt: %v", err)
	}
	if got, _ := s.RecentLoginFailures(ctx, "user:bob", since, 10); !reflect.DeepEqual(got, []time.Time{t0}) {
		t.Fatalf("after one release: %v, want one failure left", got)
	}
	if err := s.ReleaseLoginAttempt(ctx, "user:bob", t0.Add(time.Second)); err != nil {
		t.Fatalf("releasing what was never reserved: %v", err)
	}
	if got, _ := s.RecentLoginFailures(ctx, "user:bob", since, 10); len(got) != 1 {
		t.Fatalf("a release at another time deleted %v", got)
	}

	for _, bad := range [][]store.LoginLimit{nil, {{Key: "", Max: 1}}, {{Key: "k", Max: 0}}} {
		if _, err := s.ReserveLoginAttempt(ctx, bad, since, t0); err == nil {
			t.Errorf("ReserveLoginAttempt(%+v) succeeded", bad)
		}
	}
}

// testLoginReserveConcurrent: of many reservations made at once (one
// instant, as a burst of requests sees it), exactly Max are granted.
func testLoginReserveConcurrent(t *testing.T, s store.Store) {
	const n, maxUser, maxAddr = 40, 5, 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
		errs    []error
	)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half of the attempts name bob, all come from one address.
			limits := []store.LoginLimit{{Key: fmt.Sprintf("user:u%d", i), Max: maxUser}, {Key: "addr:198.51.100.9", Max: maxAddr}}
			if i%2 == 0 {
				limits[0].Key = "user:bob"
			}
			<-start
			res, err := s.ReserveLoginAttempt(ctx, limits, t0.Add(-time.Minute), t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else if res.Reserved {
				granted++
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d reservations failed, first: %v", len(errs), errs[0])
	}
	bob, _ := s.RecentLoginFailures(ctx, "user:bob", t0.Add(-time.Minute), 100)
	addr, _ := s.RecentLoginFailures(ctx, "addr:198.51.100.9", t0.Add(-time.Minute), 100)
	if granted != maxAddr || len(addr) != maxAddr || len(bob) > maxUser {
		t.Fatalf("granted %d, counted %d against the address and %d against bob; want %d, %d and at most %d",
			granted, len(addr), len(bob), maxAddr, maxAddr, maxUser)
	}

	// Releases made at once of equal reservations each delete one.
	for i := 0; i < maxAddr; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ReleaseLoginAttempt(ctx, "addr:198.51.100.9", t0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if addr, _ := s.RecentLoginFailures(ctx, "addr:198.51.100.9", t0.Add(-time.Minute), 100); len(addr) != 0 {
		t.Fatalf("after %d concurrent releases %d failures are left", maxAddr, len(addr))
	}
}
