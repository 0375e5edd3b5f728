package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
)

// LoginPage is the data of the "login" page.
type LoginPage struct {
	// User is empty: nobody is signed in (the layout shows it when set).
	User string
	// Username is the name typed, shown again after a refusal.
	Username string
	// Next is where to continue after signing in (a safe local path).
	Next string
	// CSRFToken goes into the hidden field csrf_token.
	CSRFToken string
	// Error is the message of a refused attempt.
	Error string
	// Notice says why the form is shown: msgExpired or msgSignedOut.
	Notice string
	// Reauth: the person is signed in as Username, and an application
	// asks for the password again (SAML ForceAuthn).
	Reauth bool
	// Password: the page has the password form (some connector checks
	// passwords).
	Password bool
	// Connectors are the password connectors; the form has a picker
	// (field "connector") when there are several.
	Connectors []ConnectorChoice
	// Connector is the picker's selection.
	Connector string
	// Redirects are the redirect connectors, one button each ("Sign in
	// with DisplayName").
	Redirects []ConnectorChoice
}

// msgInvalid is the one answer to every refused password: unknown name,
// wrong password and disabled account look the same.
const msgInvalid = "The user name or password is incorrect."

// The answers of a form that no password connector can take.
const (
	msgNoConnector = "Choose where your account is."
	msgNoPasswords = "Sign in with one of the buttons below."
)

// busyRetry is the Retry-After of a sign-in refused because too many
// passwords were being checked.
const busyRetry = 5 * time.Second

// The login form's notices: the browser had a session that is over, or
// signed out a moment ago.
const (
	msgExpired   = "Your session expired; sign in again."
	msgSignedOut = "You are signed out."
)

// maxUserAgent caps the User-Agent kept in audit records.
const maxUserAgent = 512

func (p *IdP) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	s, ok, err := p.Current(r)
	if err != nil {
		p.log.Warn("login form: read session", "err", err)
	}
	if ok && r.URL.Query().Get("reauth") == "1" {
		// See ReauthURL: the form even though the session is live.
		p.renderLogin(w, r, http.StatusOK, LoginPage{Username: s.Identity.Username, Next: next, Reauth: true, Connector: s.Identity.Connector})
		return
	}
	if ok {
		seeOther(w, orRoot(next))
		return
	}
	page := LoginPage{Next: next}
	switch p.sessionState(r) {
	case stateIn:
		page.Notice = msgExpired
	case stateOut:
		page.Notice = msgSignedOut
	}
	if page.Notice != "" {
		p.setSessionState(w, "") // said once
	}
	p.renderLogin(w, r, http.StatusOK, page)
}

func (p *IdP) renderLogin(w http.ResponseWriter, r *http.Request, status int, page LoginPage) {
	if r.Method == http.MethodPost && r.PostFormValue("reauth") == "1" {
		page.Reauth = true // a refused attempt on the page of ReauthURL
	}
	page.CSRFToken = p.CSRFToken(w, r)
	page.Connectors, page.Redirects = p.choices(false), p.choices(true)
	page.Password = len(page.Connectors) > 0
	if err := p.opt.Pages.Render(w, status, "login", page); err != nil {
		p.log.Error("render login page", "err", err)
	}
}

