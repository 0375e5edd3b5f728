// Package fetch is the one refreshing fetcher of remote documents: a SAML
// provider's metadata (sts.MetadataURL), an OIDC provider's key set
// (sts.RemoteKeys) and a service provider's metadata (the sso registry).
//
// A Fetcher keeps the last good value of a document and fetches it again
// when it is older than TTL. Its clock is injected (Now), and it runs no
// goroutine of its own but the fetch in flight.
//
//   - One fetch is in flight at a time: simultaneous callers share it. A
//     caller without a usable value waits for it (only as long as its own
//     context allows); a caller that has a usable value and forces no
//     refresh does not wait for a fetch another caller started. A fetch is
//     bounded by Timeout and is not cut short when the caller that started
//     it gives up.
//   - A forced refresh (Get(ctx, true): a token named a key not in the set)
//     fetches again only when the value is older than MinRefresh.
//   - After a failed fetch no fetch is made for RetryAfter: a source that
//     is down costs one request per RetryAfter, not one per call.
//   - Stale while error: while fetches fail, the last good value is used
//     for up to MaxStale past the end of its TTL (not for a forced refresh
//     of a value older than MinRefresh).
//   - A body larger than MaxBytes, a status other than 2xx or a value that
//     Parse (or Check) refuses is a failed fetch.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Forever is a MaxStale that keeps the last good value for as long as
// fetches fail.
const Forever = time.Duration(1<<63 - 1)

// Getter fetches one URL with the Fetcher's client, header and body limit.
type Getter func(ctx context.Context, url string) ([]byte, error)

// Fetcher fetches and refreshes one document of type T. Set its fields
// before the first call and do not change them afterwards; the zero value
// of a duration means no wait (TTL 0 fetches on every call).
type Fetcher[T any] struct {
	// URL is fetched with GET and its body given to Parse. Load, when set,
	// replaces both: it makes the requests itself with get (OIDC discovery
	// then the key set).
	URL   string
	Parse func(raw []byte) (T, error)
	Load  func(ctx context.Context, get Getter) (T, error)
	// Check, when set, checks a newly fetched value against the current
	// one (had is false without one); an error makes the fetch a failure
	// and keeps the current value.
	Check func(old T, had bool, fetched T) error

	// Client makes the requests; nil means a client with Timeout.
	Client *http.Client
	// AcceptHeader is the Accept header of the requests; "" sends none.
	AcceptHeader string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	TTL        time.Duration // how long a fetched value is used
	MinRefresh time.Duration // forced refreshes at most once per MinRefresh
	RetryAfter time.Duration // no fetch for this long after a failed one
	MaxStale   time.Duration // how long past TTL the last good value serves while fetches fail
	Timeout    time.Duration // bounds one fetch (all its requests); 0 means 10 seconds
	MaxBytes   int64         // largest body read; 0 means 1 MiB

	// OnFailure, when set, is called after each failed fetch with the
	// error and when the value still in use was fetched (zero without
	// one). OnRecovery is called after a fetch succeeds that follows a
	// failed one.
	OnFailure  func(err error, lastGood time.Time)
	OnRecovery func()

	mu      sync.Mutex
	val     T
	have    bool
	fetched time.Time // of val
	failed  time.Time // of the last failed fetch, zero after a success
	lastErr error     // of the last failed fetch
	flight  *flight[T]
}

// flight is a fetch in progress; done is closed when val and err are set.
type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// Defaults of Timeout and MaxBytes.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxBytes = 1 << 20
)

// ErrNotFetched is Current's error before any fetch ended.
var ErrNotFetched = errors.New("not fetched yet")

