package sso

import (
	"errors"
	"net/http"

	"github.com/crewjam/saml"
)

// sloPage is the data of the slo page: a sign-out form (Confirm) or the
// signed-out notice.
type sloPage struct {
	page
	Confirm bool
	CSRF    string
}

// serveSLO answers GET|POST /saml/slo.
//
// With a SAMLRequest (a service provider's LogoutRequest, which must be
// signed with a key from its metadata): a POST continues as the equivalent
// HTTP-Redirect GET, so that the SameSite=Lax session cookie comes along;
// the GET ends the session it names (Sessions.End) and answers the provider
// with a signed LogoutResponse at its SingleLogoutService. An invalid
// request gets an error page and ends nothing.
//
// With a SAMLResponse (a provider answering a logout it did not get from
// us), or with neither: GET shows a sign-out form (CSRF-protected) to a
// signed-in person and the signed-out notice to anyone else; POST checks
// the form, ends the session and shows the notice.
func (p *IdP) serveSLO(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			p.fail(w, r, http.StatusBadRequest, "Sign-out request refused", "The sign-out request is not valid.", err)
			return
		}
	}
	var hasRequest bool
	if r.Method == http.MethodGet {
		hasRequest = r.URL.Query().Has("SAMLRequest")
	} else {
		hasRequest = r.PostForm.Has("SAMLRequest")
	}
	if hasRequest {
		p.serveLogoutRequest(w, r)
		return
	}
	hasResponse := r.URL.Query().Has("SAMLResponse") || r.PostForm.Has("SAMLResponse")
	if r.Method == http.MethodPost && !hasResponse {
		if err := p.sessions.CheckCSRF(r); err != nil {
			p.fail(w, r, http.StatusForbidden, "Form expired", "This form expired or did not come from idpbridge. Sign out again from your portal.", err)
			return
		}
		if err := p.sessions.End(w, r); err != nil {
			p.fail(w, r, http.StatusServiceUnavailable, "Sign-out failed", "Your session could not be ended. Try again in a moment.", err)
			return
		}
		p.renderSLO(w, sloPage{})
		return
	}
	user := p.userName(r)
	if user != "" && !hasResponse {
		p.renderSLO(w, sloPage{page: page{User: user}, Confirm: true, CSRF: p.sessions.CSRFToken(w, r)})
		return
	}
	p.renderSLO(w, sloPage{page: page{User: user}})
}

func (p *IdP) renderSLO(w http.ResponseWriter, data sloPage) {
	if err := p.pages.Render(w, http.StatusOK, "slo", data); err != nil {
		p.log.Error("render slo", "err", err)
	}
}

// serveLogoutRequest handles a service provider's LogoutRequest.
func (p *IdP) serveLogoutRequest(w http.ResponseWriter, r *http.Request) {
	msg, err := precheckRequest(r, "SAMLRequest")
	if err == nil && msg == nil {
		err = errors.New("empty SAMLRequest")
	}
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Sign-out request refused", "The sign-out request from the application is not valid.", err)
		return
	}
	if r.Method == http.MethodPost {
		http.Redirect(w, r, SLOPath+"?"+redirectQuery(msg, r.PostForm.Get("RelayState")), http.StatusSeeOther)
		return
	}
	sidp, err := p.samlIDP(r.Context())
	if err != nil {
		p.onError(w, r, http.StatusInternalServerError, err)
		return
	}
	// Validate first, to answer an invalid request with a page of ours;
	// ServeSLO validates it again and does the work.
	lr, err := saml.NewIdpLogoutRequest(sidp, r)
	if err == nil {
		err = lr.Validate()
	}
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, "Sign-out request refused", "The sign-out request from the application is not valid.", err)
		return
	}
	sidp.ServeSLO(w, r)
}
