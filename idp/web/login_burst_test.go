package web

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres/pgtest"
)

// gatedConnector holds every password check at its gate until the test
// opens it, so that a burst's requests are all in flight together.
type gatedConnector struct {
	inner   *local.Connector
	gate    chan struct{}
	entered func()
}

var _ connector.Explainer = (*gatedConnector)(nil)

func (g *gatedConnector) Authenticate(ctx context.Context, username, password string) (idp.Identity, connector.Outcome, error) {
	g.entered()
	<-g.gate
	return g.inner.Authenticate(ctx, username, password)
}

func (g *gatedConnector) Login(ctx context.Context, username, password string) (idp.Identity, bool, error) {
	id, outcome, err := g.Authenticate(ctx, username, password)
	return id, err == nil && outcome == connector.Accepted, err
}

// progress counts events of a burst and lets the test wait until a
// condition on them holds.
type progress struct {
	mu      sync.Mutex
	counts  map[string]int
	changed chan struct{}
}

func newProgress() *progress {
	return &progress{counts: map[string]int{}, changed: make(chan struct{}, 1)}
}

func (p *progress) add(what string) {
	p.mu.Lock()
	p.counts[what]++
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *progress) get(what string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[what]
}

// waitFor returns once cond holds; it fails the test when nothing changes
// for a minute (a hung burst).
func (p *progress) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-p.changed:
		case <-time.After(time.Minute):
			t.Fatalf("still waiting for %s: %v", what, p.counts)
		}
	}
}

// TestLoginBurstReservesBeforeHashing: one burst of 60 parallel sign-ins
// for bob (59 wrong passwords, then the right one), spread over the
// replicas of one database. Every attempt is in flight before any password
// is checked. Only the account's limit of passwords may be checked, and the
// right password, arriving over the limit, gets 429.
func TestLoginBurstReservesBeforeHashing(t *testing.T) {
	t.Parallel()
	const maxUser, wrong = 5, 59
	for _, tc := range []struct {
		name     string
		replicas func(t *testing.T) []store.Store
	}{
		{"sqlite", func(t *testing.T) []store.Store { return []store.Store{sqliteStore(t)} }},
		{"postgres two replicas", func(t *testing.T) []store.Store {
			u := pgtest.Schema(t)
			return []store.Store{postgresStore(t, u), postgresStore(t, u)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stores := tc.replicas(t)
			seedUsers(t, stores[0])
			const bobPassword = "bob-password-1"
			h, err := local.HashPassword(rand.Reader, bobPassword, cheap)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			if err := stores[0].CreateUser(context.Background(), store.User{Username: "bob", PasswordHash: h, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}

			var hashes atomic.Int64
			prog := newProgress()
			gate := make(chan struct{})
			var replicas []*testIdP
			for _, s := range stores {
				replicas = append(replicas, newTestIdP(t, s, false, limits(maxUser, 100, 15*time.Minute),
					func(t *testing.T, o *IdPOptions) {
						inner, err := local.New(s, local.Options{Params: cheap, Verify: func(hash, password string) (bool, error) {
							hashes.Add(1)
							return local.VerifyPassword(hash, password)
						}})
						if err != nil {
							t.Fatal(err)
						}
						o.Connector = &gatedConnector{inner: inner, gate: gate, entered: func() { prog.add("checking") }}
					}))
			}

			// Every browser has its form (and CSRF token) before the burst.
			type attempt struct {
				b    *browser
				form url.Values
			}
			var attempts []attempt
			for i := 0; i <= wrong; i++ {
				b := replicas[i%len(replicas)].browser()
				pw := "wrong-password-" + strconv.Itoa(i)
				if i == wrong {
					pw = bobPassword
				}
				attempts = append(attempts, attempt{b, url.Values{"csrf_token": {b.csrf("/login")}, "username": {"bob"}, "password": {pw}}})
			}

			codes := make([]int, len(attempts))
			var wg sync.WaitGroup
			send := func(i int) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = attempts[i].b.post("/login", attempts[i].form, nil).code
					prog.add("answered")
				}()
			}
			inFlight := func(n int) func() bool {
				return func() bool { return prog.get("checking")+prog.get("answered") == n }
			}
			for i := 0; i < wrong; i++ {
				send(i)
			}
			prog.waitFor(t, "the wrong passwords to be checked or answered", inFlight(wrong))
			send(wrong)
			prog.waitFor(t, "the right password to be checked or answered", inFlight(wrong+1))
			close(gate)
			wg.Wait()

			hist := map[int]int{}
			for _, c := range codes[:wrong] {
				hist[c]++
			}
			t.Logf("%d wrong passwords: %v, %d passwords checked; then the right one: %d", wrong, hist, hashes.Load(), codes[wrong])
			if n := hashes.Load(); n > maxUser {
				t.Errorf("%d passwords were checked in the burst, want at most the limit %d", n, maxUser)
			}
			if hist[http.StatusUnauthorized]+hist[http.StatusTooManyRequests] != wrong || hist[http.StatusUnauthorized] > maxUser {
				t.Errorf("the wrong passwords were answered %v, want at most %d refusals (401) and 429 for the rest", hist, maxUser)
			}
			if codes[wrong] != http.StatusTooManyRequests {
				t.Errorf("the right password after the burst = %d, want 429", codes[wrong])
			}
		})
	}
}
