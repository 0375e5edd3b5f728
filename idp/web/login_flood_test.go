package web

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/connector/local"
)

// hashMeter counts the password hashes running at once and their peak.
type hashMeter struct {
	running, peak, total atomic.Int64
}

func (m *hashMeter) start() {
	n := m.running.Add(1)
	m.total.Add(1)
	for old := m.peak.Load(); n > old && !m.peak.CompareAndSwap(old, n); old = m.peak.Load() {
	}
}

func (m *hashMeter) done() { m.running.Add(-1) }

// floodForms prepares n browsers, each with the login form of an unknown
// name filled in.
func floodForms(ti *testIdP, n int) ([]*browser, []url.Values) {
	var bs []*browser
	var forms []url.Values
	for i := 0; i < n; i++ {
		b := ti.browser()
		bs = append(bs, b)
		forms = append(forms, url.Values{"csrf_token": {b.csrf("/login")}, "username": {"nobody-" + strconv.Itoa(i)}, "password": {"guess-" + strconv.Itoa(i)}})
	}
	return bs, forms
}

// TestLoginFloodIsBounded: of 60 sign-ins with unknown names at once, only
// hash_concurrency check a password; the others wait a bounded time and
// get 503 with Retry-After, and are not counted as failures. A known
// account waits for the same slots.
func TestLoginFloodIsBounded(t *testing.T) {
	t.Parallel()
	const n, slots = 60, 3
	s := sqliteStore(t)
	seedUsers(t, s)
	var meter hashMeter
	prog := newProgress()
	gate := make(chan struct{})
	ti := newTestIdP(t, s, false, limits(1000, 1000, 15*time.Minute), func(t *testing.T, o *IdPOptions) {
		c, err := local.New(s, local.Options{Params: cheap, HashConcurrency: slots, HashWait: 20 * time.Millisecond,
			Verify: func(hash, password string) (bool, error) {
				meter.start()
				defer meter.done()
				prog.add("hashing")
				<-gate
				return local.VerifyPassword(hash, password)
			}})
		if err != nil {
			t.Fatal(err)
		}
		o.Connector = c
	})
	bs, forms := floodForms(ti, n)

	res := make([]response, n)
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = bs[i].post("/login", forms[i], nil)
			prog.add("answered")
		}()
	}
	// The slots stay taken until every other attempt has its answer.
	prog.waitFor(t, "the flood to be hashing or answered", func() bool { return prog.get("hashing")+prog.get("answered") == n })
	alice := ti.browser()
	if r := alice.login("alice", alicePassword, ""); r.code != http.StatusServiceUnavailable {
		t.Errorf("a known account while every slot is taken = %d, want 503 (the same slots)", r.code)
	}
	close(gate)
	wg.Wait()

	hist := map[int]int{}
	for i, r := range res {
		hist[r.code]++
		if r.code == http.StatusServiceUnavailable {
			if r.header.Get("Retry-After") != "5" || !strings.Contains(r.body, "try again") {
				t.Fatalf("busy answer %d: Retry-After %q, body:\n%s", i, r.header.Get("Retry-After"), r.body)
			}
		}
	}
	t.Logf("%d sign-ins at once: %v; peak concurrent hashes %d", n, hist, meter.peak.Load())
	if p := meter.peak.Load(); p > slots {
		t.Errorf("%d hashes ran at once, want at most %d", p, slots)
	}
	if hist[http.StatusUnauthorized] != slots || hist[http.StatusServiceUnavailable] != n-slots {
		t.Errorf("answers %v, want %d refusals (401) and %d busy (503)", hist, slots, n-slots)
	}
	// Busy answers checked no password: only the refusals count.
	got, err := s.RecentLoginFailures(context.Background(), "addr:127.0.0.1", ti.clock.Now().Add(-time.Hour), 1000)
	if err != nil || len(got) != slots {
		t.Errorf("%d failures counted against the address (%v), want %d", len(got), err, slots)
	}
	if r := alice.login("alice", alicePassword, ""); r.code != http.StatusSeeOther {
		t.Errorf("alice once the flood is over = %d, want a sign-in", r.code)
	}
}

// TestLoginFloodMemory: 60 sign-ins at once with unknown names and the
// production hash cost (argon2id, 64 MiB) keep the heap within
// hash_concurrency hashes. The test is not parallel: the memory statistics
// are the process's.
func TestLoginFloodMemory(t *testing.T) {
	const n, slots, perHash = 60, 2, 64 << 20
	s := sqliteStore(t)
	seedUsers(t, s)
	var meter hashMeter
	ti := newTestIdP(t, s, false, limits(1000, 1000, 15*time.Minute), func(t *testing.T, o *IdPOptions) {
		c, err := local.New(s, local.Options{HashConcurrency: slots, HashWait: time.Second,
			Verify: func(hash, password string) (bool, error) {
				meter.start()
				defer meter.done()
				return local.VerifyPassword(hash, password)
			}})
		if err != nil {
			t.Fatal(err)
		}
		o.Connector = c
	})
	bs, forms := floodForms(ti, n)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	codes := make([]int, n)
	took := make([]time.Duration, n) // for the log only
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			codes[i] = bs[i].post("/login", forms[i], nil).code
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	runtime.ReadMemStats(&after)

	hist, slowest := map[int]int{}, map[int]time.Duration{}
	for i, c := range codes {
		hist[c]++
		slowest[c] = max(slowest[c], took[i])
	}
	// HeapSys is the heap's reserved memory; it does not shrink when the
	// hashes' memory is freed, so its growth is the flood's peak.
	grew := int64(after.HeapSys) - int64(before.HeapSys)
	t.Logf("%d sign-ins at once: %v (slowest answer of each: %v); %d hashes, peak %d at once; heap %d MiB -> %d MiB (+%d MiB), Sys %d MiB -> %d MiB",
		n, hist, slowest, meter.total.Load(), meter.peak.Load(), before.HeapSys>>20, after.HeapSys>>20, grew>>20, before.Sys>>20, after.Sys>>20)
	if p := meter.peak.Load(); p > slots {
		t.Errorf("%d hashes ran at once, want at most %d", p, slots)
	}
	if hist[http.StatusUnauthorized]+hist[http.StatusServiceUnavailable] != n {
		t.Errorf("answers %v, want only refusals (401) and busy answers (503)", hist)
	}
	// The budget is the slots' hashes, as much again for the collector
	// (with GOGC=100 a finished hash's 64 MiB is reclaimed only once the
	// heap has doubled), and one hash of margin.
	if budget := int64(2*slots*perHash + perHash); grew > budget {
		t.Errorf("the heap grew by %d MiB, want at most %d MiB (%d hashes of 64 MiB, twice, plus 64 MiB)", grew>>20, budget>>20, slots)
	}
}
