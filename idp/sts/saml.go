package sts

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
	"idpbridge/idp/store"
	"idpbridge/idp/sts/samlverify"
)

// Messages of AssumeRoleWithSAML (STS-SPEC §5).
const (
	msgSAMLNotAuthorized     = "Not authorized to perform sts:AssumeRoleWithSAML"
	msgRoleSessionNameNeeded = "RoleSessionName is required in AuthnResponse"
	msgRoleSessionNameBad    = "RoleSessionName in AuthnResponse must match [a-zA-Z_0-9+=,.@-]{2,64}"
	msgSourceIdentityBad     = `Source Identity must match [a-zA-Z_0-9+=,.@-]{2,64} and not begin with "aws:"`
	nameIDFormatPrefix       = "urn:oasis:names:tc:SAML:2.0:nameid-format:"
)

// ReplayCache is samlverify's replay cache over the store: entries are rows
// shared by every replica.
type ReplayCache struct {
	Store store.STSStore
	Now   func() time.Time
}

var _ samlverify.ReplayCache = ReplayCache{}

// Remember implements samlverify.ReplayCache.
func (r ReplayCache) Remember(ctx context.Context, issuer, assertionID string, until time.Time) (bool, error) {
	return r.Store.RememberSAMLAssertion(ctx, issuer, assertionID, until.UTC(), r.Now().UTC())
}

// NameQualifier is Base64(SHA1(issuer + account + "/" + providerName)), the
// NameQualifier of an AssumeRoleWithSAML response.
func NameQualifier(issuer, account, providerName string) string {
	sum := sha1.Sum([]byte(issuer + account + "/" + providerName))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// SubjectType is the NameID Format without the SAML 2.0 nameid-format
// prefix; other formats are returned unchanged.
func SubjectType(format string) string { return strings.TrimPrefix(format, nameIDFormatPrefix) }

// SAMLRequest is an AssumeRoleWithSAML call made inside idpbridge (the
// built-in sign-in page), with the client's address and user agent for the
// audit record.
type SAMLRequest struct {
	RoleARN         string
	PrincipalARN    string
	SAMLAssertion   string // base64 SAMLResponse
	DurationSeconds int    // 0: the default
	SourceIP        string
	UserAgent       string
	Secure          bool
}

// AssumeRoleWithSAML runs the action exactly as the Query API does (same
// validation, decision, credentials and audit record) and returns what it
// issued. The error is an *Error with AWS's code and message.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in SAMLRequest) (*SAMLSession, error) {
	c := &call{action: "AssumeRoleWithSAML", now: s.now().UTC(), sourceIP: in.SourceIP, userAgent: in.UserAgent,
		secure: in.Secure}
	id, e := s.requestID()
	if e != nil {
		return nil, e
	}
	c.requestID = id
	req := samlRequest{
		baseRequest:   baseRequest{RoleARN: opt{v: in.RoleARN, set: true}},
		PrincipalARN:  opt{v: in.PrincipalARN, set: true},
		SAMLAssertion: opt{v: in.SAMLAssertion, set: true},
	}
	if in.DurationSeconds != 0 {
		req.DurationSeconds = opt{v: strconv.Itoa(in.DurationSeconds), set: true}
	}
	sess, e := s.assumeRoleWithSAML(ctx, c, req)
	if e != nil {
		return nil, e
	}
	return sess, nil
}

func (s *Service) samlCall(ctx context.Context, c *call) (any, *Error) {
	sess, e := s.assumeRoleWithSAML(ctx, c, decodeSAML(c.params))
	if e != nil {
		return nil, e
	}
	return sess.xml(), nil
}

