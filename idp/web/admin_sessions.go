package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/store"
)

// AdminSessionsOptions configure the console's Sessions section.
type AdminSessionsOptions struct {
	// Store keeps browser and STS sessions.
	Store store.Store
	// Audit writes each revocation's Admin* record in its transaction.
	Audit AdminTxLog
}

// AdminSessions is the console's Sessions section: browser sessions and
// STS sessions, filtered by person or by source identity, revoked one at a
// time or all of a person's.
type AdminSessions struct {
	p   *IdP
	opt AdminSessionsOptions
}

// AdminSessions returns the Sessions section's handlers; mount them with
// AdminPage and AdminAction.
func (p *IdP) AdminSessions(opt AdminSessionsOptions) (*AdminSessions, error) {
	if opt.Store == nil || opt.Audit == nil {
		return nil, errors.New("web: admin sessions: Store and Audit are required")
	}
	return &AdminSessions{p: p, opt: opt}, nil
}

// Query parameters and form fields of the Sessions section; the source
// identity's is the CLI flag's name (sts sessions --source-identity).
const (
	paramPerson         = "person"
	paramSourceIdentity = "source-identity"
)

// adminSessionsLimit caps each list of the page.
const adminSessionsLimit = 200

// AdminSessionsPage is the Page of "admin_sessions".
type AdminSessionsPage struct {
	Person         string
	SourceIdentity string
	All            bool
	Browser        []AdminBrowserSession
	STS            []AdminSTSSession
	// Limit is the most sessions each list shows.
	Limit int
	// Query is the filter as a query string, for the links back.
	Query string
}

// AdminBrowserSession is a browser session as the console shows it: its
// handle is derived from the stored hash, never the cookie's value.
type AdminBrowserSession struct {
	Handle    string
	Person    string // qualified name
	Connector string
	SignedIn  string
	Expires   string
	State     string
	Live      bool
}

// AdminSTSSession is an STS session as the console shows it.
type AdminSTSSession struct {
	AccessKeyID    string
	RoleARN        string
	SessionName    string
	SourceIdentity string
	Parent         string
	Issued         string
	Expires        string
	State          string
	Live           bool
}

var sourceIdentityRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// List is GET /admin/sessions[?person=NAME][&source-identity=SI][&all=1].
func (a *AdminSessions) List(r *http.Request, _ idp.Session) (any, error) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case paramPerson, paramSourceIdentity, "all", "notice":
		default:
			return nil, idp.Errorf(idp.EInvalid, "Unknown filter %q: the filters are %s, %s and all.", k, paramPerson, paramSourceIdentity)
		}
	}
	page := AdminSessionsPage{Person: strings.TrimSpace(q.Get(paramPerson)), SourceIdentity: strings.TrimSpace(q.Get(paramSourceIdentity)),
		All: q.Get("all") == "1", Limit: adminSessionsLimit}
	if page.SourceIdentity != "" && !sourceIdentityRe.MatchString(page.SourceIdentity) {
		return nil, idp.Errorf(idp.EInvalid, "Source identity %q is not one: 2 to 64 letters, digits and +=,.@-_.", page.SourceIdentity)
	}
	page.Query = sessionsQuery(page.Person, page.SourceIdentity, page.All)
	now := a.p.opt.Now()
	ctx := r.Context()
	// With only a source identity the browser list stays empty, and with
	// only a person the STS list: each filter names its own kind.
	if page.Person != "" || page.SourceIdentity == "" {
		f := store.BrowserSessionFilter{Limit: adminSessionsLimit}
		if page.Person != "" {
			f.Connector, f.Username = a.p.resolvePerson(page.Person)
		}
		if !page.All {
			f.ActiveAt = now
		}
		list, err := a.opt.Store.ListBrowserSessions(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list browser sessions: %w", err)
		}
		for _, s := range list {
			page.Browser = append(page.Browser, browserView(s, now))
		}
	}
	if page.SourceIdentity != "" || page.Person == "" {
		f := store.STSSessionFilter{SourceIdentity: page.SourceIdentity, Limit: adminSessionsLimit}
		if !page.All {
			f.ActiveAt = now
		}
		list, err := a.opt.Store.ListSTSSessions(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list STS sessions: %w", err)
		}
		for _, s := range list {
			page.STS = append(page.STS, stsView(s, now))
		}
	}
	return page, nil
}

