package samlverify

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
	"net/url"
	"time"
)

// verify returns the assertion, or a rejection, or a failure of the
// verifier itself.
func verify(ctx context.Context, samlResponseB64 string, p Provider, opt Options) (*Assertion, *Error, error) {
	cfg, err := newConfig(p, opt)
	if err != nil {
		return nil, nil, err
	}

	// 1. Size and shape, before and while parsing.
	raw, rej := decode(samlResponseB64)
	if rej != nil {
		return nil, rej, nil
	}
	if err := prescan(raw); err != nil {
		return nil, invalid("xml: %v", err), nil
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return nil, invalid("xml: %v", err), nil
	}
	root := doc.Root()
	if root == nil {
		return nil, invalid("xml: no root element"), nil
	}
	if err := checkShape(root); err != nil {
		return nil, invalid("shape: %v", err), nil
	}
	assertionEl := childEl(root, "Assertion")

	// 2. Signatures: which exist, their algorithms and references, and the
	// pinned keys that may have made them.
	usable, why := usableCerts(p.Certs, cfg.Now)
	plans := map[string]signaturePlan{}
	for _, el := range []*etree.Element{root, assertionEl} {
		sig := childEl(el, "Signature")
		if sig == nil {
			continue
		}
		plan, err := checkSignature(sig, attr(el, "ID"), p.Certs, usable, why)
		if err != nil {
			return nil, invalid("signature on %s: %v", el.Tag, err), nil
		}
		plans[el.Tag] = plan
	}
	if len(plans) == 0 {
		return nil, invalid("neither the Response nor the Assertion is signed"), nil
	}
	_, responseSigned := plans["Response"]

	// 3. An unsigned Response's own fields vouch for nothing and may be
	// checked at once; a signed one's are checked once verified.
	if !responseSigned {
		if rej := cfg.checkResponse(p, readResponse(root), false); rej != nil {
			return nil, rej, nil
		}
	}

	// 4. crewjam: signatures (through checker), structure, conditions.
	checker := &signatureChecker{
		plans:  plans,
		signed: map[string]*etree.Element{},
		failed: map[string]error{},
		clock:  dsig.NewFakeClockAt(cfg.Now),
	}
	acs, destination := cfg.crewjamURLs(root, assertionEl)
	sp := newServiceProvider(p, usable, acs, earliestIssue(root, assertionEl), cfg.Now, checker)
	got, crewErr := sp.ParseXMLResponse(raw, nil, *destination)

	// 5. The strict profile, on what the signatures covered.
	signedAssertion, err := coveredAssertion(got, checker, crewErr)
	if err != nil {
		return nil, invalid("%v", err), nil
	}
	if responseSigned {
		if rej := cfg.checkResponse(p, readResponse(checker.signed["Response"]), true); rej != nil {
			return nil, rej, nil
		}
	}
	if signedAssertion.ID != attr(assertionEl, "ID") {
		return nil, invalid("the signed assertion's ID %q is not the received one's", signedAssertion.ID), nil
	}
	fields := crewjamFields(signedAssertion)
	out, rej := cfg.checkAssertion(p, fields)
	if rej != nil {
		return nil, rej, nil
	}
	if crewErr != nil {
		return nil, invalid("crewjam: %v", crewErr), nil
	}
	if responseSigned {
		out.Destination = attr(checker.signed["Response"], "Destination")
	}

	// 6. Replay, last: only a response that passed everything else is
	// remembered.
	fresh, err := cfg.Replay.Remember(ctx, out.Issuer, out.ID, replayUntil(fields).Add(cfg.MaxSkew))
	if err != nil {
		return nil, nil, fmt.Errorf("samlverify: replay cache: %w", err)
	}
	if !fresh {
		return nil, reject(CodeInvalidIdentityToken, MsgReplay, "assertion %q of %q was already used", out.ID, out.Issuer), nil
	}
	return out, nil, nil
}

// coveredAssertion returns the assertion as the signature covering it
// covered it: read from the element goxmldsig rebuilt from the bytes it
// digested (the Assertion's own signature, else the Response's), never
// from the document as received nor from crewjam's result. When crewjam
// rejected the response it is still returned if that signature verified
// and crewjam's objection is not about a signature, so that Verify can
// say precisely why with the code AWS uses; otherwise the error says why
// the response is rejected.
func coveredAssertion(got *saml.Assertion, checker *signatureChecker, crewErr error) (*saml.Assertion, error) {
	for _, tag := range []string{"Response", "Assertion"} {
		if err := checker.failed[tag]; err != nil {
			return nil, fmt.Errorf("signature on %s: %v", tag, err)
		}
	}
	if crewErr != nil && errors.Is(crewErr, saml.ErrInvalidSignature) {
		return nil, fmt.Errorf("crewjam: %w", crewErr)
	}
	el := checker.signed["Assertion"]
	if el == nil {
		if resp := checker.signed["Response"]; resp != nil {
			el = childEl(resp, "Assertion")
		}
	}
	if el == nil {
		if crewErr != nil {
			return nil, fmt.Errorf("crewjam: %w", crewErr)
		}
		return nil, errors.New("no verified signature covers the assertion")
	}
	var a saml.Assertion
	if err := unmarshal(el, &a); err != nil {
		return nil, fmt.Errorf("reading the signed assertion: %v (crewjam: %v)", err, crewErr)
	}
	if crewErr == nil && (got == nil || got.ID != a.ID) {
		return nil, errors.New("crewjam returned another assertion than the signed one")
	}
	return &a, nil
}