// assumeRoleWithSAML serves AssumeRoleWithSAML (STS-SPEC §5, steps 1-10).
// It is unsigned: only the role's trust policy is evaluated, for the SAML
// provider as principal. Every outcome is recorded.
func (s *Service) assumeRoleWithSAML(ctx context.Context, c *call, req samlRequest) (*SAMLSession, *Error) {
	src := &samlSource{req: req}
	d, out, e := s.run(ctx, c, src, nil)
	if e != nil {
		return nil, e
	}
	a := src.assertion
	return &SAMLSession{
		Session:       newSession(c, d.grant, out),
		Issuer:        a.Issuer,
		Audience:      a.Recipient,
		Subject:       a.NameID,
		SubjectType:   SubjectType(a.NameIDFormat),
		NameQualifier: src.qualifier,
	}, nil
}

// samlSource is an AssumeRoleWithSAML call: its principal is the SAML
// provider that signed the assertion, its session name, source identity,
// tags and duration limit are the assertion's attributes.
type samlSource struct {
	req       samlRequest
	assertion *samlverify.Assertion
	provider  *SAMLProvider
	qualifier string
	p         *principal
	// attrSeconds is the SessionDuration attribute, 0 when absent.
	attrSeconds int
}

var _ source = (*samlSource)(nil)

func (a *samlSource) action() string     { return actAssumeRoleWithSAML }
func (a *samlSource) base() *baseRequest { return &a.req.baseRequest }
func (a *samlSource) otherARNs() []string {
	return []string{a.req.PrincipalARN.v}
}
func (a *samlSource) requestTags() ([]idp.Tag, []string) { return nil, nil }

func (a *samlSource) validateOwn(v *validation, first bool) {
	if !first {
		return
	}
	if v.required(a.req.PrincipalARN, "principalArn") {
		v.check(a.req.PrincipalARN.v, "principalArn", arnType)
	}
	if v.required(a.req.SAMLAssertion, "sAMLAssertion") {
		v.check(a.req.SAMLAssertion.v, "sAMLAssertion", samlType)
	}
}

// establish verifies the assertion (steps 2-8): the provider, the
// signature with its keys only, issuer, bearer confirmation, recipient,
// audience, time, replay, then the attributes, the subject and the role
// pair.
func (a *samlSource) establish(ctx context.Context, s *Service, c *call) (*principal, *Error) {
	if e := a.verify(ctx, s, c); e != nil {
		return nil, e
	}
	p, e := a.readAttributes()
	if e != nil {
		return nil, e
	}
	as, req := a.assertion, a.req
	// 7. The subject (samlverify refuses an assertion without NameID).
	if as.NameID == "" {
		return nil, s.denySAML(c, "the assertion has no NameID")
	}
	// 8. The Role attribute must list the requested pair (either order).
	if !rolePairListed(as.Attributes[idp.AttrRole], req.RoleARN.v, req.PrincipalARN.v) {
		return nil, s.denySAML(c, "the assertion's Role attribute does not list "+req.RoleARN.v+","+req.PrincipalARN.v)
	}
	provider := a.provider
	p.provider, p.arn = provider.ARN, provider.ARN
	p.who = &policy.Principal{Kind: policy.Federated, Account: provider.Account, ARN: provider.ARN}
	p.context = func(ctx policy.Context) { samlContext(ctx, as, provider, a.qualifier) }
	p.logAttrs = []any{"provider", provider.ARN, "subject", as.NameID}
	return p, nil
}

// verify finds the provider and verifies the assertion with its keys. A
// provider that does not exist is refused like a trust policy that does
// not allow (UNCONF: AWS's choice between AccessDenied and
// InvalidIdentityToken is not documented).
func (a *samlSource) verify(ctx context.Context, s *Service, c *call) *Error {
	provider, ok := s.dir.SAMLProviderByARN(a.req.PrincipalARN.v)
	if !ok {
		return s.denySAML(c, "no SAML provider "+describeARN(a.req.PrincipalARN.v, "saml-provider"))
	}
	a.provider = provider
	md, err := provider.Metadata(ctx)
	if err != nil {
		return internal(fmt.Errorf("metadata of SAML provider %s: %w", provider.ARN, err))
	}
	decKeys, err := provider.decryptionKeys(ctx)
	if err != nil {
		return internal(err)
	}
	as, err := samlverify.Verify(ctx, a.req.SAMLAssertion.v,
		samlverify.Provider{ARN: provider.ARN, EntityID: md.EntityID, Certs: md.Certs,
			DecryptionKeys: decKeys, RequireEncryption: provider.Encryption.Required},
		samlverify.Options{Now: c.now, Recipients: s.dir.SAMLRecipients, Audiences: s.dir.SAMLRecipients,
			Replay: ReplayCache{Store: s.store, Now: func() time.Time { return c.now }}})
	if err != nil {
		var ve *samlverify.Error
		if errors.As(err, &ve) {
			s.log.Info("sts: SAML response rejected", "request_id", c.requestID, "provider", provider.ARN,
				"code", ve.Code, "reason", ve.Reason)
			return fromSAML(ve)
		}
		return internal(err)
	}
	a.assertion = as
	a.qualifier = NameQualifier(as.Issuer, provider.Account, provider.Name)
	return nil
}