// RevokeBrowser is POST /admin/sessions/browser/revoke: person and handle
// name one browser session (AdminSessionRevoked).
func (a *AdminSessions) RevokeBrowser(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	person, handle := strings.TrimSpace(r.PostFormValue(paramPerson)), r.PostFormValue("handle")
	if person == "" || handle == "" {
		return "", idp.Errorf(idp.EInvalid, "Name the session: person and handle are required.")
	}
	conn, user := a.p.resolvePerson(person)
	ctx := r.Context()
	now := a.p.opt.Now().UTC()
	err := a.opt.Store.InTx(ctx, func(tx store.Tx) error {
		list, err := tx.ListBrowserSessions(ctx, store.BrowserSessionFilter{Connector: conn, Username: user, ActiveAt: now, Limit: store.DefaultBrowserSessionLimit})
		if err != nil {
			return err
		}
		for _, bs := range list {
			if sessionHandle(bs.IDHash) != handle {
				continue
			}
			if err := tx.RevokeBrowserSession(ctx, bs.IDHash, now); err != nil {
				return err
			}
			return a.record(r, tx, s, audit.AdminSessionRevoked, audit.TargetSession, handle, nil,
				map[string]any{"kind": "browser", "person": qualified(bs.Username, bs.Connector)})
		}
		return idp.Errorf(idp.ENotFound, "%s has no live browser session %s.", person, handle)
	})
	if err != nil {
		return "", err
	}
	return AdminNotice("/admin/sessions?"+sessionsQuery(person, "", false), "Ended the browser session "+handle+" of "+person+"."), nil
}

