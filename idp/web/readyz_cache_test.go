package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestReadyzChecksConnectorsOnceAWhile: a burst of simultaneous /readyz
// requests makes one health check per connector, later requests within
// connectorStatesTTL reuse its answer, and a request after it checks
// again and sees a change: an anonymous caller cannot make the IdP
// contact its directories on every request.
func TestReadyzChecksConnectorsOnceAWhile(t *testing.T) {
	t.Parallel()
	ti, ad, _, _ := corpIdP(t)
	srv := NewServer(Options{Ready: CheckerFunc(func(context.Context) error { return nil })})
	ti.Mount(srv)
	readyz := func() string {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("/readyz = %d %s", rec.Code, rec.Body)
		}
		return rec.Body.String()
	}
	checks := func() int {
		ad.mu.Lock()
		defer ad.mu.Unlock()
		return ad.checks
	}

	const burst = 20
	var wg sync.WaitGroup
	bodies := make([]string, burst)
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i] = readyz()
		}()
	}
	wg.Wait()
	for i, b := range bodies {
		if !strings.Contains(b, `"corp-ad":"up"`) {
			t.Errorf("burst answer %d: %s", i, b)
		}
	}
	// The requests in flight together shared one check; those after it
	// found its answer.
	if n := checks(); n != 1 {
		t.Errorf("a burst of %d /readyz made %d checks of corp-ad, want them shared", burst, n)
	}
	before := checks()
	ti.clock.Add(connectorStatesTTL / 2)
	ad.mu.Lock()
	ad.health = context.DeadlineExceeded
	ad.mu.Unlock()
	if b := readyz(); !strings.Contains(b, `"corp-ad":"up"`) || checks() != before {
		t.Errorf("within the TTL: %s after %d checks, want the cached up and no check", b, checks()-before)
	}
	ti.clock.Add(connectorStatesTTL)
	if b := readyz(); !strings.Contains(b, `"corp-ad":"down"`) || checks() != before+1 {
		t.Errorf("after the TTL: %s after %d checks, want down and one check", b, checks()-before)
	}
}
