package store

import (
	"context"
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

	// RecordLoginFailure records one failed sign-in counted against key
	// (an account or a client address, as the caller names them).
	RecordLoginFailure(ctx context.Context, key string, at time.Time) error
	// RecentLoginFailures returns the times of key's failures after since,
	// newest first, at most limit of them.
	RecentLoginFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error)
	// ClearLoginFailures forgets every failure of key.
	ClearLoginFailures(ctx context.Context, key string) error
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
