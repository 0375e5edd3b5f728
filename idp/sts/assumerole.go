package sts

import (
	"context"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
)

// assumeRoleCall serves AssumeRole: SigV4, then STS-SPEC §4 in order, the
// decision of §5, the credentials and the audit records of §8.
func (s *Service) assumeRoleCall(ctx context.Context, c *call) (any, *Error) {
	req := decodeAssumeRole(c.params)
	who, ident, e := s.authenticate(ctx, c)
	if e != nil {
		if ident != nil {
			s.record(ctx, c, s.assumeRoleRecords(c, *ident, ident.AccountID, req, nil, nil, nil, e)...)
		}
		return nil, e
	}
	inherited := s.inheritedTransitive(who)
	g, e := s.planAssumeRole(c, who, req, inherited)
	if e != nil {
		s.record(ctx, c, s.assumeRoleRecords(c, who.identity(), who.account, req, inherited, nil, nil, e)...)
		return nil, e
	}
	out, e := s.mint(ctx, c, g, func(i *issued) []audit.Record {
		return s.assumeRoleRecords(c, who.identity(), who.account, req, inherited, g, i, nil)
	})
	if e != nil {
		return nil, e
	}
	s.log.Info("sts: AssumeRole", "request_id", c.requestID, "caller", who.arn, "role", g.role.ARN,
		"session", g.sessionName, "source_identity", g.sourceIdentity, "access_key_id", out.accessKeyID)
	return &AssumeRoleResult{
		SourceIdentity:   g.sourceIdentity,
		AssumedRoleUser:  out.assumedRoleUser(),
		Credentials:      out.credentials(),
		PackedPolicySize: g.packedSize(),
	}, nil
}

// inheritedTransitive returns the transitive tags of the calling session.
func (s *Service) inheritedTransitive(who *caller) []Tag {
	if who.session == nil {
		return nil
	}
	return transitiveTags(who.session.Tags, who.session.TransitiveKeys)
}

