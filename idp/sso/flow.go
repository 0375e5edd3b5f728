package sso

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/crewjam/saml"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// maxResumeBytes caps the URL a browser resumes at after signing in (the
// web layer drops longer ones).
const maxResumeBytes = 4096

// flowKind says how an SSO flow started.
type flowKind int

const (
	spInitiated flowKind = iota
	idpInitiated
)

// flow is one SSO request as it passes through crewjam: our handlers create
// it, the session adapter fills in the person and the mapping result, the
// assertion maker and the response writer read them.
type flow struct {
	kind   flowKind
	sp     *provider
	relay  string // IdP-initiated RelayState, as validated
	chosen string // the role picked on the chooser ("roleArn,providerArn")

	session     idp.Session
	result      *attributes.Result
	assertionID string
}

type flowKeyType struct{}

func withFlow(ctx context.Context, f *flow) context.Context {
	return context.WithValue(ctx, flowKeyType{}, f)
}

func flowFrom(ctx context.Context) *flow {
	f, _ := ctx.Value(flowKeyType{}).(*flow)
	return f
}

// serveSSO answers SP-initiated SSO: an AuthnRequest with the HTTP-Redirect
// (GET) or HTTP-POST binding, or the role chooser's answer (POST with
// role, resume and csrf_token).
func (p *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	st := &flow{kind: spInitiated}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request from the application is not valid.", err)
			return
		}
		if r.PostForm.Has("resume") {
			if err := p.sessions.CheckCSRF(r); err != nil {
				p.fail(w, r, http.StatusForbidden, "Form expired", "This form expired or did not come from idpbridge. Go back to the application and sign in again.", err)
				return
			}
			resume := r.PostForm.Get("resume")
			if len(resume) > maxResumeBytes {
				p.fail(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request from the application is not valid.", errors.New("resume too long"))
				return
			}
			st.chosen = r.PostForm.Get("role")
			r = asRedirectBinding(r, resume)
		}
	}
	msg, err := precheckRequest(r, "SAMLRequest")
	if err == nil && msg == nil {
		err = errors.New("no SAMLRequest")
	}
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request from the application is not valid.", err)
		return
	}
	sidp, err := p.samlIDP(r.Context())
	if err != nil {
		p.onError(w, r, http.StatusInternalServerError, err)
		return
	}
	sidp.ServeSSO(w, r.WithContext(withFlow(r.Context(), st)))
}

// asRedirectBinding returns r as the GET whose query is rawQuery: how an
// AuthnRequest that came with the HTTP-POST binding, or through the role
// chooser, is answered.
func asRedirectBinding(r *http.Request, rawQuery string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Method = http.MethodGet
	u := *r.URL
	u.RawQuery = rawQuery
	r2.URL = &u
	r2.Body, r2.ContentLength = http.NoBody, 0
	r2.Form, r2.PostForm = nil, nil
	r2.Header.Del("Content-Type")
	return r2
}

// redirectQuery is the HTTP-Redirect binding query carrying message.
func redirectQuery(message []byte, relayState string) string {
	v := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(deflate(message))}}
	if relayState != "" {
		v.Set("RelayState", relayState)
	}
	return v.Encode()
}

// serveIdPInitiated answers GET /saml/idp-initiated?sp=NAME[&RelayState=URL]
// and POST with sp, RelayState, csrf_token and, from the role chooser,
// role. For a provider whose sign-in issues credentials (the builtin
// preset) a GET only shows a page asking to confirm, whose form POSTs: a
// link on another site cannot make a signed-in person mint credentials.
func (p *IdP) serveIdPInitiated(w http.ResponseWriter, r *http.Request) {
	var name, relay, role string
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, http.StatusBadRequest, "Request refused", "The form could not be read.", err)
			return
		}
		if err := p.sessions.CheckCSRF(r); err != nil {
			p.fail(w, r, http.StatusForbidden, "Form expired", "This form expired or did not come from idpbridge. Open the application again from your portal.", err)
			return
		}
		name, relay, role = r.PostForm.Get("sp"), r.PostForm.Get("RelayState"), r.PostForm.Get("role")
	} else {
		q := r.URL.Query()
		name, relay = q.Get("sp"), q.Get("RelayState")
	}
	prov, ok := p.reg.byName(r.Context(), name)
	if !ok {
		p.fail(w, r, http.StatusNotFound, "Unknown application", "No application of that name is registered with idpbridge.", nil)
		return
	}
	if err := checkRelayState(relay); err != nil {
		p.fail(w, r, http.StatusBadRequest, "Request refused", "The page to open after signing in (RelayState) is not acceptable: it must be an http or https address of at most 1024 characters.", err)
		return
	}
	md, err := prov.metadata()
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Application unavailable", "idpbridge cannot reach this application's SAML metadata right now. Try again later.", err)
		return
	}
	sidp, err := p.samlIDP(r.Context())
	if err != nil {
		p.onError(w, r, http.StatusInternalServerError, err)
		return
	}
	st := &flow{kind: idpInitiated, sp: prov, relay: relay, chosen: role}
	sidp.ServeIDPInitiated(w, r.WithContext(withFlow(r.Context(), st)), md.EntityID, relay)
}

