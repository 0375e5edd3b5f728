// Package web is idpbridge's HTTP surface: the router, the middleware every
// request passes (panic recovery, body limits, metrics, access logs), the
// health endpoints, and the pages and APIs that the IdP, the STS and the
// admin UI mount on it.
//
// It owns the browser side of the IdP (IdP, built by NewIdP): the login
// form and sign-out, the portal at /, server-side browser sessions behind
// encrypted and signed cookies, CSRF protection (a token bound to a
// pre-session cookie plus an Origin check on every POST), rate limiting of
// failed sign-ins in the store, and RequireAdmin for the admin UI and API.
// IdP implements sso.Sessions for the SAML endpoints.
package web