// RevokeSTS is POST /admin/sessions/sts/revoke: the STS session with
// access key ID key and every session chained from it
// (AdminSessionsRevoked, as `sts revoke`).
func (a *AdminSessions) RevokeSTS(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	key := strings.TrimSpace(r.PostFormValue("key"))
	if key == "" {
		return "", idp.Errorf(idp.EInvalid, "Name the session: its access key ID is required.")
	}
	ctx := r.Context()
	var revoked []store.STSSession
	err := a.opt.Store.InTx(ctx, func(tx store.Tx) error {
		sess, err := tx.GetSTSSession(ctx, key)
		if err != nil {
			return err
		}
		if revoked, err = tx.RevokeSTSSessionChain(ctx, key, a.p.opt.Now().UTC()); err != nil {
			return err
		}
		after := revokedAfter(revoked, "revoke of session "+key+" and the sessions chained from it")
		after["roleArn"], after["roleSessionName"], after["sourceIdentity"] = sess.RoleARN, sess.SessionName, sess.SourceIdentity
		return a.record(r, tx, s, audit.AdminSessionsRevoked, "STSSession", key, nil, after)
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", idp.Errorf(idp.ENotFound, "No STS session has the access key ID %s.", key)
	}
	if err != nil {
		return "", err
	}
	return AdminNotice(a.back(r), fmt.Sprintf("Revoked %d STS session(s): %s and the sessions chained from it.", len(revoked), key)), nil
}

// RevokeAll is POST /admin/sessions/revoke-all: every browser session of
// person, and every live STS session carrying source-identity; at least
// one of the two. One AdminSessionsRevoked record for each kind.
func (a *AdminSessions) RevokeAll(_ http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
	person, si := strings.TrimSpace(r.PostFormValue(paramPerson)), strings.TrimSpace(r.PostFormValue(paramSourceIdentity))
	if person == "" && si == "" {
		return "", idp.Errorf(idp.EInvalid, "Name whose sessions to revoke: a person, a source identity, or both.")
	}
	if si != "" && !sourceIdentityRe.MatchString(si) {
		return "", idp.Errorf(idp.EInvalid, "Source identity %q is not one: 2 to 64 letters, digits and +=,.@-_.", si)
	}
	if person != "" && isSelf(s, person) {
		return "", idp.Errorf(idp.EInvalid, "You cannot end your own browser sessions here: sign out instead.")
	}
	ctx := r.Context()
	now := a.p.opt.Now().UTC()
	var browser int
	var sts []store.STSSession
	err := a.opt.Store.InTx(ctx, func(tx store.Tx) error {
		if person != "" {
			conn, user := a.p.resolvePerson(person)
			n, err := tx.RevokeUserBrowserSessions(ctx, conn, user, now)
			if err != nil {
				return err
			}
			browser = n
			if err := a.record(r, tx, s, audit.AdminSessionsRevoked, "Person", qualified(user, conn), nil,
				map[string]any{"kind": "browser", "count": n}); err != nil {
				return err
			}
		}
		if si != "" {
			var err error
			if sts, err = tx.RevokeSTSSessionsBySourceIdentity(ctx, si, now); err != nil {
				return err
			}
			after := revokedAfter(sts, "revoke of every live session carrying source identity "+si)
			if err := a.record(r, tx, s, audit.AdminSessionsRevoked, "SourceIdentity", si, nil, after); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	var said []string
	if person != "" {
		said = append(said, fmt.Sprintf("ended %d browser session(s) of %s", browser, person))
	}
	if si != "" {
		said = append(said, fmt.Sprintf("revoked %d STS session(s) carrying source identity %s", len(sts), si))
	}
	msg := strings.Join(said, "; ")
	return AdminNotice("/admin/sessions?"+sessionsQuery(person, si, false), strings.ToUpper(msg[:1])+msg[1:]+"."), nil
}

// back is the sessions page with the filter the form came from.
func (a *AdminSessions) back(r *http.Request) string {
	return "/admin/sessions?" + sessionsQuery(strings.TrimSpace(r.PostFormValue(paramPerson)), strings.TrimSpace(r.PostFormValue(paramSourceIdentity)), false)
}

func (a *AdminSessions) record(r *http.Request, tx store.Tx, s idp.Session, action audit.AdminAction, targetType, target string, before, after any) error {
	rec, err := a.p.AdminEvent(r, s, action, targetType, target, before, after)
	if err != nil {
		return err
	}
	if err := a.opt.Audit.Append(r.Context(), tx, rec); err != nil {
		return fmt.Errorf("write the %s audit record: %w", action, err)
	}
	return nil
}

// resolvePerson splits a qualified name: "diego@corp-ad" is diego of the
// connector corp-ad when that is a connector of the IdP other than the
// local one; any other name is a local account.
func (p *IdP) resolvePerson(name string) (connector, username string) {
	if i := strings.LastIndex(name, "@"); i > 0 {
		for _, c := range p.conns {
			if c.Name != local.Name && c.Name == name[i+1:] {
				return c.Name, name[:i]
			}
		}
	}
	return local.Name, name
}

func qualified(username, connector string) string {
	return idp.Identity{Username: username, Connector: connector}.QualifiedName()
}

// sessionHandle is the public name of a browser session: derived from the
// stored hash of its ID, so it reveals neither the cookie nor the hash.
func sessionHandle(idHash []byte) string {
	h := sha256.Sum256(append([]byte("idpbridge admin session handle\x00"), idHash...))
	return hex.EncodeToString(h[:8])
}

func sessionsQuery(person, si string, all bool) string {
	v := url.Values{}
	if person != "" {
		v.Set(paramPerson, person)
	}
	if si != "" {
		v.Set(paramSourceIdentity, si)
	}
	if all {
		v.Set("all", "1")
	}
	return v.Encode()
}

// revokedAfter is what a revocation record says: how many sessions, why,
// and their access key IDs (public handles, not secrets).
func revokedAfter(revoked []store.STSSession, reason string) map[string]any {
	keys := make([]string, 0, len(revoked))
	for _, x := range revoked {
		keys = append(keys, x.AccessKeyID)
	}
	return map[string]any{"count": len(revoked), "reason": reason, "accessKeyIds": keys}
}

const adminTime = "2006-01-02 15:04:05 UTC"

func browserView(s store.BrowserSession, now time.Time) AdminBrowserSession {
	v := AdminBrowserSession{Handle: sessionHandle(s.IDHash), Person: qualified(s.Username, s.Connector), Connector: s.Connector,
		SignedIn: s.AuthnInstant.UTC().Format(adminTime), Expires: s.ExpiresAt.UTC().Format(adminTime)}
	v.State, v.Live = sessionState(s.RevokedAt, s.ExpiresAt, now)
	return v
}

func stsView(s store.STSSession, now time.Time) AdminSTSSession {
	v := AdminSTSSession{AccessKeyID: s.AccessKeyID, RoleARN: s.RoleARN, SessionName: s.SessionName, SourceIdentity: s.SourceIdentity,
		Parent: s.ParentAccessKeyID, Issued: s.IssuedAt.UTC().Format(adminTime), Expires: s.ExpiresAt.UTC().Format(adminTime)}
	v.State, v.Live = sessionState(s.RevokedAt, s.ExpiresAt, now)
	return v
}

func sessionState(revoked, expires, now time.Time) (string, bool) {
	switch {
	case !revoked.IsZero():
		return "revoked " + revoked.UTC().Format(adminTime), false
	case !now.Before(expires):
		return "expired", false
	}
	return "live", true
}
