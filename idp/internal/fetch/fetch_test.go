package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// server serves a numbered document ("v<version>") and counts requests;
// status, body size and holding can be changed.
type server struct {
	*httptest.Server
	version  atomic.Int32
	status   atomic.Int32 // 0 means 200
	size     atomic.Int32 // > 0: the body is that many bytes
	requests atomic.Int32
	inFlight atomic.Int32
	maxIn    atomic.Int32
	accept   atomic.Value // the last Accept header
	// hold, when set, makes each request wait for a value from it or its
	// closing; arrived gets one value per held request.
	hold, arrived chan struct{}
}

func newServer(t *testing.T, hold bool) *server {
	t.Helper()
	s := &server{}
	if hold {
		s.hold, s.arrived = make(chan struct{}), make(chan struct{}, 1024)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.accept.Store(r.Header.Get("Accept"))
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for m := s.maxIn.Load(); n > m && !s.maxIn.CompareAndSwap(m, n); m = s.maxIn.Load() {
		}
		if s.hold != nil {
			s.arrived <- struct{}{}
			<-s.hold
		}
		if st := s.status.Load(); st != 0 {
			http.Error(w, "failing", int(st))
			return
		}
		if n := s.size.Load(); n > 0 {
			w.Write([]byte(strings.Repeat("x", int(n))))
			return
		}
		fmt.Fprintf(w, "v%d", s.version.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

// parseVersion reads "v<n>"; anything else is refused.
func parseVersion(raw []byte) (int, error) {
	v, ok := strings.CutPrefix(string(raw), "v")
	if !ok {
		return 0, errors.New("not a version")
	}
	return strconv.Atoi(v)
}

func newFetcher(s *server, clk *clock) *Fetcher[int] {
	return &Fetcher[int]{
		URL: s.URL, Parse: parseVersion, Client: s.Client(), Now: clk.Now,
		TTL: time.Hour, MinRefresh: time.Minute, RetryAfter: 5 * time.Second, MaxStale: 24 * time.Hour,
	}
}

// burst calls f.Get from n goroutines at once.
func burst(f *Fetcher[int], n int, refresh bool) ([]int, []error) {
	vals, errs := make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			vals[i], errs[i] = f.Get(context.Background(), refresh)
		}()
	}
	close(start)
	wg.Wait()
	return vals, errs
}

// TestBurstMakesOneRequest: simultaneous callers share one request, for a
// source that answers and for one that fails, counted at the server.
func TestBurstMakesOneRequest(t *testing.T) {
	t.Parallel()
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing=%v", failing), func(t *testing.T) {
			t.Parallel()
			s := newServer(t, true)
			s.version.Store(7)
			if failing {
				s.status.Store(http.StatusBadGateway)
			}
			f := newFetcher(s, &clock{t: testNow})
			const n = 64
			var vals []int
			var errs []error
			done := make(chan struct{})
			go func() { vals, errs = burst(f, n, false); close(done) }()
			<-s.arrived // the first request is in flight, held at the server
			close(s.hold)
			<-done
			for i := range n {
				switch {
				case failing && (errs[i] == nil || !strings.Contains(errs[i].Error(), "HTTP 502")):
					t.Fatalf("call %d: %v, want the HTTP 502", i, errs[i])
				case !failing && (errs[i] != nil || vals[i] != 7):
					t.Fatalf("call %d: %d, %v", i, vals[i], errs[i])
				}
			}
			if got := s.requests.Load(); got != 1 {
				t.Fatalf("%d requests for %d simultaneous calls, want 1", got, n)
			}
			if got := s.maxIn.Load(); got != 1 {
				t.Fatalf("%d requests in flight at once", got)
			}
		})
	}
}

