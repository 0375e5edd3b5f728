package samlverify

import "time"

// checkResponse applies the strict profile to the Response's own fields:
// Version 2.0, Status Success, Issuer (if present) the provider's
// entityID, Destination (required when the Response is signed, as
// saml-bindings §3.5.5.2 says) an accepted recipient, IssueInstant not in
// the future.
func (c *config) checkResponse(p Provider, f responseFields, signed bool) *Error {
	switch {
	case f.version != "2.0":
		return invalid("Response Version %q", f.version)
	case f.status != statusSuccess:
		return reject(CodeInvalidIdentityToken, MsgStatus, "Response status %q", f.status)
	case f.hasIssuer && f.issuer != p.EntityID:
		return reject(CodeInvalidIdentityToken, MsgIssuer, "Response Issuer %q is not %q", f.issuer, p.EntityID)
	case f.hasDestination && c.recipients[f.destination] == nil:
		return reject(CodeInvalidIdentityToken, MsgAudience, "Response Destination %q is not an accepted recipient", f.destination)
	case !f.hasDestination && signed:
		return reject(CodeInvalidIdentityToken, MsgAudience, "signed Response without Destination")
	case f.issueInstant.After(c.Now.Add(c.MaxSkew)):
		return reject(CodeInvalidIdentityToken, MsgNotYetValid, "Response IssueInstant %s is in the future", f.issueInstant.Format(time.RFC3339Nano))
	}
	return nil
}

// checkAssertion applies the strict profile to the assertion a signature
// covered, in the order of STS-SPEC §5 (AssumeRoleWithSAML): Issuer, then
// the subject (no Subject or NameID is AccessDenied; it comes first
// because the confirmation checks below are about the subject), then the
// bearer confirmation, audiences and time conditions.
func (c *config) checkAssertion(p Provider, a *assertionFields) (*Assertion, *Error) {
	if a.Version != "2.0" {
		return nil, invalid("Assertion Version %q", a.Version)
	}
	if a.Issuer != p.EntityID {
		return nil, reject(CodeInvalidIdentityToken, MsgIssuer, "Assertion Issuer %q is not %q", a.Issuer, p.EntityID)
	}
	if a.Subject == nil || a.Subject.NameID == nil || a.Subject.NameID.Value == "" {
		return nil, reject(CodeAccessDenied, MsgAccessDenied, "assertion has no Subject NameID")
	}

	scs := a.Subject.Confirmations
	if len(scs) != 1 {
		return nil, invalid("%d SubjectConfirmations, not exactly one", len(scs))
	}
	if scs[0].Method != bearerMethod {
		return nil, invalid("SubjectConfirmation Method %q is not bearer", scs[0].Method)
	}
	scd := scs[0].Data
	switch {
	case scd == nil:
		return nil, invalid("bearer SubjectConfirmation without SubjectConfirmationData")
	case c.recipients[scd.Recipient] == nil:
		return nil, reject(CodeInvalidIdentityToken, MsgAudience, "Recipient %q is not an accepted recipient", scd.Recipient)
	case scd.NotOnOrAfter.IsZero():
		return nil, invalid("SubjectConfirmationData without NotOnOrAfter")
	}

	cond := a.Conditions
	if cond == nil || cond.NotBefore.IsZero() || cond.NotOnOrAfter.IsZero() {
		return nil, invalid("Conditions with NotBefore and NotOnOrAfter are required")
	}
	if len(cond.Audiences) == 0 {
		return nil, reject(CodeInvalidIdentityToken, MsgAudience, "no AudienceRestriction")
	}
	audience := ""
	for i := range cond.Audiences {
		found := ""
		for _, aud := range cond.Audiences[i] {
			if c.audiences[aud] {
				found = aud
				break
			}
		}
		if found == "" {
			return nil, reject(CodeInvalidIdentityToken, MsgAudience, "AudienceRestriction %d names no accepted audience", i+1)
		}
		if audience == "" {
			audience = found
		}
	}
	if len(a.AuthnStatements) != 1 || len(a.AttributeStatements) > 1 {
		return nil, invalid("%d AuthnStatements and %d AttributeStatements", len(a.AuthnStatements), len(a.AttributeStatements))
	}
	authn := a.AuthnStatements[0]

	if rej := c.checkTimes(a, scd, authn); rej != nil {
		return nil, rej
	}

	out := &Assertion{
		ID:                  a.ID,
		Issuer:              a.Issuer,
		NameID:              a.Subject.NameID.Value,
		NameIDFormat:        a.Subject.NameID.Format,
		Recipient:           scd.Recipient,
		Audience:            audience,
		IssueInstant:        a.IssueInstant,
		NotBefore:           cond.NotBefore,
		NotOnOrAfter:        earlier(cond.NotOnOrAfter, scd.NotOnOrAfter),
		AuthnInstant:        authn.AuthnInstant,
		SessionNotOnOrAfter: authn.SessionNotOnOrAfter,
		Attributes:          map[string][]string{},
	}
	for _, st := range a.AttributeStatements {
		for _, at := range st {
			if at.Name == "" {
				return nil, invalid("attribute without Name")
			}
			if _, dup := out.Attributes[at.Name]; dup {
				return nil, invalid("attribute %q appears twice", at.Name)
			}
			values := make([]string, len(at.Values))
			copy(values, at.Values)
			out.Attributes[at.Name] = values
		}
	}
	return out, nil
}

// checkTimes: nothing issued or valid only in the future (beyond the
// skew), nothing expired (NotOnOrAfter is exclusive: an assertion is
// expired from NotOnOrAfter + skew on), and no validity period longer
// than MaxLifetime.
func (c *config) checkTimes(a *assertionFields, scd *confirmationData, authn authnFields) *Error {
	latest := c.Now.Add(c.MaxSkew)
	for _, t := range []struct {
		name string
		at   time.Time
	}{
		{"Assertion IssueInstant", a.IssueInstant},
		{"Conditions NotBefore", a.Conditions.NotBefore},
		{"SubjectConfirmationData NotBefore", scd.NotBefore},
		{"AuthnInstant", authn.AuthnInstant},
	} {
		if t.at.After(latest) {
			return reject(CodeInvalidIdentityToken, MsgNotYetValid, "%s %s is after now + skew (%s)", t.name, t.at.Format(time.RFC3339Nano), latest.Format(time.RFC3339Nano))
		}
	}
	ends := []struct {
		name string
		at   time.Time
	}{
		{"Conditions NotOnOrAfter", a.Conditions.NotOnOrAfter},
		{"SubjectConfirmationData NotOnOrAfter", scd.NotOnOrAfter},
	}
	for _, t := range ends {
		if !c.Now.Before(t.at.Add(c.MaxSkew)) {
			return reject(CodeExpiredToken, MsgExpired, "%s %s + skew is not after now (%s)", t.name, t.at.Format(time.RFC3339Nano), c.Now.Format(time.RFC3339Nano))
		}
	}
	for _, t := range ends {
		if life := t.at.Sub(a.IssueInstant); life > c.MaxLifetime {
			return reject(CodeInvalidIdentityToken, MsgLifetime, "%s is %s after IssueInstant, more than %s", t.name, life, c.MaxLifetime)
		}
	}
	if !a.Conditions.NotBefore.Before(a.Conditions.NotOnOrAfter) {
		return invalid("Conditions NotBefore is not before NotOnOrAfter")
	}
	return nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
