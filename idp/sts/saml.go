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

	"idpbridge/attributes"
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

// SAMLSession is what AssumeRoleWithSAML issued: the response's Result and
// its RequestId.
type SAMLSession struct {
	Result    AssumeRoleWithSAMLResult
	RequestID string
}

// AssumeRoleWithSAML runs the action exactly as the Query API does (same
// validation, decision, credentials and audit record). The error is an
// *Error with AWS's code and message.
func (s *Service) AssumeRoleWithSAML(ctx context.Context, in SAMLRequest) (*SAMLSession, error) {
	c := &call{action: "AssumeRoleWithSAML", requestID: s.newID(), now: s.now().UTC(), sourceIP: in.SourceIP,
		userAgent: in.UserAgent, secure: in.Secure}
	req := samlRequest{
		RoleARN:       opt{v: in.RoleARN, set: true},
		PrincipalARN:  opt{v: in.PrincipalARN, set: true},
		SAMLAssertion: opt{v: in.SAMLAssertion, set: true},
	}
	if in.DurationSeconds != 0 {
		req.DurationSeconds = opt{v: strconv.Itoa(in.DurationSeconds), set: true}
	}
	res, e := s.assumeRoleWithSAML(ctx, c, req)
	if e != nil {
		return nil, e
	}
	return &SAMLSession{Result: *res, RequestID: c.requestID}, nil
}

func (s *Service) samlCall(ctx context.Context, c *call) (any, *Error) {
	res, e := s.assumeRoleWithSAML(ctx, c, decodeSAML(c.params))
	if e != nil {
		return nil, e
	}
	return res, nil
}

// samlState is what is known of a call as it proceeds, for its record.
type samlState struct {
	req        samlRequest
	assertion  *samlverify.Assertion
	provider   *SAMLProvider
	qualifier  string
	session    string
	source     string
	tags       []Tag
	transitive []string
	duration   int
}

// assumeRoleWithSAML serves AssumeRoleWithSAML (STS-SPEC §5, steps 1-10).
// It is unsigned: only the role's trust policy is evaluated, for the SAML
// provider as principal. Every outcome is recorded.
func (s *Service) assumeRoleWithSAML(ctx context.Context, c *call, req samlRequest) (*AssumeRoleWithSAMLResult, *Error) {
	st := &samlState{req: req}
	g, e := s.planSAML(ctx, c, st)
	if e != nil {
		s.record(ctx, c, s.samlRecord(c, st, nil, nil, e))
		return nil, e
	}
	a := st.assertion
	out, e := s.mint(ctx, c, g, func(i *issued) []audit.Record {
		return []audit.Record{s.samlRecord(c, st, g, i, nil)}
	})
	if e != nil {
		return nil, e
	}
	s.log.Info("sts: AssumeRoleWithSAML", "request_id", c.requestID, "provider", st.provider.ARN, "subject", a.NameID,
		"role", g.role.ARN, "session", g.sessionName, "source_identity", g.sourceIdentity, "access_key_id", out.accessKeyID)
	return &AssumeRoleWithSAMLResult{
		Issuer:           a.Issuer,
		AssumedRoleUser:  out.assumedRoleUser(),
		Credentials:      out.credentials(),
		Audience:         a.Recipient,
		SourceIdentity:   g.sourceIdentity,
		PackedPolicySize: g.packedSize(),
		NameQualifier:    st.qualifier,
		Subject:          a.NameID,
		SubjectType:      SubjectType(a.NameIDFormat),
	}, nil
}