// unmarshal reads el, an element of a verified tree, into v, with the
// namespace declarations it inherits.
func unmarshal(el *etree.Element, v any) error {
	c := el.Copy()
	for p := el.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			if (a.Space == "xmlns" || a.Space == "" && a.Key == "xmlns") && c.SelectAttr(a.FullKey()) == nil {
				c.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	d := etree.NewDocument()
	d.SetRoot(c)
	b, err := d.WriteToBytes()
	if err != nil {
		return err
	}
	return xml.Unmarshal(b, v)
}

// crewjamURLs picks, for crewjam's single ACS URL and current URL, the
// accepted recipients the response names, or else the first accepted one
// (crewjam then refuses the response, and Verify says why).
func (c *config) crewjamURLs(root, assertionEl *etree.Element) (acs, destination *url.URL) {
	acs = c.recipients[c.Recipients[0]]
	for _, sc := range childEls(childEl(assertionEl, "Subject"), "SubjectConfirmation") {
		if u, ok := c.recipients[attr(childEl(sc, "SubjectConfirmationData"), "Recipient")]; ok {
			acs = u
			break
		}
	}
	destination = acs
	if u, ok := c.recipients[attr(root, "Destination")]; ok {
		destination = u
	}
	return acs, destination
}

// earliestIssue is the earlier of the Response's and the Assertion's
// IssueInstant (checkShape made sure both parse).
func earliestIssue(root, assertionEl *etree.Element) time.Time {
	r, _ := parseTime(attr(root, "IssueInstant"))
	a, _ := parseTime(attr(assertionEl, "IssueInstant"))
	if a.Before(r) {
		return a
	}
	return r
}

func readResponse(el *etree.Element) responseFields {
	var f responseFields
	f.version = attr(el, "Version")
	f.issueInstant, _ = parseTime(attr(el, "IssueInstant"))
	if a := unprefixedAttr(el, "Destination"); a != nil {
		f.destination, f.hasDestination = a.Value, true
	}
	if iss := childEl(el, "Issuer"); iss != nil {
		f.issuer, f.hasIssuer = textOf(iss), true
	}
	f.status = attr(childEl(childEl(el, "Status"), "StatusCode"), "Value")
	return f
}

// crewjamFields is what the strict profile reads of crewjam's assertion.
func crewjamFields(a *saml.Assertion) *assertionFields {
	f := &assertionFields{ID: a.ID, Version: a.Version, Issuer: a.Issuer.Value, IssueInstant: a.IssueInstant}
	if a.Subject != nil {
		f.Subject = &subjectFields{}
		if id := a.Subject.NameID; id != nil {
			f.Subject.NameID = &nameIDFields{Value: id.Value, Format: id.Format}
		}
		for _, sc := range a.Subject.SubjectConfirmations {
			c := confirmationFields{Method: sc.Method}
			if d := sc.SubjectConfirmationData; d != nil {
				c.Data = &confirmationData{Recipient: d.Recipient, NotBefore: d.NotBefore, NotOnOrAfter: d.NotOnOrAfter}
			}
			f.Subject.Confirmations = append(f.Subject.Confirmations, c)
		}
	}
	if c := a.Conditions; c != nil {
		f.Conditions = &conditionsFields{NotBefore: c.NotBefore, NotOnOrAfter: c.NotOnOrAfter}
		for i := range c.AudienceRestrictions {
			var auds []string
			for _, au := range c.AudienceRestrictions[i].AllAudiences() {
				auds = append(auds, au.Value)
			}
			f.Conditions.Audiences = append(f.Conditions.Audiences, auds)
		}
	}
	for _, st := range a.AuthnStatements {
		f.AuthnStatements = append(f.AuthnStatements, authnFields{AuthnInstant: st.AuthnInstant, SessionNotOnOrAfter: st.SessionNotOnOrAfter})
	}
	for _, st := range a.AttributeStatements {
		var attrs []attributeFields
		for _, at := range st.Attributes {
			x := attributeFields{Name: at.Name}
			for _, v := range at.Values {
				x.Values = append(x.Values, v.Value)
			}
			attrs = append(attrs, x)
		}
		f.AttributeStatements = append(f.AttributeStatements, attrs)
	}
	return f
}
