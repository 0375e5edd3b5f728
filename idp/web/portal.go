package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"idpbridge/idp"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
)

// PortalPage is the data of the "portal" page.
type PortalPage struct {
	// User is the signed-in username.
	User string
	// DisplayName is the person's name, empty when unknown.
	DisplayName string
	// Apps are the applications the person may open, one link each.
	Apps []sso.App
	// CSRFToken goes into the sign-out form.
	CSRFToken string
	// Admin: the person is an administrator (the header links the console).
	Admin bool
}

func (p *IdP) portal(w http.ResponseWriter, r *http.Request) {
	s, ok, err := p.Current(r)
	if err != nil {
		p.unavailable(w, "read session", err)
		return
	}
	if !ok {
		seeOther(w, p.LoginURL("/"))
		return
	}
	page := PortalPage{User: s.Identity.QualifiedName(), DisplayName: s.Identity.DisplayName, Admin: s.Identity.InGroup(AdminGroup)}
	if a := p.appLister(); a != nil {
		page.Apps = a.Apps(s.Identity)
	}
	page.CSRFToken = p.CSRFToken(w, r)
	if err := p.opt.Pages.Render(w, http.StatusOK, "portal", page); err != nil {
		p.log.Error("render portal", "err", err)
	}
}

type sessionKey struct{}

// SessionFrom returns the session RequireAdmin found for the request.
func SessionFrom(ctx context.Context) (idp.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(idp.Session)
	return s, ok
}

// RequireAdmin passes requests of signed-in members of AdminGroup to h,
// with their session in the context (SessionFrom). Requests with a method
// other than GET, HEAD and OPTIONS must also come from the base URL's
// origin (Origin or Referer). Refusals under /admin/api/ are Error's
// JSON body ({"error": {"code": ..., "message": ...}}): 401 when not
// signed in, 403 when signed in but not an administrator or from another
// origin. Elsewhere a browser
// that is not signed in is sent to the login page (GET) and the rest get
// an error page.
func (p *IdP) RequireAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/admin/api/")
		var user string
		refuse := func(status int, code, msg string) {
			if api {
				Error(w, r, idp.Errorf(code, "%s", msg))
				return
			}
			p.renderError(w, status, ui.ErrorPage{User: user, Title: http.StatusText(status), Message: msg})
		}
		s, ok, err := p.Current(r)
		if ok {
			user = s.Identity.QualifiedName()
		}
		switch {
		case err != nil:
			p.log.Error("admin: read session", "err", err)
			refuse(http.StatusServiceUnavailable, idp.EUnavailable, "The service is unavailable; try again later.")
		case !ok && !api && r.Method == http.MethodGet:
			seeOther(w, p.LoginURL(r.URL.RequestURI()))
		case !ok:
			refuse(http.StatusUnauthorized, idp.EUnauthorized, "Sign in first.")
		case !s.Identity.InGroup(AdminGroup):
			refuse(http.StatusForbidden, idp.EForbidden, "Only administrators may do this.")
		case !safeMethod(r.Method) && !p.sameOrigin(r):
			refuse(http.StatusForbidden, idp.EForbidden, "Requests that change data must come from this site.")
		default:
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
