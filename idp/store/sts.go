package store

import (
	"context"
	"time"

	"idpbridge/idp"
)

// STSStore keeps what the built-in STS must share between replicas: one
// record per issued role session (so that revocation reaches every replica)
// and the SAML assertion replay cache.
//
// A session record never holds the session's secret key or its token, only
// the token's SHA-256.
type STSStore interface {
	// CreateSTSSession stores a new session record. ErrConflict when the
	// access key ID is taken. A session with a ParentAccessKeyID is stored
	// only while that parent is stored and not revoked, else ErrRevoked; a
	// revocation running at the same time either sees the new session or
	// makes this call fail (PostgreSQL locks the parent's row).
	CreateSTSSession(ctx context.Context, s STSSession) error
	// GetSTSSession finds a session by its access key ID (exact match).
	// ErrNotFound.
	GetSTSSession(ctx context.Context, accessKeyID string) (STSSession, error)
	// RevokeSTSSession marks the session revoked at the given time. Revoking
	// a revoked session keeps the first time and is not an error.
	// ErrNotFound.
	RevokeSTSSession(ctx context.Context, accessKeyID string, at time.Time) error
	// RevokeSTSSessionChain revokes the session at the given time, and
	// every session chained from it (ParentAccessKeyID, at any depth) that
	// is live then (neither revoked nor expired). It returns the sessions it
	// revoked: the session itself first unless it was revoked already.
	// ErrNotFound when no session has accessKeyID.
	RevokeSTSSessionChain(ctx context.Context, accessKeyID string, at time.Time) ([]STSSession, error)
	// RevokeSTSSessionsBySourceIdentity revokes, at the given time, every
	// session carrying sourceIdentity (exact match) that is live then,
	// whatever its role and account, and returns them. Sessions chained
	// from them carry it too.
	RevokeSTSSessionsBySourceIdentity(ctx context.Context, sourceIdentity string, at time.Time) ([]STSSession, error)
	// ListSTSSessions returns the sessions matching f, newest first (by
	// IssuedAt, then access key ID).
	ListSTSSessions(ctx context.Context, f STSSessionFilter) ([]STSSession, error)
	// DeleteExpiredSTSSessions removes the sessions that expired before the
	// given time and returns how many it removed.
	DeleteExpiredSTSSessions(ctx context.Context, before time.Time) (int, error)

	// RememberSAMLAssertion records that the assertion (issuer, assertionID)
	// was used and must not be accepted again until the given time. fresh is
	// true when it was not known, or known with an entry that lapsed before
	// now (the entry is then renewed); false means a replay. Concurrent
	// callers remembering the same assertion get fresh for exactly one of
	// them.
	RememberSAMLAssertion(ctx context.Context, issuer, assertionID string, until, now time.Time) (fresh bool, err error)
	// DeleteExpiredSAMLAssertions removes replay-cache entries that lapsed
	// before now and returns how many it removed.
	DeleteExpiredSAMLAssertions(ctx context.Context, now time.Time) (int, error)
}

// STSSession is the record of one set of temporary credentials.
type STSSession struct {
	// AccessKeyID is the session's key (ASIA...), unique.
	AccessKeyID string
	// AccountID owns the role.
	AccountID string
	// RoleARN is the assumed role.
	RoleARN     string
	SessionName string
	// SourceIdentity is "" when the session carries none.
	SourceIdentity string
	// Tags are the session's tags in order, keys as given.
	Tags []idp.Tag
	// TransitiveTagKeys are the keys passed on when the session chains.
	TransitiveTagKeys []string
	// CallerARN is who asked for the session: an IAM user, a role session
	// or a SAML/OIDC provider ARN.
	CallerARN string
	// TokenSHA256 is the SHA-256 of the session token.
	TokenSHA256 []byte
	IssuedAt    time.Time
	ExpiresAt   time.Time
	// RevokedAt is the zero time unless the session was revoked.
	RevokedAt time.Time
	// ParentAccessKeyID is the session this one was chained from (its
	// caller was that role session), "" when its caller was an IAM user or
	// a SAML or OIDC provider.
	ParentAccessKeyID string
}

// STSSessionFilter selects sessions for ListSTSSessions. Empty fields match
// everything.
type STSSessionFilter struct {
	RoleARN        string
	SourceIdentity string
	// ActiveAt, when set, keeps only sessions neither revoked nor expired at
	// that time.
	ActiveAt time.Time
	// Limit caps the result; 0 means 1000.
	Limit int
}

// DefaultSTSSessionLimit is the ListSTSSessions cap when Limit is 0.
const DefaultSTSSessionLimit = 1000