// planAssumeRole validates and authorizes an AssumeRole request and returns
// what to issue.
func (s *Service) planAssumeRole(c *call, who *caller, req assumeRoleRequest, inherited []Tag) (*grant, *Error) {
	// (b) model validation.
	v := &validation{}
	if v.required(req.RoleARN, "roleArn") {
		v.check(req.RoleARN.v, "roleArn", arnType)
	}
	if v.required(req.RoleSessionName, "roleSessionName") {
		v.check(req.RoleSessionName.v, "roleSessionName", roleSessionNameType)
	}
	v.policyARNs(req.PolicyARNs)
	v.opt(req.Policy, "policy", policyType)
	seconds := v.duration(req.DurationSeconds)
	v.tags(req.Tags)
	v.transitiveKeys(req.TransitiveTagKeys)
	v.opt(req.ExternalID, "externalId", externalIDType)
	v.opt(req.SerialNumber, "serialNumber", serialNumberType)
	v.opt(req.TokenCode, "tokenCode", tokenCodeType)
	v.opt(req.SourceIdentity, "sourceIdentity", sourceIdentityType)
	if e := v.err(); e != nil {
		return nil, e
	}
	roleARN := req.RoleARN.v

	// (c) ARN shapes.
	if !validArn(roleARN) {
		return nil, arnInvalid(roleARN)
	}
	for _, a := range req.PolicyARNs {
		if !validArn(a) {
			return nil, arnInvalid(a)
		}
	}

	// (d) tag semantics.
	tags := requestTags(req.Tags)
	var inheritedKeys []string
	if who.session != nil {
		inheritedKeys = who.session.TransitiveKeys
	}
	if e := checkRequestTags(tags, req.TransitiveTagKeys, inheritedKeys); e != nil {
		return nil, e
	}
	if e := checkInheritedTags(tags, inherited); e != nil {
		return nil, e
	}

	// (e) session policy.
	if req.Policy.set {
		if e := checkSessionPolicy(req.Policy.v); e != nil {
			return nil, e
		}
	}

	// (f) authorization.
	role, _ := s.dir.RoleByARN(roleARN)
	sourceIdentity := req.SourceIdentity.v
	if carried := who.sourceIdentity(); carried != "" {
		if req.SourceIdentity.set && req.SourceIdentity.v != carried {
			// A source identity is immutable for the session and every
			// session chained from it. Passing the same value again is
			// allowed (UNCONF: AWS documents only the different value).
			s.log.Info("sts: access denied", "request_id", c.requestID, "caller", who.arn, "role", roleARN,
				"action", actSetSourceIdentity, "reason", "the calling session carries source identity "+carried)
			return nil, accessDenied(who.arn, actSetSourceIdentity, roleARN)
		}
		sourceIdentity = carried
	}
	ctx := s.requestContext(c, who)
	ctx.Set("sts:RoleSessionName", req.RoleSessionName.v)
	if req.ExternalID.set {
		ctx.Set("sts:ExternalId", req.ExternalID.v)
	}
	if sourceIdentity != "" {
		ctx.Set("sts:SourceIdentity", sourceIdentity)
	}
	tagContext(ctx, tags, req.TransitiveTagKeys)
	if role != nil {
		for _, t := range role.Tags {
			ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		}
	}
	for _, action := range requiredActions(actAssumeRole, sourceIdentity != "", len(tags) > 0) {
		vd := authorizeCaller(who, role, roleARN, action, ctx)
		if !vd.allowed {
			s.log.Info("sts: access denied", "request_id", c.requestID, "caller", who.arn, "role", roleARN,
				"action", action, "decision", vd.explain())
			return nil, accessDenied(who.arn, action, roleARN)
		}
	}

	// (g) duration.
	d := 3600
	if seconds != 0 {
		d = seconds
	}
	if who.isSession() && d > maxChainedSessionSeconds {
		return nil, validationError(msgChainingDuration)
	}
	if time.Duration(d)*time.Second > role.MaxSessionDuration {
		return nil, validationError(msgMaxSessionDuration)
	}

	// (h) packed size.
	packed, tagShare := packedSize(req.Policy.v, req.PolicyARNs, tags)
	if e := checkPacked(packed, tagShare); e != nil {
		return nil, e
	}

	return &grant{
		role:           role,
		sessionName:    req.RoleSessionName.v,
		sourceIdentity: sourceIdentity,
		tags:           mergeTags(role.Tags, inherited, tags),
		transitive:     unionKeys(inheritedKeys, req.TransitiveTagKeys),
		duration:       time.Duration(d) * time.Second,
		policy:         req.Policy.v,
		policyARNs:     req.PolicyARNs,
		callerARN:      who.arn,
		packed:         packed,
		packedShown:    req.Policy.set || len(req.PolicyARNs) > 0 || len(tags) > 0,

		parentAccessKeyID: parentKey(who),
	}, nil
}

// parentKey is the access key of the calling role session, "" for an IAM
// user.
func parentKey(who *caller) string {
	if who.isSession() {
		return who.accessKeyID
	}
	return ""
}

// requestTags returns the validated tags of a request.
func requestTags(raw []rawTag) []Tag {
	out := make([]Tag, 0, len(raw))
	for _, t := range raw {
		out = append(out, Tag{Key: t.key.v, Value: t.value.v})
	}
	return out
}

// tagContext sets aws:RequestTag/K, aws:TagKeys and sts:TransitiveTagKeys.
func tagContext(ctx policy.Context, tags []Tag, transitive []string) {
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

// assumeRoleRecords builds the audit records of an AssumeRole call: one in
// the caller's account, and for a role in another account known to
// idpbridge, the role owner's copy (STS-SPEC §8).
func (s *Service) assumeRoleRecords(c *call, id audit.UserIdentity, callerAccount string, req assumeRoleRequest,
	inherited []Tag, g *grant, out *issued, e *Error) []audit.Record {
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
		p.Tags = append(p.Tags, audit.Tag{Key: t.key.v, Value: t.value.v})
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
	roleAccount := ""
	if parts := strings.SplitN(req.RoleARN.v, ":", 6); len(parts) == 6 {
		roleAccount = parts[4]
	}
	if _, ours := s.dir.Account(roleAccount); ours && callerAccount != "" && roleAccount != callerAccount {
		mine, theirs := audit.CrossAccountCopies(rec, callerAccount, roleAccount, s.newID(), s.newID())
		return []audit.Record{mine, theirs}
	}
	return []audit.Record{rec}
}
