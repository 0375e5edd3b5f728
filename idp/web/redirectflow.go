package web

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector"
	"idpbridge/idp/ui"
)

// A redirect sign-in binds its connector.Challenge to the browser that
// started it in the flow cookie: encrypted and MAC'ed under keys derived
// from the secret, HttpOnly, SameSite=Lax (the provider's redirect back is
// a top-level GET), Secure on https, valid flowLifetime and used once.
const (
	flowLifetime  = 10 * time.Minute
	labelFlowHMAC = "idpbridge web sign-in flow cookie hmac v1"
	labelFlowAES  = "idpbridge web sign-in flow cookie aes v1"
	// flowRandomBytes is the entropy of the state, nonce and verifier.
	flowRandomBytes = 32
)

// codeInvalidState is the audit code of a callback that does not belong
// to a flow this browser started (no cookie, a forged one, another state).
const codeInvalidState = "InvalidSignInState"

// Keys of the flow cookie's values.
const (
	flowConnector = "c"
	flowState     = "s"
	flowNonce     = "n"
	flowVerifier  = "v"
	flowNext      = "next"
	flowExpires   = "exp"
)

// RedirectStartPath and RedirectCallbackPath are the routes of a redirect
// connector: the login page's button, and the redirect_uri registered at
// the provider (<base_url>/login/callback/<name>).
const (
	RedirectStartPath    = "/login/oidc/"
	RedirectCallbackPath = "/login/callback/"
)

func newFlowCookies(secret []byte) *sessions.CookieStore {
	s := sessions.NewCookieStore(deriveKey(secret, labelFlowHMAC, 64), deriveKey(secret, labelFlowAES, 32))
	s.MaxAge(int(flowLifetime / time.Second))
	return s
}