// Get returns the current value, fetching it when it is due. refresh asks
// for a copy younger than MinRefresh. The error is the fetch's (or the
// caller's context's) when no usable value is left.
func (f *Fetcher[T]) Get(ctx context.Context, refresh bool) (T, error) {
	now := f.now()
	f.mu.Lock()
	age := now.Sub(f.fetched)
	switch {
	case f.have && age < f.TTL && (!refresh || age < f.MinRefresh):
		defer f.mu.Unlock()
		return f.val, nil
	case !f.failed.IsZero() && now.Sub(f.failed) < f.RetryAfter:
		defer f.mu.Unlock()
		return f.fallback(now, refresh)
	case f.flight != nil && !refresh && f.have && f.usable(age):
		// Another caller is fetching; the value in hand serves meanwhile.
		defer f.mu.Unlock()
		return f.val, nil
	}
	fl := f.flight
	if fl == nil {
		fl = &flight[T]{done: make(chan struct{})}
		f.flight = fl
		go f.run(context.WithoutCancel(ctx), fl)
	}
	f.mu.Unlock()

	select {
	case <-fl.done:
		if fl.err == nil {
			return fl.val, nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.fallback(f.now(), refresh)
	case <-ctx.Done():
		var zero T
		return zero, context.Cause(ctx)
	}
}

func (f *Fetcher[T]) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// Current returns the value in hand without fetching: the last good value
// whatever its age, else the last fetch's error (ErrNotFetched before
// any).
func (f *Fetcher[T]) Current() (T, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.have {
		return f.val, nil
	}
	var zero T
	if f.lastErr != nil {
		return zero, f.lastErr
	}
	return zero, ErrNotFetched
}

// usable reports whether a value of that age may still serve while
// fetches fail. f.mu is held.
func (f *Fetcher[T]) usable(age time.Duration) bool {
	return age < f.TTL || f.MaxStale == Forever || age-f.TTL < f.MaxStale
}

// fallback is the answer while fetches fail: the last good value when the
// caller forces no refresh and it is within TTL + MaxStale (or when it
// does, and the value is younger than MinRefresh), else the failure.
// f.mu is held.
func (f *Fetcher[T]) fallback(now time.Time, refresh bool) (T, error) {
	age := now.Sub(f.fetched)
	switch {
	case f.have && refresh && age < f.MinRefresh:
		return f.val, nil
	case f.have && !refresh && f.usable(age):
		return f.val, nil
	}
	var zero T
	if f.lastErr == nil {
		return zero, ErrNotFetched
	}
	return zero, f.lastErr
}

// run makes one fetch and records its outcome.
func (f *Fetcher[T]) run(ctx context.Context, fl *flight[T]) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, err := f.load(ctx)
	now := f.now()

	f.mu.Lock()
	if err == nil && f.Check != nil {
		err = f.Check(f.val, f.have, val)
	}
	recovered := false
	var lastGood time.Time
	if err != nil {
		f.failed, f.lastErr = now, err
		if f.have {
			lastGood = f.fetched
		}
	} else {
		recovered = !f.failed.IsZero()
		f.val, f.have, f.fetched, f.failed, f.lastErr = val, true, now, time.Time{}, nil
	}
	fl.val, fl.err = val, err
	f.flight = nil
	f.mu.Unlock()

	// Reported before the waiting callers go on, so that what they do
	// next comes after the report.
	switch {
	case err != nil && f.OnFailure != nil:
		f.OnFailure(err, lastGood)
	case recovered && f.OnRecovery != nil:
		f.OnRecovery()
	}
	close(fl.done)
}

func (f *Fetcher[T]) load(ctx context.Context) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fetch: panic: %v", r)
		}
	}()
	switch {
	case f.Load != nil:
		return f.Load(ctx, f.get)
	case f.Parse == nil:
		return v, errors.New("fetch: neither Load nor Parse is set")
	}
	raw, err := f.get(ctx, f.URL)
	if err != nil {
		return v, err
	}
	return f.Parse(raw)
}

// get fetches url: a 2xx answer with a body of at most MaxBytes.
func (f *Fetcher[T]) get(ctx context.Context, url string) ([]byte, error) {
	client := f.Client
	if client == nil {
		timeout := f.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		client = &http.Client{Timeout: timeout}
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if f.AcceptHeader != "" {
		req.Header.Set("Accept", f.AcceptHeader)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("fetch %s: HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("fetch %s: larger than %d bytes", url, limit)
	}
	return body, nil
}