// login checks, in order: CSRF and origin, the rate limits (without
// looking at the password when over them), the password. The attempt is
// counted against the name and the address before the password is
// checked, and stays counted when the password is refused; a successful
// one clears the name's failures. A success is recorded before the session
// cookie is sent, and fails when the record cannot be written. When too
// many passwords are being checked, the answer is 503 with Retry-After.
func (p *IdP) login(w http.ResponseWriter, r *http.Request) {
	if err := p.CheckCSRF(r); err != nil {
		p.signins.WithLabelValues("csrf").Inc()
		p.renderError(w, http.StatusForbidden, ui.ErrorPage{Title: "Request refused", Message: idp.ErrorMessage(err)})
		return
	}
	ctx := r.Context()
	typed, password := r.PostFormValue("username"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	now := p.opt.Now()
	addr := p.clientAddr(r)
	page := LoginPage{Username: typed, Next: next, Connector: r.PostFormValue("connector")}
	conn, username, ok := p.route(typed, page.Connector)
	if !ok {
		p.signins.WithLabelValues("no_connector").Inc()
		page.Error = msgNoConnector
		if len(p.passwordConnectors()) == 0 {
			page.Error = msgNoPasswords
		}
		p.renderLogin(w, r, http.StatusBadRequest, page)
		return
	}
	page.Connector = conn.Name

	// The attempt counts as a failure from before the password is checked,
	// so a burst of parallel attempts gets no more checks than the limits
	// allow; it is taken back below unless the password is refused.
	userKey, aKey := p.userKey(conn.Name, username), addrKey(addr)
	res, err := p.opt.Store.ReserveLoginAttempt(ctx, []store.LoginLimit{
		{Key: userKey, Max: p.opt.RateLimit.MaxFailuresPerUser},
		{Key: aKey, Max: p.opt.RateLimit.MaxFailuresPerAddress},
	}, now.Add(-p.opt.RateLimit.Window).UTC(), now.UTC())
	if err != nil {
		p.unavailable(w, "reserve login attempt", err)
		return
	}
	if !res.Reserved {
		p.signins.WithLabelValues("rate_limited").Inc()
		// The keys have room again when the blocking failure leaves the window.
		retry := max(res.Blocking.Add(p.opt.RateLimit.Window).Sub(now), time.Second)
		msg := fmt.Sprintf("Too many failed sign-ins for this account or from your network. Try again in %s.", humanDuration(retry))
		p.recordFailure(ctx, r, now, addr, audit.Anonymous(), conn.Name, audit.CodeRateLimited, msg, password)
		w.Header().Set("Retry-After", fmt.Sprint(int(math.Ceil(retry.Seconds()))))
		p.renderError(w, http.StatusTooManyRequests, ui.ErrorPage{Title: "Too many sign-in attempts", Message: msg})
		return
	}
	// Unless the password is refused, the reservation was no failure.
	release := []string{userKey, aKey}
	defer func() {
		bg := context.WithoutCancel(ctx)
		for _, k := range release {
			if err := p.opt.Store.ReleaseLoginAttempt(bg, k, now.UTC()); err != nil {
				p.log.Warn("release login attempt", "err", err)
			}
		}
	}()

	start := p.opt.Now()
	id, outcome, err := p.authenticate(ctx, conn, username, password)
	p.observe(conn.Name, connectorResult(outcome, err), start)
	if errors.Is(err, connector.ErrBusy) {
		p.signins.WithLabelValues("busy").Inc()
		w.Header().Set("Retry-After", fmt.Sprint(int(busyRetry/time.Second)))
		p.renderError(w, http.StatusServiceUnavailable, ui.ErrorPage{Title: "Sign-in is busy",
			Message: "Too many people are signing in right now. Please try again in a few seconds."})
		return
	}
	if err != nil {
		p.connectorFailed(w, conn, "check password", err)
		return
	}
	if outcome != connector.Accepted {
		release = nil
		p.signins.WithLabelValues(outcomeLabel(outcome)).Inc()
		who := audit.Anonymous()
		if outcome != connector.UnknownUser {
			who = auditUser(id)
		}
		code := audit.CodeInvalidCredentials
		if outcome == connector.AccountDisabled {
			code = audit.CodeAccountDisabled
		}
		p.recordFailure(ctx, r, now, addr, who, conn.Name, code, msgInvalid, password)
		page.Error = msgInvalid
		p.renderLogin(w, r, http.StatusUnauthorized, page)
		return
	}
	p.signIn(w, r, signIn{id: id, now: now, addr: addr, next: next, password: password, clearKey: userKey, release: &release, addrKey: aKey})
}

// signIn is a sign-in whose person is known.
type signIn struct {
	id   idp.Identity
	now  time.Time
	addr netip.Addr
	next string
	// password is redacted from the record; "" for redirect sign-ins.
	password string
	// clearKey, when set, is the rate-limit key whose failures a success
	// clears; then *release becomes addrKey alone.
	clearKey, addrKey string
	release           *[]string
}

// signIn makes the session of a person who proved who they are, the same
// way for every connector: the SignIn record (naming the connector) first,
// failing closed, then the previous session revoked, the cookie sent and
// the browser sent on to next.
func (p *IdP) signIn(w http.ResponseWriter, r *http.Request, si signIn) {
	ctx, id, now, addr, next, password := r.Context(), si.id, si.now, si.addr, si.next, si.password
	raw, rec, err := p.newSession(ctx, id, now)
	if err != nil {
		p.signins.WithLabelValues("error").Inc()
		p.unavailable(w, "create session", err)
		return
	}
	call, err := p.call(r, now, addr, auditUser(id))
	if err == nil {
		err = p.record(ctx, audit.SignInEvent(call, id.Connector, nil), password)
	}
	if err != nil {
		// Fail closed: no session without its record. The cookie was never
		// sent, so the stored session is unreachable; revoke it anyway.
		if rerr := p.opt.Store.RevokeBrowserSession(context.WithoutCancel(ctx), rec.IDHash, now.UTC()); rerr != nil {
			p.log.Error("revoke unrecorded session", "err", rerr)
		}
		p.signins.WithLabelValues("error").Inc()
		p.unavailable(w, "record sign-in", err)
		return
	}
	if old, ok := p.sessionID(r); ok {
		if err := p.opt.Store.RevokeBrowserSession(ctx, hashID(old), now.UTC()); err != nil && !isNotFound(err) {
			p.log.Warn("revoke the previous session", "err", err)
		}
	}
	if si.clearKey != "" {
		if err := p.opt.Store.ClearLoginFailures(ctx, si.clearKey); err != nil {
			p.log.Warn("clear login failures", "err", err)
		} else {
			*si.release = []string{si.addrKey}
		}
	}
	if err := p.setSessionCookie(w, r, raw); err != nil {
		p.signins.WithLabelValues("error").Inc()
		p.unavailable(w, "set session cookie", err)
		return
	}
	p.rotateCSRF(w)
	p.setSessionState(w, stateIn)
	p.signins.WithLabelValues("success").Inc()
	p.log.Info("signed in", "user", id.Username, "connector", id.Connector, "client", addrString(addr))
	seeOther(w, orRoot(next))
}

func (p *IdP) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.CheckCSRF(r); err != nil {
		p.renderError(w, http.StatusForbidden, ui.ErrorPage{Title: "Request refused", Message: idp.ErrorMessage(err)})
		return
	}
	now := p.opt.Now()
	s, live, err := p.end(w, r)
	if err != nil {
		p.log.Error("sign-out", "err", err)
		p.renderError(w, http.StatusServiceUnavailable, ui.ErrorPage{Title: "Sign-out failed",
			Message: "You could not be signed out right now. Please try again in a moment."})
		return
	}
	if live {
		p.recordSignOut(r, now, s)
	}
	seeOther(w, "/login")
}