// errRelayState marks an unacceptable RelayState.
var errRelayState = errors.New("sso: unacceptable RelayState")

// checkRelayState accepts an IdP-initiated RelayState: empty, or an absolute
// http(s) URL with a host, no user information, no spaces, control
// characters or backslashes, at most MaxRelayStateBytes long. It is never
// echoed on a page except HTML-escaped inside the form to the service
// provider, and idpbridge never redirects to it.
func checkRelayState(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxRelayStateBytes {
		return errRelayState
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return errRelayState
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return errRelayState
	}
	return nil
}

// resumePath is the local URL that starts the same flow again after the
// person has signed in.
func (st *flow) resumePath(r *http.Request) string {
	if st.kind == idpInitiated {
		v := url.Values{"sp": {st.sp.cfg.name}}
		if st.relay != "" {
			v.Set("RelayState", st.relay)
		}
		return IdPInitiatedPath + "?" + v.Encode()
	}
	return SSOPath + "?" + r.URL.RawQuery
}

// sessionIndex is the SessionIndex of a browser session: stable, and not
// the session's own ID.
func sessionIndex(sessionID string) string {
	sum := sha256.Sum256([]byte("idpbridge session index\x00" + sessionID))
	return "_" + hex.EncodeToString(sum[:16])
}

// sessionAdapter is crewjam's SessionProvider (and SessionInvalidator) over
// Sessions.
type sessionAdapter struct{ p *IdP }

var (
	_ saml.SessionProvider    = sessionAdapter{}
	_ saml.SessionInvalidator = sessionAdapter{}
)

