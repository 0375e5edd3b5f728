package sso

import (
	"crypto/hmac"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"idpbridge/idp"
)

// ForceAuthn (saml-core §3.4.1): a request with ForceAuthn="true" is
// answered only from a session whose sign-in happened after the IdP asked
// for it. When the session is older, the browser goes to the login page
// (Sessions.ReauthURL) with, as the place to continue, the same request
// plus the parameter reauthParam: the time the password was asked for and
// a MAC binding that time to the request's issuer and ID. Back at
// /saml/sso, the request is answered once the session's AuthnInstant is
// not before that time. The MAC keeps the person from setting an earlier
// time; binding it to the request keeps a proof from serving another one.

// reauthParam is the query parameter that carries the proof.
const reauthParam = "reauth"

// errReauthProof marks a proof that is malformed or not ours.
var errReauthProof = errors.New("sso: ForceAuthn proof not valid")

// isTrue reads an optional XML boolean attribute.
func isTrue(b *bool) bool { return b != nil && *b }

// reauthMAC binds the time the password was asked for to one request.
func (p *IdP) reauthMAC(issuer, requestID, askedMillis string) []byte {
	return p.sessions.MAC("idpbridge sso reauth v1", issuer, requestID, askedMillis)
}

// reauthResume is where the browser continues after entering the password
// again: the request's query without any earlier proof, plus a proof for
// now.
func (p *IdP) reauthResume(r *http.Request, req *saml.IdpAuthnRequest) (string, error) {
	issuer, id := req.ServiceProviderMetadata.EntityID, req.Request.ID
	if issuer == "" || id == "" {
		return "", errors.New("sso: ForceAuthn request without issuer or ID")
	}
	asked := strconv.FormatInt(p.now().UnixMilli(), 10)
	proof := asked + "." + base64.RawURLEncoding.EncodeToString(p.reauthMAC(issuer, id, asked))
	q := withoutParam(r.URL.RawQuery, reauthParam)
	if q != "" {
		q += "&"
	}
	return SSOPath + "?" + q + reauthParam + "=" + url.QueryEscape(proof), nil
}

// reauthenticated reports whether r carries a valid proof for req and the
// session s signed in at or after the time it names. No proof is
// (false, nil); a proof that is not ours is (false, errReauthProof).
func (p *IdP) reauthenticated(r *http.Request, req *saml.IdpAuthnRequest, s idp.Session) (bool, error) {
	vs, ok := r.URL.Query()[reauthParam]
	if !ok {
		return false, nil
	}
	if len(vs) != 1 {
		return false, fmt.Errorf("%w: %d values", errReauthProof, len(vs))
	}
	asked, sig, ok := strings.Cut(vs[0], ".")
	ms, err := strconv.ParseInt(asked, 10, 64)
	if !ok || err != nil || asked != strconv.FormatInt(ms, 10) {
		return false, fmt.Errorf("%w: malformed", errReauthProof)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, p.reauthMAC(req.ServiceProviderMetadata.EntityID, req.Request.ID, asked)) {
		return false, fmt.Errorf("%w: MAC does not match", errReauthProof)
	}
	return !s.AuthnInstant.Before(time.UnixMilli(ms)), nil
}

// withoutParam returns rawQuery without the pairs named name, leaving the
// others exactly as encoded (a Redirect-binding signature covers them).
func withoutParam(rawQuery, name string) string {
	var kept []string
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, _, _ := strings.Cut(pair, "=")
		if key, err := url.QueryUnescape(k); err == nil && key == name {
			continue
		}
		kept = append(kept, pair)
	}
	return strings.Join(kept, "&")
}

// noPassive answers an IsPassive request the IdP cannot satisfy without
// showing a page: a Response with the status Responder/NoPassive to the
// service provider, and no page of ours.
func (p *IdP) noPassive(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest, why string) {
	if err := req.IDP.SendErrorResponse(w, req, &saml.StatusError{TopLevel: saml.StatusResponder, SecondLevel: saml.StatusNoPassive, Message: why}); err != nil {
		p.onError(w, r, http.StatusInternalServerError, err)
	}
}

// toLogin sends the browser to the login page loginURL(next) names.
func (p *IdP) toLogin(w http.ResponseWriter, r *http.Request, next string, loginURL func(string) string) {
	if len(next) > maxResumeBytes {
		p.fail(w, r, http.StatusBadRequest, "Sign-in request too large", "The application's sign-in request is too large to continue after signing in. Sign in to idpbridge first, then go back to the application.", errors.New("resume URL too long"))
		return
	}
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, loginURL(next), status)
}