// TestRefreshAndStaleOnError: the value is fetched again after TTL; while
// the source fails, the last good value serves up to MaxStale past its
// TTL, a failed fetch is not retried within RetryAfter, and each failure
// is reported with the age of the value in use.
func TestRefreshAndStaleOnError(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	clk := &clock{t: testNow}
	f := newFetcher(s, clk)
	var failures []string
	recoveries := 0
	f.OnFailure = func(err error, lastGood time.Time) {
		failures = append(failures, lastGood.Format(time.RFC3339)+" "+err.Error())
	}
	f.OnRecovery = func() { recoveries++ }
	ctx := context.Background()
	get := func(refresh bool) (int, error) { return f.Get(ctx, refresh) }

	s.version.Store(1)
	if v, err := get(false); v != 1 || err != nil {
		t.Fatalf("first fetch: %d, %v", v, err)
	}
	s.version.Store(2)
	clk.Set(testNow.Add(time.Hour - time.Second))
	if v, _ := get(false); v != 1 || s.requests.Load() != 1 {
		t.Fatalf("refreshed before TTL: %d after %d requests", v, s.requests.Load())
	}
	clk.Set(testNow.Add(time.Hour))
	if v, _ := get(false); v != 2 || s.requests.Load() != 2 {
		t.Fatalf("not refreshed after TTL: %d after %d requests", v, s.requests.Load())
	}

	fetched := testNow.Add(time.Hour)
	s.status.Store(http.StatusInternalServerError)
	steps := []struct {
		name     string
		at       time.Duration // after the last good fetch
		want     int           // 0: an error
		requests int32
	}{
		{"expired, source down", time.Hour, 2, 3},
		{"within RetryAfter: no request", time.Hour + 4*time.Second, 2, 3},
		{"after RetryAfter", time.Hour + 5*time.Second, 2, 4},
		{"last second of MaxStale", 25*time.Hour - time.Second, 2, 5},
		{"MaxStale over, within RetryAfter", 25 * time.Hour, 0, 5},
		{"MaxStale over", 26 * time.Hour, 0, 6},
	}
	for _, st := range steps {
		clk.Set(fetched.Add(st.at))
		v, err := get(false)
		switch {
		case st.want != 0 && (v != st.want || err != nil):
			t.Fatalf("%s: %d, %v; want %d", st.name, v, err, st.want)
		case st.want == 0 && (err == nil || !strings.Contains(err.Error(), "HTTP 500")):
			t.Fatalf("%s: %d, %v; want the HTTP 500", st.name, v, err)
		case s.requests.Load() != st.requests:
			t.Fatalf("%s: %d requests, want %d", st.name, s.requests.Load(), st.requests)
		}
	}
	if len(failures) != 4 || !strings.HasPrefix(failures[0], fetched.Format(time.RFC3339)+" fetch ") {
		t.Fatalf("failures reported: %q", failures)
	}
	if v, err := f.Current(); v != 2 || err != nil {
		t.Fatalf("Current = %d, %v; want the last good value", v, err)
	}

	s.status.Store(0)
	s.version.Store(3)
	clk.Set(fetched.Add(27 * time.Hour))
	if v, err := get(false); v != 3 || err != nil || recoveries != 1 {
		t.Fatalf("after recovery: %d, %v, %d recoveries", v, err, recoveries)
	}
}

// TestForcedRefreshLimit: a forced refresh fetches again only when the
// value is older than MinRefresh; a failed forced refresh of a value
// older than that is the failure.
func TestForcedRefreshLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	clk := &clock{t: testNow}
	f := newFetcher(s, clk)
	ctx := context.Background()
	s.version.Store(1)
	if _, err := f.Get(ctx, true); err != nil {
		t.Fatal(err)
	}
	s.version.Store(2)
	for range 10 {
		clk.Add(5 * time.Second)
		if v, err := f.Get(ctx, true); v != 1 || err != nil {
			t.Fatalf("forced refresh within MinRefresh: %d, %v", v, err)
		}
	}
	if got := s.requests.Load(); got != 1 {
		t.Fatalf("%d requests for forced refreshes within MinRefresh, want 1", got)
	}
	clk.Set(testNow.Add(time.Minute))
	if v, err := f.Get(ctx, true); v != 2 || err != nil || s.requests.Load() != 2 {
		t.Fatalf("forced refresh after MinRefresh: %d, %v, %d requests", v, err, s.requests.Load())
	}
	s.status.Store(http.StatusServiceUnavailable)
	clk.Set(testNow.Add(2 * time.Minute))
	if _, err := f.Get(ctx, true); err == nil {
		t.Fatal("a failed forced refresh of a value older than MinRefresh gave the value")
	}
	if v, err := f.Get(ctx, false); v != 2 || err != nil {
		t.Fatalf("an unforced call after it: %d, %v; want the value", v, err)
	}
}

// TestBodyLimit: a body of MaxBytes is read, one byte more is a failure.
func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	f := &Fetcher[int]{URL: s.URL, Client: s.Client(), Now: (&clock{t: testNow}).Now, MaxBytes: 100,
		Parse: func(raw []byte) (int, error) { return len(raw), nil }}
	s.size.Store(100)
	if n, err := f.Get(context.Background(), false); n != 100 || err != nil {
		t.Fatalf("body of MaxBytes: %d, %v", n, err)
	}
	s.size.Store(101)
	f2 := &Fetcher[int]{URL: s.URL, Client: s.Client(), Now: f.Now, MaxBytes: 100, Parse: f.Parse}
	if _, err := f2.Get(context.Background(), false); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Fatalf("body of MaxBytes+1: %v", err)
	}
}

