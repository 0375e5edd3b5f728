package sso

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/crewjam/saml"

	"idpbridge/attributes"
	"idpbridge/idp/audit"
)

const (
	bearerMethod               = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	entityFormat               = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
	passwordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	attrNameFormatURI          = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	attrNameFormatBasic        = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// assertionMaker is crewjam's AssertionMaker: the assertion carries exactly
// the attributes of the mapping result the session adapter stored in the
// flow, nothing of crewjam's defaults.
type assertionMaker struct{ p *IdP }

var _ saml.AssertionMaker = assertionMaker{}

// MakeAssertion implements saml.AssertionMaker. The assertion is:
// Issuer the IdP's entity ID; Subject a persistent NameID (the username)
// with one bearer SubjectConfirmation whose Recipient is the ACS URL
// from the provider's metadata and whose NotOnOrAfter ends the lifetime;
// Conditions from now-1m to now+lifetime with the provider's entity ID as
// the only audience; one AuthnStatement (PasswordProtectedTransport, the
// session's AuthnInstant and SessionIndex); one AttributeStatement with the
// mapped attributes in attributes.Result.SAMLAttributes order.
func (m assertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	p := m.p
	st := flowFrom(req.HTTPRequest.Context())
	if st == nil || st.result == nil {
		return errors.New("sso: assertion requested without a mapped person")
	}
	id, err := newAssertionID(p.rand)
	if err != nil {
		return err
	}
	now := p.now().UTC()
	spEntity := req.ServiceProviderMetadata.EntityID
	until := now.Add(p.lifetime)
	req.Assertion = &saml.Assertion{
		ID:           id,
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       saml.Issuer{Format: entityFormat, Value: p.entityID},
		Subject: &saml.Subject{
			NameID: &saml.NameID{
				Format:          string(saml.PersistentNameIDFormat),
				NameQualifier:   p.entityID,
				SPNameQualifier: spEntity,
				Value:           session.NameID,
			},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: bearerMethod,
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					InResponseTo: req.Request.ID,
					NotOnOrAfter: until,
					Recipient:    req.ACSEndpoint.Location,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore:            now.Add(-notBeforeSkew),
			NotOnOrAfter:         until,
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: spEntity}}},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant: session.CreateTime.UTC(),
			SessionIndex: session.Index,
			AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: passwordProtectedTransport}},
		}},
		AttributeStatements: []saml.AttributeStatement{{Attributes: samlAttributes(st.result)}},
	}
	st.assertionID = id
	return nil
}

// samlAttributes converts the mapped attributes: URI names get the uri
// NameFormat, others basic; every value is an xs:string.
func samlAttributes(res *attributes.Result) []saml.Attribute {
	mapped := res.SAMLAttributes()
	out := make([]saml.Attribute, 0, len(mapped))
	for _, a := range mapped {
		format := attrNameFormatBasic
		if strings.Contains(a.Name, ":") {
			format = attrNameFormatURI
		}
		vs := make([]saml.AttributeValue, len(a.Values))
		for i, v := range a.Values {
			vs[i] = saml.AttributeValue{Type: "xs:string", Value: v}
		}
		out = append(out, saml.Attribute{Name: a.Name, NameFormat: format, Values: vs})
	}
	return out
}

// newAssertionID is "_" and 20 random bytes in hex (an NCName).
func newAssertionID(rand io.Reader) (string, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return "_" + hex.EncodeToString(b), nil
}

// responseWriter is crewjam's ResponseWriter: it signs the Response, writes
// the IssueAssertion record, and only then renders the auto-submitting form.
type responseWriter struct{ p *IdP }

var _ saml.ResponseWriter = responseWriter{}

// postPage is the data of the saml_post page.
type postPage struct {
	page
	SP           string
	URL          string
	SAMLResponse string
	RelayState   string
}

// WriteResponse implements saml.ResponseWriter. The assertion consumer
// service must use the HTTP-POST binding. A Response with an assertion is
// sent only once its IssueAssertion record is written; an error Response
// (no assertion) is sent as is.
func (rw responseWriter) WriteResponse(w http.ResponseWriter, req *saml.IdpAuthnRequest) error {
	p := rw.p
	st := flowFrom(req.HTTPRequest.Context())
	if st != nil && st.sp != nil {
		if err := makeResponse(req, st.sp.cfg.sign, p.rand); err != nil {
			return err
		}
	}
	form, err := req.PostBinding()
	if err != nil {
		return err
	}
	data := postPage{URL: form.URL, SAMLResponse: form.SAMLResponse, RelayState: form.RelayState}
	if st != nil && st.sp != nil {
		data.SP = st.sp.cfg.displayName
	}
	if req.Assertion != nil {
		if st == nil || st.result == nil {
			return errors.New("sso: response without a mapped person")
		}
		data.User = st.session.Identity.Username
		rec, err := p.issueEvent(req, st)
		if err != nil {
			return err
		}
		if err := p.events.Log(req.HTTPRequest.Context(), rec); err != nil {
			return fmt.Errorf("%w: IssueAssertion: %v", errAudit, err)
		}
		p.log.Info("assertion issued", "sp", st.sp.cfg.name, "user", st.session.Identity.Username,
			"assertion_id", st.assertionID, "source_identity", st.result.SourceIdentity)
	}
	return p.pages.Render(w, http.StatusOK, "saml_post", data)
}

// issueEvent builds the IssueAssertion record: the provider, the NameID,
// the assertion ID, the source identity, role session name, roles, session
// duration and tags; never the assertion.
func (p *IdP) issueEvent(req *saml.IdpAuthnRequest, st *flow) (audit.Record, error) {
	call, err := p.call(req.HTTPRequest, st.session.Identity, p.now())
	if err != nil {
		return audit.Record{}, err
	}
	res := st.result
	resp := audit.AssertionResponse{
		AssertionID:     st.assertionID,
		NameID:          req.Assertion.Subject.NameID.Value,
		NameIDFormat:    req.Assertion.Subject.NameID.Format,
		SourceIdentity:  res.SourceIdentity,
		RoleSessionName: res.RoleSessionName,
		SessionDuration: res.SessionDuration,
	}
	for _, r := range res.Roles {
		resp.Roles = append(resp.Roles, r.RoleARN)
	}
	if len(res.PrincipalTags) > 0 {
		resp.PrincipalTags = map[string]string{}
		for _, t := range res.PrincipalTags {
			resp.PrincipalTags[t.Key] = t.Value
		}
	}
	return audit.IssueAssertionEvent(call,
		audit.AssertionRequest{ServiceProvider: st.sp.cfg.name, EntityID: req.ServiceProviderMetadata.EntityID}, resp), nil
}
