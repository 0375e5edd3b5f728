// Package web is idpbridge's HTTP surface: the router, the middleware every
// request passes (panic recovery, body limits, metrics, access logs), the
// health endpoints, and the pages and APIs that the IdP, the STS and the
// admin UI mount on it.
package web