// readAttributes reads the RoleSessionName, SourceIdentity, PrincipalTag,
// TransitiveTagKeys and SessionDuration attributes (step 6).
func (a *samlSource) readAttributes() (*principal, *Error) {
	attrs := a.assertion.Attributes
	p := &principal{}
	a.p = p
	names := attrs[idp.AttrRoleSessionName]
	switch {
	case len(names) == 0:
		return nil, invalidIdentityToken(msgRoleSessionNameNeeded)
	case len(names) > 1 || idp.ValidRoleSessionName(names[0]) != nil:
		return nil, invalidIdentityToken(msgRoleSessionNameBad)
	}
	p.sessionName = names[0]
	if sis, ok := attrs[idp.AttrSourceIdentity]; ok {
		if len(sis) != 1 || idp.ValidSourceIdentity(sis[0]) != nil {
			return nil, invalidIdentityToken(msgSourceIdentityBad)
		}
		p.sourceIdentity, p.passed = sis[0], true
	}
	tags, transitive, e := samlTags(attrs)
	if e != nil {
		return nil, e
	}
	p.tags, p.transitive = tags, transitive
	if ds, ok := attrs[idp.AttrSessionDuration]; ok {
		n, err := 0, error(nil)
		if len(ds) == 1 {
			n, err = strconv.Atoi(ds[0])
		}
		if len(ds) != 1 || err != nil || n < idp.MinSessionDuration || n > idp.MaxSessionDuration {
			// UNCONF: AWS's text for a bad SessionDuration attribute.
			return nil, invalidIdentityToken("SessionDuration in AuthnResponse must be a number of seconds from 900 to 43200")
		}
		a.attrSeconds = n
	}
	return p, nil
}

// limit shortens d to the SessionDuration attribute and to the assertion's
// SessionNotOnOrAfter (step 10).
func (a *samlSource) limit(c *call, d time.Duration) (time.Duration, *Error) {
	if a.attrSeconds != 0 && time.Duration(a.attrSeconds)*time.Second < d {
		d = time.Duration(a.attrSeconds) * time.Second
	}
	if end := a.assertion.SessionNotOnOrAfter; end != nil {
		left := end.Sub(c.now.Truncate(time.Second)).Truncate(time.Second)
		if left <= 0 {
			return 0, sender(CodeExpiredTokenException, samlverify.MsgExpired)
		}
		if left < d {
			d = left
		}
	}
	return d, nil
}

// denied is step 9's refusal, with the step that refused as its Reason.
func (a *samlSource) denied(_, roleARN string, role *Role, v verdict) *Error {
	e := forbidden(CodeAccessDenied, msgSAMLNotAuthorized)
	if role == nil {
		e.Reason = "no role " + describeARN(roleARN, "role")
		return e
	}
	e.Reason = "role " + describeARN(role.ARN, "role") + ": " + v.trustRefusal() + " (SAML provider " + a.provider.ARN + ")"
	return e
}

func (a *samlSource) records(s *Service, c *call, d *decision, out *issued, e *Error) []audit.Record {
	return []audit.Record{s.samlRecord(c, a, d, out, e)}
}

