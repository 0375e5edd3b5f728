package web

import (
	"crypto/hmac"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"idpbridge/idp"
)

// CSRF protection is a double submit bound to a pre-session cookie: the
// browser holds a random value in an HttpOnly cookie, and every form
// carries HMAC(csrfKey, value). A page of another site can make the
// browser send the cookie but cannot read it or compute the token; SameSite
// keeps the cookie off cross-site POSTs in the first place, and the Origin
// check refuses them outright.

// csrfField is the form field carrying the token.
const csrfField = "csrf_token"

// csrfValueBytes is the length of the cookie's random value.
const csrfValueBytes = 32

// errCSRF is what a refused POST reports; the person sees its message.
var errCSRF = &idp.Error{Code: idp.EForbidden,
	Message: "This form has expired or was sent from another site. Go back, reload the page and try again."}

// CSRFToken implements sso.Sessions. It sets the pre-session cookie on w
// when r has none, so call it before writing the response body; within one
// request every call returns the same token.
func (p *IdP) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	v, ok := p.csrfValueSent(w)
	if !ok {
		v, ok = p.csrfValue(r)
	}
	if !ok {
		v = p.newCSRFCookie(w)
	}
	return p.csrfTokenFor(v)
}

// CheckCSRF implements sso.Sessions: the request comes from the base URL's
// origin (Origin header, else Referer) and its form field csrf_token
// matches the browser's pre-session cookie. The error is an *idp.Error
// (EForbidden) that may be shown; the reason of a refusal is logged
// (never the token or the cookie).
func (p *IdP) CheckCSRF(r *http.Request) error {
	reason := p.csrfRefusal(r)
	if reason == "" {
		return nil
	}
	p.log.Info("form refused", "reason", reason, "method", r.Method, "path", r.URL.Path,
		"client", addrString(p.clientAddr(r)))
	return errCSRF
}

// csrfRefusal says why r fails the CSRF check, "" when it passes.
func (p *IdP) csrfRefusal(r *http.Request) string {
	if why := p.originRefusal(r); why != "" {
		return why
	}
	v, ok := p.csrfValue(r)
	if !ok {
		return "no valid " + p.csrfName + " cookie: the browser did not send the cookie the form was issued with " +
			"(cookies blocked, or the form was loaded from another address than " + p.origin + ")"
	}
	got, err := base64.RawURLEncoding.DecodeString(r.PostFormValue(csrfField))
	if err != nil || !hmac.Equal(got, mac(p.csrfKey, "csrf", v)) {
		return "the form's " + csrfField + " does not match the browser's " + p.csrfName +
			" cookie (a form loaded before a sign-in or sign-out, or in another browser)"
	}
	return ""
}

func (p *IdP) csrfTokenFor(v string) string {
	return base64.RawURLEncoding.EncodeToString(mac(p.csrfKey, "csrf", v))
}

// rotateCSRF gives the browser a new pre-session value (at sign-in), so a
// value planted before sign-in is worthless after it.
func (p *IdP) rotateCSRF(w http.ResponseWriter) { p.newCSRFCookie(w) }

func (p *IdP) newCSRFCookie(w http.ResponseWriter) string {
	b := make([]byte, csrfValueBytes)
	if _, err := io.ReadFull(p.opt.Rand, b); err != nil {
		// Without randomness no token can be issued; an empty value never
		// validates (csrfValue refuses it), so the form fails closed.
		p.log.Error("csrf: read random", "err", err)
		return ""
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: p.csrfName, Value: v, Path: "/", Secure: p.secure,
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return v
}

// csrfValue returns r's pre-session value when it is well-formed.
func (p *IdP) csrfValue(r *http.Request) (string, bool) {
	c, err := r.Cookie(p.csrfName)
	if err != nil {
		return "", false
	}
	return c.Value, validCSRFValue(c.Value)
}

// csrfValueSent returns the pre-session value this response already sets.
func (p *IdP) csrfValueSent(w http.ResponseWriter) (string, bool) {
	var v string
	var found bool
	for _, line := range w.Header().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == p.csrfName && c.MaxAge >= 0 && validCSRFValue(c.Value) {
			v, found = c.Value, true
		}
	}
	return v, found
}

func validCSRFValue(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == csrfValueBytes
}

// originRefusal says why r does not come from the base URL's origin, ""
// when it does. Browsers send Origin on every POST; Referer is the
// fallback for those that do not. A request with neither, or with
// "Origin: null", is refused.
func (p *IdP) originRefusal(r *http.Request) string {
	src, header := r.Header.Get("Origin"), "Origin"
	if src == "" {
		src, header = r.Header.Get("Referer"), "Referer"
	}
	switch src {
	case "":
		return "the request has neither an Origin nor a Referer header"
	case "null":
		return "Origin null is not " + p.origin
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" || u.User != nil {
		return header + " " + strconv.Quote(shorten(src, 200)) + " is not an origin"
	}
	if got := origin(u); got != p.origin {
		return header + " " + got + " is not " + p.origin
	}
	return ""
}

// sameOrigin reports whether r says it comes from the base URL's origin
// (see originRefusal).
func (p *IdP) sameOrigin(r *http.Request) bool { return p.originRefusal(r) == "" }