func (s *Service) planSAML(ctx context.Context, c *call, st *samlState) (*grant, *Error) {
	req := st.req
	// 1. Model validation, ARN shapes, the session policy.
	v := &validation{}
	if v.required(req.RoleARN, "roleArn") {
		v.check(req.RoleARN.v, "roleArn", arnType)
	}
	if v.required(req.PrincipalARN, "principalArn") {
		v.check(req.PrincipalARN.v, "principalArn", arnType)
	}
	if v.required(req.SAMLAssertion, "sAMLAssertion") {
		v.check(req.SAMLAssertion.v, "sAMLAssertion", samlType)
	}
	v.policyARNs(req.PolicyARNs)
	v.opt(req.Policy, "policy", policyType)
	seconds := v.duration(req.DurationSeconds)
	if e := v.err(); e != nil {
		return nil, e
	}
	for _, a := range append([]string{req.RoleARN.v, req.PrincipalARN.v}, req.PolicyARNs...) {
		if !validArn(a) {
			return nil, arnInvalid(a)
		}
	}
	if req.Policy.set {
		if e := checkSessionPolicy(req.Policy.v); e != nil {
			return nil, e
		}
	}

	// 2. The SAML provider. A provider that does not exist is refused like
	// a trust policy that does not allow (UNCONF: AWS's choice between
	// AccessDenied and InvalidIdentityToken is not documented).
	provider, ok := s.dir.SAMLProviderByARN(req.PrincipalARN.v)
	if !ok {
		return nil, s.denySAML(c, "no SAML provider "+describeARN(req.PrincipalARN.v, "saml-provider"))
	}
	st.provider = provider
	md, err := provider.Metadata(ctx)
	if err != nil {
		return nil, internal(fmt.Errorf("metadata of SAML provider %s: %w", provider.ARN, err))
	}

	// 3-5. Signature with the provider's keys only, issuer, bearer
	// confirmation, recipient, audience, time, replay.
	decKeys, err := provider.decryptionKeys(ctx)
	if err != nil {
		return nil, internal(err)
	}
	a, err := samlverify.Verify(ctx, req.SAMLAssertion.v,
		samlverify.Provider{ARN: provider.ARN, EntityID: md.EntityID, Certs: md.Certs,
			DecryptionKeys: decKeys, RequireEncryption: provider.Encryption.Required},
		samlverify.Options{Now: c.now, Recipients: s.dir.SAMLRecipients, Audiences: s.dir.SAMLRecipients,
			Replay: ReplayCache{Store: s.store, Now: func() time.Time { return c.now }}})
	if err != nil {
		var ve *samlverify.Error
		if errors.As(err, &ve) {
			s.log.Info("sts: SAML response rejected", "request_id", c.requestID, "provider", provider.ARN,
				"code", ve.Code, "reason", ve.Reason)
			return nil, fromSAML(ve)
		}
		return nil, internal(err)
	}
	st.assertion = a
	st.qualifier = NameQualifier(a.Issuer, provider.Account, provider.Name)

	// 6. RoleSessionName and SourceIdentity attributes.
	names := a.Attributes[attributes.AttrRoleSessionName]
	switch {
	case len(names) == 0:
		return nil, invalidIdentityToken(msgRoleSessionNameNeeded)
	case len(names) > 1 || attributes.ValidRoleSessionName(names[0]) != nil:
		return nil, invalidIdentityToken(msgRoleSessionNameBad)
	}
	st.session = names[0]
	if sis, ok := a.Attributes[attributes.AttrSourceIdentity]; ok {
		if len(sis) != 1 || attributes.ValidSourceIdentity(sis[0]) != nil {
			return nil, invalidIdentityToken(msgSourceIdentityBad)
		}
		st.source = sis[0]
	}
	tags, transitive, e := samlTags(a.Attributes)
	if e != nil {
		return nil, e
	}
	st.tags, st.transitive = tags, transitive
	attrSeconds := 0
	if ds, ok := a.Attributes[attributes.AttrSessionDuration]; ok {
		n, err := 0, error(nil)
		if len(ds) == 1 {
			n, err = strconv.Atoi(ds[0])
		}
		if len(ds) != 1 || err != nil || n < attributes.MinSessionDuration || n > attributes.MaxSessionDuration {
			// UNCONF: AWS's text for a bad SessionDuration attribute.
			return nil, invalidIdentityToken("SessionDuration in AuthnResponse must be a number of seconds from 900 to 43200")
		}
		attrSeconds = n
	}

	// 7. The subject (samlverify refuses an assertion without NameID).
	if a.NameID == "" {
		return nil, s.denySAML(c, "the assertion has no NameID")
	}

	// 8. The Role attribute must list the requested pair (either order).
	if !rolePairListed(a.Attributes[attributes.AttrRole], req.RoleARN.v, req.PrincipalARN.v) {
		return nil, s.denySAML(c, "the assertion's Role attribute does not list "+req.RoleARN.v+","+req.PrincipalARN.v)
	}

	// Tag semantics of what the assertion carries.
	if e := checkRequestTags(tags, transitive, nil); e != nil {
		return nil, e
	}

	// 9. The trust policy, for the provider as principal.
	role, _ := s.dir.RoleByARN(req.RoleARN.v)
	if role == nil {
		return nil, s.denySAML(c, "no role "+describeARN(req.RoleARN.v, "role"), "provider", provider.ARN, "subject", a.NameID)
	}
	ctx2 := s.requestContext(c, nil)
	samlContext(ctx2, a, provider, st.qualifier)
	ctx2.Set("sts:RoleSessionName", st.session)
	if st.source != "" {
		ctx2.Set("sts:SourceIdentity", st.source)
	}
	tagContext(ctx2, tags, transitive)
	if role != nil {
		for _, t := range role.Tags {
			ctx2.Set("aws:ResourceTag/"+t.Key, t.Value)
		}
	}
	principal := &policy.Principal{Kind: policy.Federated, Account: provider.Account, ARN: provider.ARN}
	for _, action := range requiredActions(actAssumeRoleWithSAML, st.source != "", len(tags) > 0) {
		vd := authorizeFederated(principal, role, action, ctx2)
		if !vd.allowed {
			s.log.Info("sts: access denied", "request_id", c.requestID, "provider", provider.ARN, "subject", a.NameID,
				"role", req.RoleARN.v, "action", action, "decision", vd.explain())
			e := forbidden(CodeAccessDenied, msgSAMLNotAuthorized)
			e.Reason = "role " + describeARN(role.ARN, "role") + ": " + vd.trustRefusal() + " (SAML provider " + provider.ARN + ")"
			return nil, e
		}
	}

	// 10. Duration: the requested (default one hour), shortened by the
	// SessionDuration attribute and SessionNotOnOrAfter.
	if seconds != 0 && time.Duration(seconds)*time.Second > role.MaxSessionDuration {
		return nil, validationError(msgMaxSessionDuration)
	}
	d := time.Hour
	if seconds != 0 {
		d = time.Duration(seconds) * time.Second
	}
	if attrSeconds != 0 && time.Duration(attrSeconds)*time.Second < d {
		d = time.Duration(attrSeconds) * time.Second
	}
	if d > role.MaxSessionDuration {
		d = role.MaxSessionDuration
	}
	if a.SessionNotOnOrAfter != nil {
		left := a.SessionNotOnOrAfter.Sub(c.now.Truncate(time.Second)).Truncate(time.Second)
		if left <= 0 {
			return nil, sender(CodeExpiredTokenException, samlverify.MsgExpired)
		}
		if left < d {
			d = left
		}
	}
	st.duration = int(d / time.Second)

	packed, tagShare := packedSize(req.Policy.v, req.PolicyARNs, tags)
	if e := checkPacked(packed, tagShare); e != nil {
		return nil, e
	}
	return &grant{
		role:              role,
		sessionName:       st.session,
		sourceIdentity:    st.source,
		tags:              mergeTags(role.Tags, tags),
		transitive:        transitive,
		duration:          d,
		policy:            req.Policy.v,
		policyARNs:        req.PolicyARNs,
		federatedProvider: provider.ARN,
		callerARN:         provider.ARN,
		packed:            packed,
		packedShown:       req.Policy.set || len(req.PolicyARNs) > 0 || len(tags) > 0,
	}, nil
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
func samlTags(attrs map[string][]string) ([]Tag, []string, *Error) {
	var names []string
	for name := range attrs {
		if strings.HasPrefix(name, attributes.AttrPrincipalTagPrefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var tags []Tag
	for _, name := range names {
		key := strings.TrimPrefix(name, attributes.AttrPrincipalTagPrefix)
		vals := attrs[name]
		// UNCONF: AWS's texts for bad PrincipalTag attributes.
		if len(vals) != 1 {
			return nil, nil, invalidIdentityToken("PrincipalTag attribute " + printable(key, 128) + " must have exactly one value")
		}
		if attributes.ValidTagKey(key) != nil || attributes.ValidTagValue(vals[0]) != nil {
			return nil, nil, invalidIdentityToken("PrincipalTag attribute " + printable(key, 128) +
				` must have a key of 1 to 128 and a value of at most 256 characters of [\p{L}\p{Z}\p{N}_.:/=+\-@]`)
		}
		tags = append(tags, Tag{Key: key, Value: vals[0]})
	}
	if len(tags) > attributes.MaxPrincipalTags {
		return nil, nil, invalidIdentityToken("The AuthnResponse has more than 50 PrincipalTag attributes")
	}
	return tags, attrs[attributes.AttrTransitiveTagKeys], nil
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
func (s *Service) samlRecord(c *call, st *samlState, g *grant, out *issued, e *Error) audit.Record {
	req := st.req
	id := audit.Anonymous()
	p := audit.SAMLParams{RoleARN: req.RoleARN.v, PrincipalARN: req.PrincipalARN.v, Policy: req.Policy.v}
	for _, a := range req.PolicyARNs {
		p.PolicyARNs = append(p.PolicyARNs, audit.PolicyARN{ARN: a})
	}
	if n, err := strconv.Atoi(req.DurationSeconds.v); err == nil {
		p.DurationSeconds = n
	}
	if a := st.assertion; a != nil {
		id = audit.SAMLUser(st.qualifier, a.NameID)
		p.SAMLAssertionID = a.ID
		p.RoleSessionName = st.session
		p.SourceIdentity = st.source
		if st.source == "" {
			p.SourceIdentity = firstOf(a.Attributes[attributes.AttrSourceIdentity])
		}
		if len(st.tags) > 0 {
			p.PrincipalTags = map[string]string{}
			for _, t := range st.tags {
				p.PrincipalTags[t.Key] = t.Value
			}
		}
		p.TransitiveTagKeys = st.transitive
		if st.duration != 0 {
			p.DurationSeconds = st.duration
		}
	}
	recipient := ""
	if parts := strings.SplitN(req.RoleARN.v, ":", 6); len(parts) == 6 {
		recipient = parts[4]
	}
	var o *audit.SAMLOutput
	if g != nil && out != nil {
		a := st.assertion
		o = &audit.SAMLOutput{AssumeRoleOutput: g.output(out), SubjectType: SubjectType(a.NameIDFormat), Issuer: a.Issuer,
			NameQualifier: st.qualifier, Subject: a.NameID, Audience: a.Recipient}
	}
	return audit.AssumeRoleWithSAMLEvent(s.auditCall(c, id, recipient), p, o, apiError(e))
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
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		if name, ok := strings.CutPrefix(parts[5], typ+"/"); ok && name != "" {
			return "named " + name + " in account " + parts[4]
		}
	}
	return arn
}
