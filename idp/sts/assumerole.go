package sts

import (
	"context"
	"strconv"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
)

// assumeRoleCall serves AssumeRole: SigV4 (STS-SPEC §4a), then the
// pipeline for the signed caller.
func (s *Service) assumeRoleCall(ctx context.Context, c *call) (any, *Error) {
	src := &assumeRoleSource{req: decodeAssumeRole(c.params)}
	who, ident, e := s.authenticate(ctx, c)
	if e != nil {
		if ident != nil {
			s.record(ctx, c, src.auditRecords(s, c, *ident, ident.AccountID, nil, nil, nil, e)...)
		}
		return nil, e
	}
	src.who = who
	d, out, e := s.run(ctx, c, src, who)
	if e != nil {
		return nil, e
	}
	sess := newSession(c, d.grant, out)
	return sess.assumeRoleXML(), nil
}

// inheritedTransitive returns the transitive tags of the calling session.
func (s *Service) inheritedTransitive(who *caller) []idp.Tag {
	if who.session == nil {
		return nil
	}
	return transitiveTags(who.session.Tags, who.session.TransitiveKeys)
}

// assumeRoleSource is an AssumeRole call: its principal is the SigV4
// caller, its tags and source identity are request parameters.
type assumeRoleSource struct {
	req assumeRoleRequest
	who *caller
}

var _ source = (*assumeRoleSource)(nil)

func (a *assumeRoleSource) action() string      { return actAssumeRole }
func (a *assumeRoleSource) base() *baseRequest  { return &a.req.baseRequest }
func (a *assumeRoleSource) otherARNs() []string { return nil }

func (a *assumeRoleSource) validateOwn(v *validation, first bool) {
	req := a.req
	if first {
		if v.required(req.RoleSessionName, "roleSessionName") {
			v.check(req.RoleSessionName.v, "roleSessionName", roleSessionNameType)
		}
		return
	}
	v.tags(req.Tags)
	v.transitiveKeys(req.TransitiveTagKeys)
	v.opt(req.ExternalID, "externalId", externalIDType)
	v.opt(req.SerialNumber, "serialNumber", serialNumberType)
	v.opt(req.TokenCode, "tokenCode", tokenCodeType)
	v.opt(req.SourceIdentity, "sourceIdentity", sourceIdentityType)
}

func (a *assumeRoleSource) requestTags() ([]idp.Tag, []string) {
	return requestTags(a.req.Tags), a.req.TransitiveTagKeys
}

// establish: the caller was authenticated by SigV4 before the pipeline.
func (a *assumeRoleSource) establish(context.Context, *Service, *call) (*principal, *Error) {
	req := a.req
	p := &principal{caller: a.who, who: a.who.principal, arn: a.who.arn, sessionName: req.RoleSessionName.v,
		sourceIdentity: req.SourceIdentity.v, passed: req.SourceIdentity.set, logAttrs: []any{"caller", a.who.arn}}
	if req.ExternalID.set {
		p.context = func(ctx policy.Context) { ctx.Set("sts:ExternalId", req.ExternalID.v) }
	}
	return p, nil
}

func (a *assumeRoleSource) limit(_ *call, d time.Duration) (time.Duration, *Error) { return d, nil }

func (a *assumeRoleSource) denied(action, roleARN string, _ *Role, _ verdict) *Error {
	return accessDenied(a.who.arn, action, roleARN)
}

func (a *assumeRoleSource) records(s *Service, c *call, d *decision, out *issued, e *Error) []audit.Record {
	return a.auditRecords(s, c, a.who.identity(), a.who.account, d.inherited, d.grant, out, e)
}

// requestTags returns the validated tags of a request.
func requestTags(raw []rawTag) []idp.Tag {
	out := make([]idp.Tag, 0, len(raw))
	for _, t := range raw {
		out = append(out, idp.Tag{Key: t.key.v, Value: t.value.v})
	}
	return out
}

// tagContext sets aws:RequestTag/K, aws:TagKeys and sts:TransitiveTagKeys.
func tagContext(ctx policy.Context, tags []idp.Tag, transitive []string) {
	keys := make([]string, 0, len(tags))
	for _, t := range tags {
		ctx.Set("aws:RequestTag/"+t.Key, t.Value)
		keys = append(keys, t.Key)
	}
	if len(keys) > 0 {
		ctx.Set("aws:TagKeys", keys...)
	}
	if len(transitive) > 0 {
		ctx.Set("sts:TransitiveTagKeys", transitive...)
	}
}

// checkSessionPolicy parses an inline session policy: MalformedPolicyDocument
// with the parser's reason when it is not a valid identity policy.
func checkSessionPolicy(doc string) *Error {
	p, err := policy.Parse([]byte(doc))
	if err == nil {
		err = p.ValidateIdentity()
	}
	if err != nil {
		return sender(CodeMalformedPolicyDocument, "The policy is not valid: "+err.Error())
	}
	return nil
}

// auditRecords builds the audit records of an AssumeRole call: one in
// the caller's account, and for a role in another account known to
// idpbridge, the role owner's copy (STS-SPEC §8).
func (a *assumeRoleSource) auditRecords(s *Service, c *call, id audit.UserIdentity, callerAccount string,
	inherited []idp.Tag, g *grant, out *issued, e *Error) []audit.Record {
	req := a.req
	p := audit.AssumeRoleParams{
		RoleARN:         req.RoleARN.v,
		RoleSessionName: req.RoleSessionName.v,
		ExternalID:      req.ExternalID.v,
		SourceIdentity:  req.SourceIdentity.v,
		SerialNumber:    req.SerialNumber.v,
		Policy:          req.Policy.v,
	}
	if n, err := strconv.Atoi(req.DurationSeconds.v); err == nil {
		p.DurationSeconds = n
	} else if g != nil {
		p.DurationSeconds = int(g.duration / time.Second)
	}
	for _, t := range req.Tags {
		p.Tags = append(p.Tags, idp.Tag{Key: t.key.v, Value: t.value.v})
	}
	p.TransitiveTagKeys = req.TransitiveTagKeys
	if len(inherited) > 0 {
		p.IncomingTransitiveTags = map[string]string{}
		for _, t := range inherited {
			p.IncomingTransitiveTags[t.Key] = t.Value
		}
	}
	for _, a := range req.PolicyARNs {
		p.PolicyARNs = append(p.PolicyARNs, audit.PolicyARN{ARN: a})
	}
	var o *audit.AssumeRoleOutput
	if g != nil && out != nil {
		x := g.output(out)
		o = &x
	}
	rec := audit.AssumeRoleEvent(s.auditCall(c, id, callerAccount), p, o, apiError(e))
	roleAccount := accountOf(req.RoleARN.v)
	if _, ours := s.dir.Account(roleAccount); ours && callerAccount != "" && roleAccount != callerAccount {
		mine, theirs := audit.CrossAccountCopies(rec, callerAccount, roleAccount, s.newID(c), s.newID(c))
		return []audit.Record{mine, theirs}
	}
	return []audit.Record{rec}
}
