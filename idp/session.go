package idp

import "time"

// Session is a person's signed-in browser session at the IdP.
type Session struct {
	// ID identifies the server-side session record; it changes at every
	// sign-in (no fixation).
	ID string
	// Identity is who signed in, as the connector found them then.
	Identity Identity
	// AuthnInstant is when the person proved who they are.
	AuthnInstant time.Time
	// ExpiresAt ends the session whatever happens.
	ExpiresAt time.Time
}