// recordSignOut writes the SignOut record of session s. The session is
// over whatever the trail says: a failure is logged, not shown.
func (p *IdP) recordSignOut(r *http.Request, now time.Time, s idp.Session) {
	id := s.Identity
	call, err := p.call(r, now, p.clientAddr(r), auditUser(id))
	if err == nil {
		err = p.record(r.Context(), audit.SignOutEvent(call))
	}
	if err != nil {
		p.log.Error("record sign-out", "user", id.Username, "err", err)
	}
	p.log.Info("signed out", "user", id.Username, "connector", id.Connector)
}

// authenticate asks the connector c, with the reason when it can give
// one. The person is namespaced by c's configured name, whatever the
// connector put in Identity.Connector.
func (p *IdP) authenticate(ctx context.Context, c NamedConnector, username, password string) (idp.Identity, connector.Outcome, error) {
	var (
		id      idp.Identity
		outcome connector.Outcome
		err     error
	)
	if ex, ok := c.Password.(connector.Explainer); ok {
		id, outcome, err = ex.Authenticate(ctx, username, password)
	} else {
		var ok bool
		id, ok, err = c.Password.Login(ctx, username, password)
		if !ok {
			id, outcome = idp.Identity{}, connector.UnknownUser
		}
	}
	if err != nil {
		return idp.Identity{}, 0, err
	}
	if outcome != connector.UnknownUser {
		id.Connector = c.Name
	}
	return id, outcome, nil
}