// TestCheckKeepsTheOldValue: a fetched value that Check refuses is a
// failed fetch; the old value stays.
func TestCheckKeepsTheOldValue(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	clk := &clock{t: testNow}
	f := newFetcher(s, clk)
	f.AcceptHeader = "application/samlmetadata+xml"
	f.MaxStale = Forever
	f.Check = func(old int, had bool, v int) error {
		if had && v < old {
			return fmt.Errorf("version went back from %d to %d", old, v)
		}
		return nil
	}
	s.version.Store(5)
	if v, err := f.Get(context.Background(), false); v != 5 || err != nil {
		t.Fatal(v, err)
	}
	if got := s.accept.Load(); got != "application/samlmetadata+xml" {
		t.Fatalf("Accept header %q", got)
	}
	s.version.Store(4)
	clk.Add(1000 * time.Hour)
	if v, err := f.Get(context.Background(), false); v != 5 || err != nil || s.requests.Load() != 2 {
		t.Fatalf("refused refresh: %d, %v after %d requests", v, err, s.requests.Load())
	}
	if err := f.lastErrForTest(); err == nil || !strings.Contains(err.Error(), "went back from 5 to 4") {
		t.Fatalf("last error %v", err)
	}
}

func (f *Fetcher[T]) lastErrForTest() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastErr
}

// TestCallerGivesUp: a caller whose context ends stops waiting; the fetch
// goes on and serves the callers after it.
func TestCallerGivesUp(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	s.version.Store(9)
	f := newFetcher(s, &clock{t: testNow})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.Get(ctx, false); errc <- err }()
	<-s.arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller that gave up: %v", err)
	}
	close(s.hold)
	vals, errs := burst(f, 8, false)
	for i := range vals {
		if vals[i] != 9 || errs[i] != nil {
			t.Fatalf("call %d: %d, %v", i, vals[i], errs[i])
		}
	}
	if got := s.requests.Load(); got != 1 {
		t.Fatalf("%d requests, want 1 (the abandoned fetch completed)", got)
	}
}

// TestStaleValueDoesNotWait: while one caller refreshes an expired value,
// another that has a usable value gets it at once instead of waiting.
func TestStaleValueDoesNotWait(t *testing.T) {
	t.Parallel()
	s := newServer(t, true)
	clk := &clock{t: testNow}
	f := newFetcher(s, clk)
	s.version.Store(1)
	go func() { <-s.arrived; s.hold <- struct{}{} }() // let the first request through
	if _, err := f.Get(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	s.version.Store(2)
	clk.Add(2 * time.Hour)
	first := make(chan int, 1)
	go func() { v, _ := f.Get(context.Background(), false); first <- v }()
	<-s.arrived
	// A caller that would wait returns its context's error at once.
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if v, err := f.Get(gone, false); v != 1 || err != nil {
		t.Fatalf("second caller during the refresh: %d, %v; want the value in hand", v, err)
	}
	if _, err := f.Get(gone, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("a forced refresh during the fetch: %v; want it to wait", err)
	}
	close(s.hold)
	if v := <-first; v != 2 {
		t.Fatalf("the caller that fetched got %d", v)
	}
}

// TestCurrentAndParseErrors: Current before any fetch, a document Parse
// refuses, a status other than 2xx, and Load's two requests.
func TestCurrentAndParseErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t, false)
	clk := &clock{t: testNow}
	f := newFetcher(s, clk)
	if _, err := f.Current(); !errors.Is(err, ErrNotFetched) {
		t.Fatalf("Current before a fetch: %v", err)
	}
	s.size.Store(3) // "xxx"
	if _, err := f.Get(context.Background(), false); err == nil || err.Error() != "not a version" {
		t.Fatalf("a document Parse refuses: %v", err)
	}
	if _, err := f.Current(); err == nil || err.Error() != "not a version" {
		t.Fatalf("Current after a failed fetch: %v", err)
	}

	s.size.Store(0)
	s.version.Store(4)
	var urls []string
	l := &Fetcher[int]{Client: s.Client(), Now: clk.Now, TTL: time.Hour,
		Load: func(ctx context.Context, get Getter) (int, error) {
			for _, path := range []string{"/a", "/b"} {
				urls = append(urls, path)
				if _, err := get(ctx, s.URL+path); err != nil {
					return 0, err
				}
			}
			return 42, nil
		}}
	if v, err := l.Get(context.Background(), false); v != 42 || err != nil || len(urls) != 2 {
		t.Fatalf("Load: %d, %v, %q", v, err, urls)
	}
}
