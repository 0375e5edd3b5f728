package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/sessions"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/store"
)

// The session cookie holds only the session ID (sidKey), encrypted and
// signed; the server-side record says who it is and whether it still holds.
const sidKey = "sid"

// sessionIDBytes is the length of a raw session ID.
const sessionIDBytes = 32

// storedIdentity is how an Identity is kept in a session record.
type storedIdentity struct {
	Username    string              `json:"username"`
	Email       string              `json:"email,omitempty"`
	DisplayName string              `json:"displayName,omitempty"`
	Groups      []string            `json:"groups,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
	Connector   string              `json:"connector"`
}

func encodeIdentity(id idp.Identity) ([]byte, error) {
	return json.Marshal(storedIdentity(id))
}

func decodeIdentity(b []byte) (idp.Identity, error) {
	var s storedIdentity
	if err := json.Unmarshal(b, &s); err != nil {
		return idp.Identity{}, err
	}
	return idp.Identity(s), nil
}

func (p *IdP) cookieOptions(maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: p.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// sessionID returns the raw session ID carried by r's session cookie.
func (p *IdP) sessionID(r *http.Request) ([]byte, bool) {
	s, err := p.cookies.New(r, p.sessName)
	if err != nil || s.IsNew {
		return nil, false
	}
	v, _ := s.Values[sidKey].(string)
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) != sessionIDBytes {
		return nil, false
	}
	return raw, true
}

func hashID(raw []byte) []byte {
	h := sha256.Sum256(raw)
	return h[:]
}

// Current implements sso.Sessions.
func (p *IdP) Current(r *http.Request) (idp.Session, bool, error) {
	raw, ok := p.sessionID(r)
	if !ok {
		return idp.Session{}, false, nil
	}
	return p.session(r.Context(), hashID(raw))
}

// session loads the record with idHash and says whether it is a live
// session of an account that may still sign in.
func (p *IdP) session(ctx context.Context, idHash []byte) (idp.Session, bool, error) {
	rec, err := p.opt.Store.GetBrowserSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return idp.Session{}, false, nil
	}
	if err != nil {
		return idp.Session{}, false, fmt.Errorf("read session: %w", err)
	}
	if !rec.RevokedAt.IsZero() || !p.opt.Now().Before(rec.ExpiresAt) {
		return idp.Session{}, false, nil
	}
	c, _ := p.connectorByName(rec.Connector)
	if ac, ok := c.Password.(connector.AccountChecker); ok {
		active, err := ac.Active(ctx, rec.Username)
		if err != nil {
			return idp.Session{}, false, fmt.Errorf("check account %q: %w", rec.Username, err)
		}
		if !active {
			return idp.Session{}, false, nil
		}
	}
	id, err := decodeIdentity(rec.Identity)
	if err != nil {
		return idp.Session{}, false, fmt.Errorf("session of %q: identity: %w", rec.Username, err)
	}
	return idp.Session{ID: hex.EncodeToString(rec.IDHash), Identity: id, AuthnInstant: rec.AuthnInstant, ExpiresAt: rec.ExpiresAt}, true, nil
}

// LoginURL implements sso.Sessions. A next that is not a local path is
// dropped: the person then lands on the portal after signing in.
func (p *IdP) LoginURL(next string) string {
	if next = safeNext(next); next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// ReauthURL implements sso.Sessions: the login page with reauth=1, which
// asks the signed-in person for the password again instead of passing a
// live session through to next.
func (p *IdP) ReauthURL(next string) string {
	if next = safeNext(next); next == "" {
		return "/login?reauth=1"
	}
	return "/login?reauth=1&next=" + url.QueryEscape(next)
}

// MAC implements sso.Sessions, under a key derived from the secret for
// this purpose alone.
func (p *IdP) MAC(parts ...string) []byte { return mac(p.roundTripKey, parts...) }

// End implements sso.Sessions (single logout): it ends the session and
// writes its SignOut record. Without a session it only clears the cookie.
func (p *IdP) End(w http.ResponseWriter, r *http.Request) error {
	now := p.opt.Now()
	s, live, err := p.end(w, r)
	if err != nil {
		return err
	}
	if live {
		p.recordSignOut(r, now, s)
	}
	return nil
}

// end revokes r's session and then clears its cookie, returning who it was
// (live=false when there was no live session). When the revocation fails
// the cookie is kept, so that the person can try again.
func (p *IdP) end(w http.ResponseWriter, r *http.Request) (s idp.Session, live bool, err error) {
	raw, ok := p.sessionID(r)
	if !ok {
		p.clearSessionCookie(w)
		p.setSessionState(w, stateOut)
		return idp.Session{}, false, nil
	}
	s, live, err = p.session(r.Context(), hashID(raw))
	if err != nil {
		// Revoke all the same: the record may be readable later.
		p.log.Warn("sign-out: read session", "err", err)
		s, live = idp.Session{}, false
	}
	err = p.opt.Store.RevokeBrowserSession(r.Context(), hashID(raw), p.opt.Now().UTC())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return s, live, fmt.Errorf("revoke session: %w", err)
	}
	p.clearSessionCookie(w)
	p.setSessionState(w, stateOut)
	return s, live, nil
}

// newSession stores a session for id and returns its raw ID; the caller
// sets the cookie once the sign-in is recorded.
func (p *IdP) newSession(ctx context.Context, id idp.Identity, authn time.Time) ([]byte, store.BrowserSession, error) {
	raw := make([]byte, sessionIDBytes)
	if _, err := io.ReadFull(p.opt.Rand, raw); err != nil {
		return nil, store.BrowserSession{}, fmt.Errorf("session id: %w", err)
	}
	ident, err := encodeIdentity(id)
	if err != nil {
		return nil, store.BrowserSession{}, fmt.Errorf("session identity: %w", err)
	}
	now := p.opt.Now().UTC()
	rec := store.BrowserSession{
		IDHash:       hashID(raw),
		Username:     id.Username,
		Connector:    id.Connector,
		Identity:     ident,
		CreatedAt:    now,
		AuthnInstant: authn.UTC(),
		ExpiresAt:    now.Add(p.opt.SessionLifetime),
	}
	if err := p.opt.Store.CreateBrowserSession(ctx, rec); err != nil {
		return nil, store.BrowserSession{}, fmt.Errorf("store session: %w", err)
	}
	return raw, rec, nil
}

// setSessionCookie sends the cookie naming the session raw.
func (p *IdP) setSessionCookie(w http.ResponseWriter, r *http.Request, raw []byte) error {
	s := sessions.NewSession(p.cookies, p.sessName)
	s.Options = p.cookieOptions(int(p.opt.SessionLifetime / time.Second))
	s.IsNew = true
	s.Values[sidKey] = base64.RawURLEncoding.EncodeToString(raw)
	return p.cookies.Save(r, w, s)
}

func (p *IdP) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, sessions.NewCookie(p.sessName, "", p.cookieOptions(-1)))
}

// The state cookie remembers, past the session cookie, how the browser's
// last session ended, so that the login form can say it: stateIn (signed
// in; when the form is shown the session is over: it expired or was
// revoked) or stateOut (signed out here). It holds no secret; a forged
// value only changes the notice.
const (
	stateIn  = "in"
	stateOut = "out"
	// stateGrace is how long after a session's end the form still says
	// that it expired.
	stateGrace = 24 * time.Hour
	// stateOutAge is how long "signed out" waits for the form.
	stateOutAge = 5 * time.Minute
)

// sessionState reads the state cookie: stateIn, stateOut or "".
func (p *IdP) sessionState(r *http.Request) string {
	c, err := r.Cookie(p.stateName)
	if err != nil {
		return ""
	}
	switch c.Value {
	case stateIn, stateOut:
		return c.Value
	}
	return ""
}

// setSessionState sets the state cookie to state, or clears it for "".
func (p *IdP) setSessionState(w http.ResponseWriter, state string) {
	age := -1
	switch state {
	case stateIn:
		age = int((p.opt.SessionLifetime + stateGrace) / time.Second)
	case stateOut:
		age = int(stateOutAge / time.Second)
	}
	http.SetCookie(w, sessions.NewCookie(p.stateName, state, p.cookieOptions(age)))
}
