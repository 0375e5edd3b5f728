package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WebSessionStore keeps the IdP's browser sessions and the failed sign-ins
// that drive login rate limiting. Both live in the database so that every
// replica sees a logout, a revocation or a failure at once.
type WebSessionStore interface {
	// CreateBrowserSession stores a new session. ErrConflict when a session
	// with the same IDHash exists.
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	// GetBrowserSession finds a session by the hash of its ID, whether it
	// is live, expired or revoked (the caller decides). ErrNotFound.
	GetBrowserSession(ctx context.Context, idHash []byte) (BrowserSession, error)
	// RevokeBrowserSession marks a session revoked at at. Revoking a revoked
	// session keeps the first time and is not an error. ErrNotFound.
	RevokeBrowserSession(ctx context.Context, idHash []byte, at time.Time) error
	// RevokeUserBrowserSessions revokes every unrevoked session of the
	// account username (compared case-insensitively) of connector, and
	// returns how many it revoked.
	RevokeUserBrowserSessions(ctx context.Context, connector, username string, at time.Time) (int, error)
	// DeleteBrowserSessions deletes every session that expired, or was
	// revoked, before before, and returns how many.
	DeleteBrowserSessions(ctx context.Context, before time.Time) (int, error)
	// ListBrowserSessions returns the sessions matching f, newest first (by
	// CreatedAt, then IDHash).
	ListBrowserSessions(ctx context.Context, f BrowserSessionFilter) ([]BrowserSession, error)

	// RecordLoginFailure records one failed sign-in counted against key
	// (an account or a client address, as the caller names them).
	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
	// RecentLoginFailures returns the times of key's failures after since,
	// newest first, at most limit of them.
	RecentLoginFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error)
	// ClearLoginFailures forgets every failure of key.
	ClearLoginFailures(ctx context.Context, key string) error
	// ReserveLoginAttempt is the rate limit's check and count in one step,
	// atomic against every other caller on every replica: when each limit's
	// key holds fewer than its Max failures after since, it records a
	// failure at at against every key and returns Reserved. Otherwise it
	// records nothing and returns the time Blocking. The attempt is thus
	// counted as failed before the password is checked; the caller takes
	// the failure back (ReleaseLoginAttempt, ClearLoginFailures) when the
	// attempt did not fail. A limit with Max < 1 or an empty Key is an
	// error.
	ReserveLoginAttempt(ctx context.Context, limits []LoginLimit, since, at time.Time) (LoginReservation, error)
	// ReleaseLoginAttempt deletes one failure of key recorded at at (the
	// reservation of an attempt that did not fail). None is not an error.
	ReleaseLoginAttempt(ctx context.Context, key string, at time.Time) error
	// DeleteLoginFailures deletes the failures recorded before before, and
	// returns how many.
	DeleteLoginFailures(ctx context.Context, before time.Time) (int, error)
}

// BrowserSession is the server-side record of a person's signed-in browser.
// The browser holds the session ID in a cookie; the store keeps only its
// SHA-256 hash, so a copy of the database does not let anyone take over a
// session.
type BrowserSession struct {
	// IDHash is the SHA-256 of the session ID (32 bytes).
	IDHash []byte
	// Username and Connector name the account (Username as the connector
	// spells it).
	Username  string
	Connector string
	// Identity is the person as the connector found them at sign-in,
	// encoded by the caller (JSON); the store does not look inside.
	Identity     []byte
	CreatedAt    time.Time
	AuthnInstant time.Time
	ExpiresAt    time.Time
	// RevokedAt is when the session was ended (logout, account disabled);
	// zero while it is not revoked.
	RevokedAt time.Time
}

// BrowserSessionFilter selects sessions for ListBrowserSessions. Empty
// fields match everything.
type BrowserSessionFilter struct {
	// Connector and Username name the account; Username is compared
	// case-insensitively.
	Connector string
	Username  string
	// ActiveAt, when set, keeps only sessions neither revoked nor expired
	// at that time.
	ActiveAt time.Time
	// Limit caps the result; 0 means DefaultBrowserSessionLimit.
	Limit int
}

// DefaultBrowserSessionLimit is the ListBrowserSessions cap when Limit is 0.
const DefaultBrowserSessionLimit = 1000

// LoginLimit is one rate-limit bucket of ReserveLoginAttempt: a key (an
// account or a client address, as the caller names them) and the most
// failures it may hold within the window.
type LoginLimit struct {
	Key string
	Max int
}

// LoginReservation is the answer of ReserveLoginAttempt.
type LoginReservation struct {
	// Reserved: a failure was recorded against every key.
	Reserved bool
	// Blocking, when not Reserved, is the latest, among the keys that hold
	// their Max failures, of the time of their Max-th newest failure: once
	// it leaves the window, every key has room again.
	Blocking time.Time
}

// CheckLoginLimits reports the first limit ReserveLoginAttempt must refuse:
// none at all, an empty key, or a maximum below 1.
func CheckLoginLimits(limits []LoginLimit) error {
	if len(limits) == 0 {
		return errors.New("reserve login attempt: no limits")
	}
	for i, l := range limits {
		switch {
		case l.Key == "":
			return fmt.Errorf("reserve login attempt: limit %d has an empty key", i)
		case l.Max < 1:
			return fmt.Errorf("reserve login attempt: limit %q has maximum %d, want at least 1", l.Key, l.Max)
		}
	}
	return nil
}

// loginFailures is the part of WebSessionStore that CountAndRecordLogin
// uses.
type loginFailures interface {
	RecentLoginFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error)
	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
}

// CountAndRecordLogin is the body of ReserveLoginAttempt that both stores
// share, once the backend holds what orders the reservations of these keys
// (PostgreSQL's advisory locks, SQLite's write lock): when every limit has
// room, it records one attempt against each; otherwise it records nothing
// and says until when the fullest limit blocks.
func CountAndRecordLogin(ctx context.Context, o loginFailures, limits []LoginLimit, since, at time.Time) (LoginReservation, error) {
	var res LoginReservation
	full := false
	for _, l := range limits {
		times, err := o.RecentLoginFailures(ctx, l.Key, since, l.Max)
		if err != nil {
			return LoginReservation{}, err
		}
		if len(times) < l.Max {
			continue
		}
		full = true
		if b := times[l.Max-1]; b.After(res.Blocking) {
			res.Blocking = b
		}
	}
	if full {
		return res, nil
	}
	for _, l := range limits {
		if err := o.RecordLoginFailure(ctx, l.Key, at); err != nil {
			return LoginReservation{}, err
		}
	}
	return LoginReservation{Reserved: true}, nil
}