// fromSAML maps a verifier rejection to the STS error, with AWS's status.
func fromSAML(ve *samlverify.Error) *Error {
	status := http.StatusBadRequest
	if ve.Code == samlverify.CodeAccessDenied {
		status = http.StatusForbidden
	}
	return &Error{Code: ve.Code, Message: ve.Message, Status: status}
}

// rolePairListed reports whether a Role attribute value names the role and
// the provider, in either order.
func rolePairListed(values []string, roleARN, providerARN string) bool {
	for _, v := range values {
		a, b, ok := strings.Cut(v, ",")
		if !ok {
			continue
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		if a == roleARN && b == providerARN || a == providerARN && b == roleARN {
			return true
		}
	}
	return false
}

// samlTags reads the PrincipalTag:<Key> and TransitiveTagKeys attributes.
func samlTags(attrs map[string][]string) ([]idp.Tag, []string, *Error) {
	var names []string
	for name := range attrs {
		if strings.HasPrefix(name, idp.AttrPrincipalTagPrefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var tags []idp.Tag
	for _, name := range names {
		key := strings.TrimPrefix(name, idp.AttrPrincipalTagPrefix)
		vals := attrs[name]
		// UNCONF: AWS's texts for bad PrincipalTag attributes.
		if len(vals) != 1 {
			return nil, nil, invalidIdentityToken("PrincipalTag attribute " + printable(key, 128) + " must have exactly one value")
		}
		if idp.ValidTagKey(key) != nil || idp.ValidTagValue(vals[0]) != nil {
			return nil, nil, invalidIdentityToken("PrincipalTag attribute " + printable(key, 128) +
				` must have a key of 1 to 128 and a value of at most 256 characters of [\p{L}\p{Z}\p{N}_.:/=+\-@]`)
		}
		tags = append(tags, idp.Tag{Key: key, Value: vals[0]})
	}
	if len(tags) > idp.MaxPrincipalTags {
		return nil, nil, invalidIdentityToken("The AuthnResponse has more than 50 PrincipalTag attributes")
	}
	return tags, attrs[idp.AttrTransitiveTagKeys], nil
}

// samlAttributeKeys maps SAML attribute names (the OIDs AWS documents, and
// their friendly names) to the saml: condition keys of STS-SPEC §7.
var samlAttributeKeys = map[string]string{
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.1":  "edupersonaffiliation",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.2":  "edupersonnickname",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.3":  "edupersonorgdn",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.4":  "edupersonorgunitdn",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.5":  "edupersonprimaryaffiliation",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.6":  "edupersonprincipalname",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.7":  "edupersonentitlement",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.8":  "edupersonprimaryorgunitdn",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.9":  "edupersonscopedaffiliation",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.10": "edupersontargetedid",
	"urn:oid:1.3.6.1.4.1.5923.1.1.1.11": "edupersonassurance",
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.2":  "eduorghomepageuri",
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.3":  "eduorgidentityauthnpolicyuri",
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.4":  "eduorglegalname",
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.5":  "eduorgsuperioruri",
	"urn:oid:1.3.6.1.4.1.5923.1.2.1.6":  "eduorgwhitepagesuri",
	"urn:oid:0.9.2342.19200300.100.1.1": "uid",
	"urn:oid:0.9.2342.19200300.100.1.3": "mail",
	"urn:oid:2.5.4.3":                   "cn",
	"urn:oid:2.5.4.4":                   "surname",
	"urn:oid:2.5.4.42":                  "givenname",
	"urn:oid:2.5.4.45":                  "x500uniqueidentifier",
	"urn:oid:2.16.840.1.113730.3.1.241": "name",
	"urn:oid:1.3.6.1.4.1.25178.1.2.9":   "organizationstatus",
}

// samlContext sets the saml: keys of an AssumeRoleWithSAML request.
func samlContext(ctx policy.Context, a *samlverify.Assertion, p *SAMLProvider, qualifier string) {
	ctx.Set("saml:aud", a.Recipient)
	ctx.Set("saml:iss", a.Issuer)
	ctx.Set("saml:sub", a.NameID)
	ctx.Set("saml:sub_type", SubjectType(a.NameIDFormat))
	ctx.Set("saml:namequalifier", qualifier)
	ctx.Set("saml:doc", p.Account+"/"+p.Name)
	friendly := map[string]bool{}
	for _, k := range samlAttributeKeys {
		friendly[k] = true
	}
	for name, vals := range a.Attributes {
		key, ok := samlAttributeKeys[name]
		if !ok && friendly[strings.ToLower(name)] {
			key, ok = strings.ToLower(name), true
		}
		if ok && len(vals) > 0 {
			ctx.Set("saml:"+key, vals...)
		}
	}
	ctx.Set("aws:FederatedProvider", p.ARN)
}

// samlRecord is the audit record of an AssumeRoleWithSAML call: a SAMLUser
// once the assertion was verified, Anonymous before.
func (s *Service) samlRecord(c *call, src *samlSource, d *decision, out *issued, e *Error) audit.Record {
	req := src.req
	id := audit.Anonymous()
	p := audit.SAMLParams{RoleARN: req.RoleARN.v, PrincipalARN: req.PrincipalARN.v, Policy: req.Policy.v}
	for _, a := range req.PolicyARNs {
		p.PolicyARNs = append(p.PolicyARNs, audit.PolicyARN{ARN: a})
	}
	if n, err := strconv.Atoi(req.DurationSeconds.v); err == nil {
		p.DurationSeconds = n
	}
	if a := src.assertion; a != nil {
		id = audit.SAMLUser(src.qualifier, a.NameID)
		p.SAMLAssertionID = a.ID
		if pr := src.p; pr != nil {
			p.RoleSessionName = pr.sessionName
			p.SourceIdentity = pr.sourceIdentity
			p.PrincipalTags = tagMap(pr.tags)
			p.TransitiveTagKeys = pr.transitive
		}
		if p.SourceIdentity == "" {
			p.SourceIdentity = firstOf(a.Attributes[idp.AttrSourceIdentity])
		}
		if d.duration != 0 {
			p.DurationSeconds = int(d.duration / time.Second)
		}
	}
	var o *audit.SAMLOutput
	if d.grant != nil && out != nil {
		a := src.assertion
		o = &audit.SAMLOutput{AssumeRoleOutput: d.grant.output(out), SubjectType: SubjectType(a.NameIDFormat), Issuer: a.Issuer,
			NameQualifier: src.qualifier, Subject: a.NameID, Audience: a.Recipient}
	}
	return audit.AssumeRoleWithSAMLEvent(s.auditCall(c, id, accountOf(req.RoleARN.v)), p, o, apiError(e))
}

// tagMap is tags as a map, nil for none (audit's principalTags).
func tagMap(tags []idp.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// accountOf is the account of an ARN, "" when it is not an ARN.
func accountOf(arn string) string {
	a, err := idp.ParseARN(arn)
	if err != nil {
		return ""
	}
	return a.Account()
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// denySAML is AssumeRoleWithSAML's AccessDenied with the step that refused
// as its Reason, logged with attrs.
func (s *Service) denySAML(c *call, reason string, attrs ...any) *Error {
	s.log.Info("sts: access denied", append([]any{"request_id", c.requestID, "action", actAssumeRoleWithSAML,
		"reason", reason}, attrs...)...)
	e := forbidden(CodeAccessDenied, msgSAMLNotAuthorized)
	e.Reason = reason
	return e
}

// describeARN names an IAM resource of type typ for an administrator:
// "named idpbridge in account 123456789012" for
// arn:aws:iam::123456789012:saml-provider/idpbridge (a role's path is
// kept), or the ARN itself when it is not of that type.
func describeARN(arn, typ string) string {
	if a, err := idp.ParseARN(arn); err == nil && a.ResourceType() == typ && a.ResourceID() != "" {
		return "named " + a.ResourceID() + " in account " + a.Account()
	}
	return arn
}
