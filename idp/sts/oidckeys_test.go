package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// oidcServer is an OIDC provider (discovery and JWKS) that counts its
// requests and can be taken down or held.
type oidcServer struct {
	*httptest.Server
	key      *jwtKey
	down     atomic.Bool
	badJWKS  atomic.Int32 // 1: the key set answers HTTP 500; 2: it has no signature key
	requests atomic.Int32 // every request, discovery included
	jwks     atomic.Int32 // key set requests
	inFlight atomic.Int32
	maxIn    atomic.Int32
	// hold, when set, makes every request wait until it is closed;
	// arrived gets one value per held request.
	hold    chan struct{}
	arrived chan struct{}
}

func newOIDCServer(t *testing.T, key *jwtKey, hold bool) *oidcServer {
	t.Helper()
	s := &oidcServer{key: key}
	if hold {
		s.hold, s.arrived = make(chan struct{}), make(chan struct{}, 1024)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxIn.Load()
			if n <= m || s.maxIn.CompareAndSwap(m, n) {
				break
			}
		}
		if s.hold != nil {
			s.arrived <- struct{}{}
			<-s.hold
		}
		if s.down.Load() {
			http.Error(rw, "down", http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(rw).Encode(map[string]string{"issuer": s.URL, "jwks_uri": s.URL + "/jwks"})
		case "/jwks":
			s.jwks.Add(1)
			switch s.badJWKS.Load() {
			case 1:
				http.Error(rw, "internal error", http.StatusInternalServerError)
			case 2:
				rw.Write([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`))
			default:
				rw.Write(s.key.jwks())
			}
		default:
			http.NotFound(rw, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// burst calls keys.Keys from n goroutines at once and returns their
// errors.
func burst(keys *RemoteKeys, n int, refresh bool) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = keys.Keys(context.Background(), refresh)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// TestRemoteKeysBurstAgainstFailingProvider: a burst of concurrent calls
// against a provider that fails makes one fetch at a time, and one fetch
// per RetryAfter, counted at the server; every call gets the error. The
// provider fails whole, or serves discovery but not a usable key set.
func TestRemoteKeysBurstAgainstFailingProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		fail     func(*oidcServer)
		perFetch int32 // requests of one failed fetch
	}{
		{"provider down", func(s *oidcServer) { s.down.Store(true) }, 1},
		{"key set HTTP 500", func(s *oidcServer) { s.badJWKS.Store(1) }, 2},
		{"key set without a signature key", func(s *oidcServer) { s.badJWKS.Store(2) }, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newOIDCServer(t, newJWTKey(t, "burst"), true)
			tc.fail(srv)
			clk := &clock{t: testNow}
			keys := &RemoteKeys{Issuer: srv.URL, Client: srv.Client(), Now: clk.Now}

			const n = 64
			var errs []error
			done := make(chan struct{})
			go func() { errs = burst(keys, n, false); close(done) }()
			<-srv.arrived // the first fetch is in flight, held at the server
			close(srv.hold)
			<-done
			for i, err := range errs {
				if err == nil {
					t.Fatalf("call %d: no error from a failing provider", i)
				}
			}
			if got := srv.requests.Load(); got != tc.perFetch {
				t.Fatalf("%d requests for a burst of %d calls, want %d (one fetch)", got, n, tc.perFetch)
			}
			if got := srv.maxIn.Load(); got != 1 {
				t.Fatalf("%d requests in flight at once, want 1", got)
			}

			// Within RetryAfter: no request at all, for refreshes neither.
			clk.Set(testNow.Add(DefaultKeysRetryAfter - time.Second))
			for _, refresh := range []bool{false, true} {
				for i, err := range burst(keys, n, refresh) {
					if err == nil {
						t.Fatalf("call %d (refresh %v): no error within the retry period", i, refresh)
					}
				}
			}
			if got := srv.requests.Load(); got != tc.perFetch {
				t.Fatalf("%d requests within the retry period, want still %d", got, tc.perFetch)
			}

			// After RetryAfter: one more fetch for the next burst.
			clk.Set(testNow.Add(DefaultKeysRetryAfter))
			burst(keys, n, false)
			if got := srv.requests.Load(); got != 2*tc.perFetch {
				t.Fatalf("%d requests after the retry period, want %d", got, 2*tc.perFetch)
			}
			if got := srv.maxIn.Load(); got != 1 {
				t.Fatalf("%d requests in flight at once, want 1", got)
			}

			// The provider is back: the next fetch after RetryAfter
			// succeeds and serves every caller.
			srv.down.Store(false)
			srv.badJWKS.Store(0)
			clk.Set(testNow.Add(2 * DefaultKeysRetryAfter))
			before := srv.jwks.Load()
			for i, err := range burst(keys, n, false) {
				if err != nil {
					t.Fatalf("call %d after recovery: %v", i, err)
				}
			}
			if got := srv.jwks.Load() - before; got != 1 {
				t.Fatalf("%d key set fetches after recovery, want 1", got)
			}
		})
	}
}

// TestRemoteKeysStaleWhileError: the last good key set is used while the
// provider is down, up to MaxStale past its TTL; a refresh of keys older
// than MinRefresh reports the failure.
func TestRemoteKeysStaleWhileError(t *testing.T) {
	t.Parallel()
	srv := newOIDCServer(t, newJWTKey(t, "stale"), false)
	clk := &clock{t: testNow}
	logs := &lockedBuffer{}
	keys := &RemoteKeys{Issuer: srv.URL, Client: srv.Client(), Now: clk.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	good, err := keys.Keys(context.Background(), false)
	if err != nil || len(good) != 1 {
		t.Fatalf("first fetch: %d keys, %v", len(good), err)
	}
	srv.down.Store(true)
	steps := []struct {
		name    string
		at      time.Duration
		refresh bool
		ok      bool
	}{
		{"fresh", DefaultKeysTTL - time.Second, false, true},
		{"expired, provider down", DefaultKeysTTL, false, true},
		{"refresh of stale keys", DefaultKeysTTL + time.Minute, true, false},
		{"an hour stale", 2 * DefaultKeysTTL, false, true},
		{"last second of MaxStale", DefaultKeysTTL + DefaultKeysMaxStale - time.Second, false, true},
		{"MaxStale over", DefaultKeysTTL + DefaultKeysMaxStale, false, false},
	}
	for _, st := range steps {
		clk.Set(testNow.Add(st.at))
		got, err := keys.Keys(context.Background(), st.refresh)
		switch {
		case st.ok && (err != nil || len(got) != 1 || !got[0].(*rsa.PublicKey).Equal(good[0])):
			t.Fatalf("%s: %d keys, %v; want the last good key", st.name, len(got), err)
		case !st.ok && err == nil:
			t.Fatalf("%s: keys %v, want an error", st.name, got)
		}
	}
	// One warning per failed fetch (four: the last step fell within
	// RetryAfter of the one before), naming the age of the keys in use.
	if n := strings.Count(logs.String(), `msg="sts: OIDC key fetch failed"`); n != 4 {
		t.Fatalf("%d warnings, want 4:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "keys_fetched_at="+testNow.UTC().Format(time.RFC3339)) {
		t.Fatalf("the warnings do not say which keys are in use:\n%s", logs)
	}
	before := srv.requests.Load()
	srv.down.Store(false)
	clk.Set(testNow.Add(DefaultKeysTTL + DefaultKeysMaxStale + DefaultKeysRetryAfter))
	if got, err := keys.Keys(context.Background(), false); err != nil || len(got) != 1 {
		t.Fatalf("after recovery: %d keys, %v", len(got), err)
	}
	if srv.requests.Load() == before {
		t.Fatal("no fetch after recovery")
	}
	if !strings.Contains(logs.String(), `msg="sts: OIDC keys fetched again"`) {
		t.Fatalf("no note of the recovery:\n%s", logs)
	}
}

// TestRemoteKeysCallerGivesUp: a caller whose context ends stops waiting,
// but the fetch it started goes on and serves the callers after it.
func TestRemoteKeysCallerGivesUp(t *testing.T) {
	t.Parallel()
	srv := newOIDCServer(t, newJWTKey(t, "gives-up"), true)
	clk := &clock{t: testNow}
	keys := &RemoteKeys{Issuer: srv.URL, Client: srv.Client(), Now: clk.Now}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := keys.Keys(ctx, false); errc <- err }()
	<-srv.arrived
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("caller that gave up: %v, want context.Canceled", err)
	}
	close(srv.hold)
	for i, err := range burst(keys, 8, false) {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got := srv.jwks.Load(); got != 1 {
		t.Fatalf("%d key set fetches, want 1 (the abandoned one completed)", got)
	}
}

// TestWebIdentityStaleKeysKeepVerifying: through the STS, a remote
// provider's tokens keep verifying with the last good keys after the
// issuer goes down, until MaxStale past their TTL.
func TestWebIdentityStaleKeysKeepVerifying(t *testing.T) {
	t.Parallel()
	w := newWebEnv(t)
	tok := func(exp time.Time) string {
		return w.remoteKey.sign(t, map[string]any{"sub": "svc", "aud": "remote_client", "iss": w.remoteURL, "exp": exp.Unix()})
	}
	if r := w.do(nil, webForm(webAdminARN, tok(testNow.Add(time.Hour)))); r.status != http.StatusOK {
		t.Fatalf("provider up: %s", r.body)
	}
	w.remoteDown.Store(true)
	for _, at := range []time.Duration{2 * time.Hour, DefaultKeysTTL + DefaultKeysMaxStale - time.Second} {
		w.clock.Set(testNow.Add(at))
		if r := w.do(nil, webForm(webAdminARN, tok(testNow.Add(at+time.Hour)))); r.status != http.StatusOK {
			t.Fatalf("%v after the last fetch, provider down: %s", at, r.body)
		}
	}
	w.clock.Set(testNow.Add(DefaultKeysTTL + DefaultKeysMaxStale))
	r := w.do(nil, webForm(webAdminARN, tok(testNow.Add(DefaultKeysTTL+DefaultKeysMaxStale+time.Hour))))
	wantError(t, r, http.StatusBadRequest, CodeIDPCommunicationError, msgKeysUnreachable)
	if got := w.jwksFetches.Load(); got != 1 {
		t.Fatalf("%d key set fetches, want 1", got)
	}
}

// TestParseJWKSKeyUse: keys that cannot verify signatures are skipped or
// refused; the keys returned are public asymmetric keys only.
func TestParseJWKSKeyUse(t *testing.T) {
	t.Parallel()
	rsaKey := newJWTKey(t, "use")
	var parsed struct{ Keys []map[string]any }
	if err := json.Unmarshal(rsaKey.jwks(), &parsed); err != nil {
		t.Fatal(err)
	}
	rsaJWK := parsed.Keys[0]
	with := func(base map[string]any, kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	b64 := base64.RawURLEncoding.EncodeToString
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecJWK := map[string]any{"kty": "EC", "crv": "P-384", "x": b64(ec.X.FillBytes(make([]byte, 48))), "y": b64(ec.Y.FillBytes(make([]byte, 48)))}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edJWK := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub)}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	set := func(keys ...any) []byte { b, _ := json.Marshal(map[string]any{"keys": keys}); return b }
	tests := []struct {
		name string
		raw  []byte
		n    int // -1: an error
	}{
		{"RSA, EC P-384, Ed25519", set(rsaJWK, ecJWK, edJWK), 3},
		{"symmetric key alone", set(map[string]any{"kty": "oct", "k": b64([]byte("0123456789abcdef0123456789abcdef"))}), -1},
		{"symmetric key beside RSA", set(map[string]any{"kty": "oct", "k": "AAAA", "alg": "HS256"}, rsaJWK), 1},
		{"use enc", set(with(rsaJWK, "use", "enc"), ecJWK), 1},
		{"use other", set(with(rsaJWK, "use", "other")), -1},
		{"no use", set(with(rsaJWK, "use", nil)), 1},
		{"key_ops encrypt", set(with(rsaJWK, "use", nil, "key_ops", []string{"encrypt", "wrapKey"})), -1},
		{"key_ops verify", set(with(rsaJWK, "use", nil, "key_ops", []string{"verify"})), 1},
		{"alg RSA-OAEP", set(with(rsaJWK, "alg", "RSA-OAEP")), -1},
		{"alg HS256 on an RSA key", set(with(rsaJWK, "alg", "HS256")), -1},
		{"private RSA key", set(with(rsaJWK, "d", b64([]byte{1, 2, 3}))), -1},
		{"private Ed25519 key", set(with(edJWK, "d", b64(make([]byte, 32)))), -1},
		{"RSA of 1024 bits", set(with(rsaJWK, "n", b64(small.N.Bytes()))), -1},
		{"RSA without e", set(with(rsaJWK, "e", nil)), -1},
		{"EC secp256k1 skipped", set(with(ecJWK, "crv", "secp256k1"), rsaJWK), 1},
		{"X25519 skipped", set(with(edJWK, "crv", "X25519"), rsaJWK), 1},
		{"no kty skipped", set(with(rsaJWK, "kty", nil), ecJWK), 1},
		{"a key that is not an object", set("RSA", rsaJWK), -1},
		{"keys not a list", []byte(`{"keys":{"kty":"RSA"}}`), -1},
		{"empty", []byte(`{}`), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseJWKS(tc.raw)
			if tc.n < 0 {
				if err == nil {
					t.Fatalf("accepted: %d keys", len(keys))
				}
				return
			}
			if err != nil || len(keys) != tc.n {
				t.Fatalf("ParseJWKS = %d keys, %v; want %d", len(keys), err, tc.n)
			}
			for _, k := range keys {
				checkVerificationKey(t, k)
			}
		})
	}
}

// checkVerificationKey fails unless k is a public key of a type and size
// the STS verifies with.
func checkVerificationKey(t testing.TB, k crypto.PublicKey) {
	t.Helper()
	switch k := k.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			t.Fatalf("RSA key of %d bits", k.N.BitLen())
		}
	case *ecdsa.PublicKey:
		if !k.Curve.IsOnCurve(k.X, k.Y) {
			t.Fatal("EC point off its curve")
		}
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			t.Fatalf("Ed25519 key of %d bytes", len(k))
		}
	default:
		t.Fatalf("key of type %T", k)
	}
}