func outcomeLabel(o connector.Outcome) string {
	if o == connector.AccountDisabled {
		return "account_disabled"
	}
	return "invalid_credentials"
}

// userKey is the rate-limit bucket of an account name. The name is keyed
// with HMAC, never stored: people type passwords into the name field.
func (p *IdP) userKey(conn, username string) string {
	return "user:" + base64.RawURLEncoding.EncodeToString(mac(p.rateKey, "user", conn, strings.ToLower(username))[:24])
}

// recordFailure writes a refused sign-in to the trail. A trail that
// cannot be written does not change the answer (it is a refusal already)
// but is logged.
func (p *IdP) recordFailure(ctx context.Context, r *http.Request, now time.Time, addr netip.Addr, who audit.UserIdentity, conn, code, msg, password string) {
	call, err := p.call(r, now, addr, who)
	if err == nil {
		err = p.record(ctx, audit.SignInEvent(call, conn, &audit.APIError{Code: code, Message: msg}), password)
	}
	if err != nil {
		p.log.Error("record refused sign-in", "code", code, "err", err)
	}
}

// record redacts ev (with the secrets the caller knows) and logs it.
func (p *IdP) record(ctx context.Context, ev audit.Record, known ...string) error {
	if paths := audit.Redact(&ev, known...); len(paths) > 0 {
		p.log.Warn("audit record redacted", "event", ev.EventName, "paths", paths)
	}
	return p.opt.Events.Log(ctx, ev)
}

// call is the audit envelope of a request. Its IDs come from the injected
// randomness; when that fails there is no envelope and no record.
func (p *IdP) call(r *http.Request, now time.Time, addr netip.Addr, who audit.UserIdentity) (audit.Call, error) {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	eventID, err := audit.NewUUID(p.opt.Rand)
	if err != nil {
		return audit.Call{}, err
	}
	requestID, err := audit.NewUUID(p.opt.Rand)
	if err != nil {
		return audit.Call{}, err
	}
	return audit.Call{EventID: eventID, RequestID: requestID, Time: now, SourceIP: addrString(addr), UserAgent: ua, Identity: who}, nil
}

func (p *IdP) renderError(w http.ResponseWriter, status int, e ui.ErrorPage) {
	if err := p.opt.Pages.Error(w, status, e); err != nil {
		p.log.Error("render error page", "err", err)
	}
}

// unavailable answers 503 for a failure of a dependency, logged in full.
func (p *IdP) unavailable(w http.ResponseWriter, what string, err error) {
	p.log.Error("sign-in unavailable", "step", what, "err", err)
	p.renderError(w, http.StatusServiceUnavailable, ui.ErrorPage{Title: "Sign-in unavailable",
		Message: "Signing in is not possible right now. Please try again in a few minutes."})
}

// seeOther redirects to a local path exactly as given (http.Redirect would
// clean it).
func seeOther(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

func orRoot(next string) string {
	if next == "" {
		return "/"
	}
	return next
}

// humanDuration writes d as whole minutes, or seconds under a minute.
func humanDuration(d time.Duration) string {
	if d < time.Minute {
		s := int(math.Ceil(d.Seconds()))
		if s == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(math.Ceil(d.Minutes()))
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