// randomToken is n random bytes, base64url without padding (a PKCE
// verifier of 43 characters for 32 bytes).
func (p *IdP) randomToken() (string, error) {
	b := make([]byte, flowRandomBytes)
	if _, err := io.ReadFull(p.opt.Rand, b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// redirectStart begins a sign-in at the redirect connector of the path:
// it only sets the flow cookie and sends the browser to the provider, so
// a cross-site link to it can do no more than start a sign-in.
func (p *IdP) redirectStart(w http.ResponseWriter, r *http.Request) {
	c, ok := p.connectorByName(r.PathValue("name"))
	if !ok || c.Redirect == nil {
		p.renderError(w, http.StatusNotFound, ui.ErrorPage{Title: "No such sign-in", Message: "There is no sign-in by that name."})
		return
	}
	var ch connector.Challenge
	var err error
	for _, v := range []*string{&ch.State, &ch.Nonce, &ch.Verifier} {
		if *v, err = p.randomToken(); err != nil {
			p.unavailable(w, "sign-in challenge", err)
			return
		}
	}
	start := p.opt.Now()
	to, err := c.Redirect.LoginURL(r.Context(), ch)
	if err != nil {
		p.observe(c.Name, connectorResult(0, err), start)
		p.connectorFailed(w, c, "start redirect sign-in", err)
		return
	}
	s := sessions.NewSession(p.flowCookies, p.flowName)
	s.Options = p.cookieOptions(int(flowLifetime / time.Second))
	s.IsNew = true
	s.Values[flowConnector] = c.Name
	s.Values[flowState] = ch.State
	s.Values[flowNonce] = ch.Nonce
	s.Values[flowVerifier] = ch.Verifier
	s.Values[flowNext] = safeNext(r.URL.Query().Get("next"))
	s.Values[flowExpires] = p.opt.Now().Add(flowLifetime).Unix()
	if err := p.flowCookies.Save(r, w, s); err != nil {
		p.unavailable(w, "set sign-in flow cookie", err)
		return
	}
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// flow is what the flow cookie remembers.
type flow struct {
	connector string
	ch        connector.Challenge
	next      string
}

// readFlow decodes r's flow cookie; ok is false when there is none, it
// does not verify, or it expired.
func (p *IdP) readFlow(r *http.Request) (f flow, ok bool) {
	s, err := p.flowCookies.New(r, p.flowName)
	if err != nil || s.IsNew {
		return flow{}, false
	}
	str := func(k string) string { v, _ := s.Values[k].(string); return v }
	exp, _ := s.Values[flowExpires].(int64)
	if !p.opt.Now().Before(time.Unix(exp, 0)) {
		return flow{}, false
	}
	f = flow{connector: str(flowConnector), next: safeNext(str(flowNext)),
		ch: connector.Challenge{State: str(flowState), Nonce: str(flowNonce), Verifier: str(flowVerifier)}}
	if f.connector == "" || f.ch.State == "" || f.ch.Nonce == "" || f.ch.Verifier == "" {
		return flow{}, false
	}
	return f, true
}

func (p *IdP) clearFlowCookie(w http.ResponseWriter) {
	http.SetCookie(w, sessions.NewCookie(p.flowName, "", p.cookieOptions(-1)))
}

// redirectCallback ends a redirect sign-in: the flow cookie (used once)
// must name this connector and carry the state the provider sent back;
// the connector then redeems the answer, and the session is made as for a
// password. A refusal by the provider is a clear page and a failed SignIn
// record with the provider's error code.
func (p *IdP) redirectCallback(w http.ResponseWriter, r *http.Request) {
	c, ok := p.connectorByName(r.PathValue("name"))
	if !ok || c.Redirect == nil {
		p.renderError(w, http.StatusNotFound, ui.ErrorPage{Title: "No such sign-in", Message: "There is no sign-in by that name."})
		return
	}
	ctx := r.Context()
	now := p.opt.Now()
	addr := p.clientAddr(r)
	f, ok := p.readFlow(r)
	p.clearFlowCookie(w) // one-shot, whatever happens next
	q := r.URL.Query()
	if !ok || f.connector != c.Name || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.ch.State)) != 1 {
		p.signins.WithLabelValues("invalid_state").Inc()
		const msg = "This sign-in was not started in this browser, or it took too long. Please start again."
		p.recordFailure(ctx, r, now, addr, audit.Anonymous(), c.Name, codeInvalidState, msg, "")
		p.renderError(w, http.StatusBadRequest, ui.ErrorPage{Title: "Sign-in not completed", Message: msg})
		return
	}
	start := p.opt.Now()
	id, err := c.Redirect.HandleCallback(ctx, f.ch, q)
	p.observe(c.Name, connectorResult(connector.Accepted, err), start)
	var pe *connector.ProviderError
	if errors.As(err, &pe) {
		p.signins.WithLabelValues("provider_error").Inc()
		msg := fmt.Sprintf("%s refused the sign-in (%s).", c.DisplayName, pe.Code)
		if pe.Description != "" {
			msg = fmt.Sprintf("%s refused the sign-in (%s: %s).", c.DisplayName, pe.Code, pe.Description)
		}
		p.recordFailure(ctx, r, now, addr, audit.Anonymous(), c.Name, pe.Code, msg, "")
		p.log.Info("redirect sign-in refused", "connector", c.Name, "code", pe.Code)
		p.renderError(w, http.StatusUnauthorized, ui.ErrorPage{Title: "Sign-in refused", Message: msg + " Please start again, or ask your administrator."})
		return
	}
	if err != nil {
		p.connectorFailed(w, c, "redirect callback", err)
		return
	}
	id.Connector = c.Name
	p.signIn(w, r, signIn{id: id, now: now, addr: addr, next: f.next})
}

// connectorFailed answers a connector's error: 503 "the directory is
// unavailable" when it could not be asked, the general 503 otherwise.
func (p *IdP) connectorFailed(w http.ResponseWriter, c NamedConnector, what string, err error) {
	p.signins.WithLabelValues("error").Inc()
	if errors.Is(err, connector.ErrUnavailable) {
		p.log.Error("sign-in unavailable", "step", what, "connector", c.Name, "err", err)
		p.renderError(w, http.StatusServiceUnavailable, ui.ErrorPage{Title: "Directory unavailable",
			Message: fmt.Sprintf("Your sign-in could not be checked: the directory is unavailable (%s). Please try again in a few minutes.", c.DisplayName)})
		return
	}
	p.unavailable(w, what+" ("+c.Name+")", err)
}

// ConnectorChoice is a connector as the login page offers it: an option
// of the picker, or a redirect connector's button.
type ConnectorChoice struct {
	Name        string
	DisplayName string
	// Action starts the sign-in of a redirect connector (a GET form, with
	// next).
	Action string
}

func (p *IdP) choices(redirect bool) []ConnectorChoice {
	var out []ConnectorChoice
	for _, c := range p.conns {
		switch {
		case redirect && c.Redirect != nil:
			out = append(out, ConnectorChoice{Name: c.Name, DisplayName: c.DisplayName, Action: RedirectStartPath + url.PathEscape(c.Name)})
		case !redirect && c.Password != nil:
			out = append(out, ConnectorChoice{Name: c.Name, DisplayName: c.DisplayName})
		}
	}
	return out
}
