package sso

import (
	"net/http"

	"idpbridge/idp"
)

// Sessions is the IdP's view of browser sessions; idp/web implements it.
type Sessions interface {
	// Current returns the person signed in on r's browser, ok=false when there is no valid
	// session (none, expired, revoked, or the account disabled since).
	Current(r *http.Request) (s idp.Session, ok bool, err error)
	// LoginURL is where to send a browser that must sign in first and then continue at next
	// (a local path with query, e.g. "/saml/sso?SAMLRequest=..."); next must survive a round trip.
	LoginURL(next string) string
	// ReauthURL is LoginURL for a person who is signed in but must enter the password again
	// (ForceAuthn): the login page is shown for the signed-in person although the session is
	// live, and signing in there starts a new session with a new AuthnInstant.
	ReauthURL(next string) string
	// MAC is HMAC-SHA256 over parts under a key of its own, the same on every replica: it
	// protects values that make a round trip through the browser.
	MAC(parts ...string) []byte
	// End ends r's session server-side and clears its cookie (single logout).
	End(w http.ResponseWriter, r *http.Request) error
	// CSRFToken returns the token to embed as the hidden field "csrf_token" in a form rendered for r;
	// CheckCSRF verifies a POSTed form's token and the request's Origin/Referer (same origin as base URL).
	CSRFToken(w http.ResponseWriter, r *http.Request) string
	CheckCSRF(r *http.Request) error
}

// App is a service provider a person may open from the portal.
type App struct {
	Name, DisplayName, Description string
	// URL opens the app with a GET, e.g. /saml/idp-initiated?sp=aws.
	URL string
	// Post marks an app whose sign-in issues credentials (the builtin
	// preset): the portal opens it with a form that POSTs sp=Name and the
	// CSRF token to IdPInitiatedPath, never with a link; a GET of URL
	// only asks the person to confirm.
	Post bool
}

// AppLister lists the service providers a person may open from the portal (sso implements it).
type AppLister interface{ Apps(id idp.Identity) []App }
