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
	// End ends r's session server-side and clears its cookie (single logout).
	End(w http.ResponseWriter, r *http.Request) error
	// CSRFToken returns the token to embed as the hidden field "csrf_token" in a form rendered for r;
	// CheckCSRF verifies a POSTed form's token and the request's Origin/Referer (same origin as base URL).
	CSRFToken(w http.ResponseWriter, r *http.Request) string
	CheckCSRF(r *http.Request) error
}

// App is a service provider a person may open from the portal.
type App struct{ Name, DisplayName, Description, URL string } // URL e.g. /saml/idp-initiated?sp=aws

// AppLister lists the service providers a person may open from the portal (sso implements it).
type AppLister interface{ Apps(id idp.Identity) []App }