// GetSession implements saml.SessionProvider. An AuthnRequest that came with
// the HTTP-POST binding continues as the equivalent HTTP-Redirect GET (the
// session cookie is SameSite=Lax, so a cross-site POST never carries it).
// Without a session the browser is sent to sign in and then to resumePath.
// A ForceAuthn request with a session from before it asked sends the
// browser to enter the password again (see reauth.go). An IsPassive request
// that would need any of these pages, or the role chooser, is answered
// with the status Responder/NoPassive instead. With a session, the service
// provider's mapping is applied: a person it cannot map gets the mapping
// error page (and a MappingFailed record), a single-role provider with
// several roles gets the role chooser, an IdP-initiated GET for a provider
// that issues credentials gets the confirm page, and only then is a
// session returned for the assertion.
func (a sessionAdapter) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	p := a.p
	st := flowFrom(r.Context())
	if st == nil {
		p.fail(w, r, http.StatusInternalServerError, "Sign-in failed", "internal error", errors.New("sso: request without flow state"))
		return nil
	}
	if st.sp == nil {
		prov, _, ok := p.reg.byEntityID(r.Context(), req.ServiceProviderMetadata.EntityID)
		if !ok {
			p.onError(w, r, http.StatusBadRequest, saml.ErrUnknownServiceProvider)
			return nil
		}
		st.sp = prov
	}
	if st.kind == spInitiated && r.Method == http.MethodPost {
		http.Redirect(w, r, SSOPath+"?"+redirectQuery(req.RequestBuffer, req.RelayState), http.StatusSeeOther)
		return nil
	}
	s, ok, err := p.sessions.Current(r)
	if err != nil {
		p.fail(w, r, http.StatusServiceUnavailable, "Sign-in unavailable", "Your session could not be checked. Try again in a moment.", err)
		return nil
	}
	passive := st.kind == spInitiated && isTrue(req.Request.IsPassive)
	force := st.kind == spInitiated && isTrue(req.Request.ForceAuthn)
	if !ok {
		if passive {
			p.noPassive(w, r, req, "not signed in")
			return nil
		}
		next := st.resumePath(r)
		if force {
			// The sign-in about to happen is the fresh one.
			if next, err = p.reauthResume(r, req); err != nil {
				p.fail(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request from the application is not valid.", err)
				return nil
			}
		}
		p.toLogin(w, r, next, p.sessions.LoginURL)
		return nil
	}
	if force {
		fresh, err := p.reauthenticated(r, req, s)
		if err != nil {
			p.log.Warn("saml: ForceAuthn proof refused", "sp", st.sp.cfg.name, "user", s.Identity.Username, "err", err)
		}
		if !fresh {
			if passive {
				p.noPassive(w, r, req, "authentication cannot be repeated passively")
				return nil
			}
			next, err := p.reauthResume(r, req)
			if err != nil {
				p.fail(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request from the application is not valid.", err)
				return nil
			}
			p.toLogin(w, r, next, p.sessions.ReauthURL)
			return nil
		}
	}

	res, err := st.sp.mapping.Apply(s.Identity)
	if err != nil {
		var me *attributes.MappingError
		if !errors.As(err, &me) {
			p.fail(w, r, http.StatusInternalServerError, "Sign-in failed", "internal error", err)
			return nil
		}
		p.mappingFailed(w, r, st, s, me, req.ServiceProviderMetadata.EntityID)
		return nil
	}
	if st.sp.cfg.singleRole && len(res.Roles) > 1 {
		if st.chosen == "" {
			if passive {
				p.noPassive(w, r, req, "a role must be chosen")
				return nil
			}
			p.renderChooser(w, r, st, s, res)
			return nil
		}
		var picked []attributes.Role
		for _, role := range res.Roles {
			if role.Value() == st.chosen {
				picked = append(picked, role)
			}
		}
		if len(picked) != 1 {
			p.fail(w, r, http.StatusBadRequest, "Role not available", "The role you chose is not one of your roles for this application.", errors.New("chosen role not mapped"))
			return nil
		}
		res.Roles = picked
	}
	issues := st.sp.cfg.issuesCredentials || (req.ACSEndpoint != nil && req.ACSEndpoint.Location == p.builtinURL)
	if st.kind == idpInitiated && r.Method != http.MethodPost && issues {
		// A GET can come from a link on any site: credentials are issued
		// only on a POST of our own form. (A provider whose metadata
		// names the STS sign-in as its ACS is caught here too.)
		p.renderConfirm(w, r, st, s)
		return nil
	}
	st.session, st.result = s, res
	return &saml.Session{
		ID:           s.ID,
		CreateTime:   s.AuthnInstant,
		ExpireTime:   s.ExpiresAt,
		Index:        sessionIndex(s.ID),
		NameID:       nameIDOf(s.Identity),
		NameIDFormat: string(saml.PersistentNameIDFormat),
		UserName:     s.Identity.Username,
	}
}

// InvalidateSession implements saml.SessionInvalidator: it ends the browser's
// session when it is the one the LogoutRequest names.
func (a sessionAdapter) InvalidateSession(w http.ResponseWriter, r *http.Request, req *saml.IdpLogoutRequest) error {
	s, ok, err := a.p.sessions.Current(r)
	if err != nil {
		return err
	}
	if !ok || !req.MatchesSession(&saml.Session{NameID: nameIDOf(s.Identity), Index: sessionIndex(s.ID)}) {
		return nil
	}
	return a.p.sessions.End(w, r)
}

// mappingErrorPage is the data of the mapping_error page.
type mappingErrorPage struct {
	page
	SP       string
	Mapping  string
	Problems []attributes.Problem
}

// mappingFailed records a MappingFailed event and shows the problems. No
// assertion is made.
func (p *IdP) mappingFailed(w http.ResponseWriter, r *http.Request, st *flow, s idp.Session, me *attributes.MappingError, entityID string) {
	msgs := make([]string, len(me.Problems))
	for i, pr := range me.Problems {
		msgs[i] = pr.Message
	}
	call, err := p.call(r, s.Identity, p.now())
	if err == nil {
		rec := audit.MappingFailedEvent(call, audit.MappingFailure{ServiceProvider: st.sp.cfg.name, EntityID: entityID, Mapping: me.Mapping}, msgs)
		err = p.events.Log(r.Context(), rec)
	}
	if err != nil {
		p.log.Error("record MappingFailed", "sp", st.sp.cfg.name, "user", s.Identity.Username, "err", err)
	}
	p.log.Info("mapping failed", "sp", st.sp.cfg.name, "user", s.Identity.Username, "mapping", me.Mapping, "problems", strings.Join(msgs, "; "))
	data := mappingErrorPage{page: page{User: s.Identity.Username}, SP: st.sp.cfg.displayName, Mapping: me.Mapping, Problems: me.Problems}
	if err := p.pages.Render(w, http.StatusForbidden, "mapping_error", data); err != nil {
		p.log.Error("render mapping_error", "err", err)
	}
}

// chooserPage is the data of the role_chooser page.
type chooserPage struct {
	page
	SP     string
	Action string
	CSRF   string
	Hidden []field
	Roles  []roleChoice
	// IssuesCredentials: choosing a role issues credentials at once.
	IssuesCredentials bool
}

// confirmPage is the data of the open_app page.
type confirmPage struct {
	page
	SP     string
	Action string
	CSRF   string
	Hidden []field
}

// renderConfirm asks the person whether to open st's provider, whose
// sign-in issues credentials: a form that POSTs the same IdP-initiated
// request with the CSRF token. Nothing is issued or recorded.
func (p *IdP) renderConfirm(w http.ResponseWriter, r *http.Request, st *flow, s idp.Session) {
	data := confirmPage{page: page{User: s.Identity.Username}, SP: st.sp.cfg.displayName, Action: IdPInitiatedPath,
		CSRF: p.sessions.CSRFToken(w, r), Hidden: []field{{"sp", st.sp.cfg.name}}}
	if st.relay != "" {
		data.Hidden = append(data.Hidden, field{"RelayState", st.relay})
	}
	if err := p.pages.Render(w, http.StatusOK, "open_app", data); err != nil {
		p.log.Error("render open_app", "err", err)
	}
}

type field struct{ Name, Value string }

// roleChoice is one role on the chooser; Value is what the form posts.
type roleChoice struct {
	Value, RoleARN, ProviderARN, Account, RoleName string
}

func (p *IdP) renderChooser(w http.ResponseWriter, r *http.Request, st *flow, s idp.Session, res *attributes.Result) {
	data := chooserPage{page: page{User: s.Identity.Username}, SP: st.sp.cfg.displayName, CSRF: p.sessions.CSRFToken(w, r),
		IssuesCredentials: st.sp.cfg.issuesCredentials}
	if st.kind == idpInitiated {
		data.Action = IdPInitiatedPath
		data.Hidden = append(data.Hidden, field{"sp", st.sp.cfg.name})
		if st.relay != "" {
			data.Hidden = append(data.Hidden, field{"RelayState", st.relay})
		}
	} else {
		data.Action = SSOPath
		data.Hidden = append(data.Hidden, field{"resume", r.URL.RawQuery})
	}
	for _, role := range res.Roles {
		data.Roles = append(data.Roles, describeRole(role))
	}
	if err := p.pages.Render(w, http.StatusOK, "role_chooser", data); err != nil {
		p.log.Error("render role_chooser", "err", err)
	}
}

// describeRole splits arn:aws:iam::ACCOUNT:role/PATH/NAME for display.
func describeRole(role attributes.Role) roleChoice {
	c := roleChoice{Value: role.Value(), RoleARN: role.RoleARN, ProviderARN: role.ProviderARN, RoleName: role.RoleARN}
	if a, err := idp.ParseARN(role.RoleARN); err == nil {
		c.Account = a.Account()
		if strings.Contains(a.Resource(), "/") {
			c.RoleName = a.ResourceName()
		}
	}
	return c
}
