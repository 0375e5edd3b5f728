package sts

import (
	"context"
	"slices"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
)

// The decision pipeline: AssumeRole, AssumeRoleWithSAML and
// AssumeRoleWithWebIdentity differ only in how their principal is
// established (a SigV4-signed caller, a verified SAML assertion, a verified
// OIDC token), where their session tags come from (request parameters or
// the identity provider's assertion) and how their duration may be
// shortened. Each supplies that as a source; Service.decide runs the rest
// once, in STS-SPEC §4's order: model validation, ARN shapes, tag
// semantics, session policy, authorization of every required action
// against trust, identity and session policies, duration, packed size,
// then the grant, the credentials and the audit records.

// A source is one AssumeRole* call as the pipeline sees it.
type source interface {
	// action is the action the call must be allowed (sts:AssumeRole...).
	action() string
	// base returns the parameters every AssumeRole* action has.
	base() *baseRequest
	// validateOwn adds the model checks of the action's own members to v:
	// first is called before the shared members are checked, and again
	// with first false after them (AWS's order of the messages).
	validateOwn(v *validation, first bool)
	// otherARNs are the ARNs besides RoleArn and PolicyArns whose shape
	// is checked, in order, after RoleArn's.
	otherARNs() []string
	// requestTags are the session tags and transitive keys passed as
	// request parameters.
	requestTags() ([]idp.Tag, []string)
	// establish establishes who asks. A federated call's credential is
	// verified here, once the request itself is known to be well formed
	// (so a malformed request never consumes a SAML assertion).
	establish(ctx context.Context, s *Service, c *call) (*principal, *Error)
	// limit shortens the session duration d (AssumeRoleWithSAML's
	// SessionDuration attribute and SessionNotOnOrAfter).
	limit(c *call, d time.Duration) (time.Duration, *Error)
	// denied is the error of a refused authorization for action.
	denied(action, roleARN string, role *Role, v verdict) *Error
	// records are the audit records of the call; d.grant and out are nil
	// unless credentials were issued, e is nil unless the call failed.
	records(s *Service, c *call, d *decision, out *issued, e *Error) []audit.Record
}

// baseRequest are the parameters every AssumeRole* action has.
type baseRequest struct {
	RoleARN         opt
	PolicyARNs      []string
	Policy          opt
	DurationSeconds opt
}

// principal is who asks, as its action established it.
type principal struct {
	// caller is AssumeRole's signed caller; nil for a federated call.
	caller *caller
	// provider is the ARN of a federated call's SAML or OIDC provider.
	provider    string
	webIdentity bool
	// who is the principal the trust policy is evaluated for.
	who *policy.Principal
	// arn names the principal in the session record: a user, session or
	// provider ARN.
	arn         string
	sessionName string
	// sourceIdentity is the value passed (AssumeRole) or asserted by the
	// identity provider; passed says whether it was given at all.
	sourceIdentity string
	passed         bool
	// tags and transitive are the session tags the identity provider
	// asserts.
	tags       []idp.Tag
	transitive []string
	// context adds the keys the credential brings (STS-SPEC §7).
	context func(policy.Context)
	// logAttrs name the principal in log lines.
	logAttrs []any
}

// carried is the source identity of the calling session, "" for none.
func (p *principal) carried() string {
	if p.caller == nil {
		return ""
	}
	return p.caller.sourceIdentity()
}

// chained reports whether a role session is assuming a role.
func (p *principal) chained() bool { return p.caller != nil && p.caller.isSession() }

// authorize asks one required action of p on role.
func (p *principal) authorize(role *Role, roleARN, action string, ctx policy.Context) verdict {
	if p.caller != nil {
		return authorizeCaller(p.caller, role, roleARN, action, ctx)
	}
	return authorizeFederated(p.who, role, action, ctx)
}

// decision is a call as it proceeds through the pipeline; its audit
// records are written from what it holds when the call ends.
type decision struct {
	src     source
	req     *baseRequest
	seconds int // DurationSeconds, 0 when absent
	p       *principal
	role    *Role
	// tags and transitive are the new session tags: passed in the request
	// or asserted by the identity provider.
	tags       []idp.Tag
	transitive []string
	// inherited are the transitive tags of a calling session.
	inherited      []idp.Tag
	inheritedKeys  []string
	sourceIdentity string
	duration       time.Duration
	grant          *grant
}

// decide runs the pipeline up to the grant.
func (s *Service) decide(ctx context.Context, c *call, d *decision) *Error {
	if e := d.admit(); e != nil {
		return e
	}
	reqTags, reqTransitive := d.src.requestTags()
	if e := checkRequestTags(reqTags, reqTransitive, d.inheritedKeys); e != nil {
		return e
	}
	if e := checkInheritedTags(reqTags, d.inherited); e != nil {
		return e
	}
	if d.req.Policy.set {
		if e := checkSessionPolicy(d.req.Policy.v); e != nil {
			return e
		}
	}
	p, e := d.src.establish(ctx, s, c)
	if e != nil {
		return e
	}
	d.p = p
	if e := checkRequestTags(p.tags, p.transitive, nil); e != nil {
		return e
	}
	d.tags = slices.Concat(reqTags, p.tags)
	d.transitive = slices.Concat(reqTransitive, p.transitive)
	d.role, _ = s.dir.RoleByARN(d.req.RoleARN.v)
	if e := s.authorize(c, d); e != nil {
		return e
	}
	if e := d.sessionDuration(c); e != nil {
		return e
	}
	return d.finish()
}

// admit applies the model constraints and the ARN shapes (STS-SPEC §4b, c).
func (d *decision) admit() *Error {
	v := &validation{}
	if v.required(d.req.RoleARN, "roleArn") {
		v.check(d.req.RoleARN.v, "roleArn", arnType)
	}
	d.src.validateOwn(v, true)
	v.policyARNs(d.req.PolicyARNs)
	v.opt(d.req.Policy, "policy", policyType)
	d.seconds = v.duration(d.req.DurationSeconds)
	d.src.validateOwn(v, false)
	if e := v.err(); e != nil {
		return e
	}
	arns := append(append([]string{d.req.RoleARN.v}, d.src.otherARNs()...), d.req.PolicyARNs...)
	for _, a := range arns {
		if !validArn(a) {
			return arnInvalid(a)
		}
	}
	return nil
}

// authorize decides the required actions (STS-SPEC §5): the source
// identity is immutable down a chain, and every action must be allowed for
// the principal with the full request context.
func (s *Service) authorize(c *call, d *decision) *Error {
	roleARN := d.req.RoleARN.v
	d.sourceIdentity = d.p.sourceIdentity
	if carried := d.p.carried(); carried != "" {
		if d.p.passed && d.p.sourceIdentity != carried {
			// A source identity is immutable for the session and every
			// session chained from it. Passing the same value again is
			// allowed (UNCONF: AWS documents only the different value).
			s.log.Info("sts: access denied", append(append([]any{"request_id", c.requestID}, d.p.logAttrs...),
				"role", roleARN, "action", actSetSourceIdentity, "reason", "the calling session carries source identity "+carried)...)
			return d.src.denied(actSetSourceIdentity, roleARN, d.role, verdict{action: actSetSourceIdentity})
		}
		d.sourceIdentity = carried
	}
	ctx := s.decisionContext(c, d)
	for _, action := range requiredActions(d.src.action(), d.sourceIdentity != "", len(d.tags) > 0) {
		vd := d.p.authorize(d.role, roleARN, action, ctx)
		if vd.allowed {
			continue
		}
		e := d.src.denied(action, roleARN, d.role, vd)
		attrs := append(append([]any{"request_id", c.requestID}, d.p.logAttrs...), "role", roleARN, "action", action,
			"decision", vd.explain())
		if e.Reason != "" {
			attrs = append(attrs, "reason", e.Reason)
		}
		s.log.Info("sts: access denied", attrs...)
		return e
	}
	return nil
}

// decisionContext is the request context of STS-SPEC §7: the keys of
// every request and of the signed caller, those the credential brings, the
// sts: keys, the request's tags and the role's.
func (s *Service) decisionContext(c *call, d *decision) policy.Context {
	ctx := s.requestContext(c, d.p.caller)
	if d.p.context != nil {
		d.p.context(ctx)
	}
	ctx.Set("sts:RoleSessionName", d.p.sessionName)
	if d.sourceIdentity != "" {
		ctx.Set("sts:SourceIdentity", d.sourceIdentity)
	}
	tagContext(ctx, d.tags, d.transitive)
	if d.role != nil {
		for _, t := range d.role.Tags {
			ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
		}
	}
	return ctx
}

// sessionDuration is DurationSeconds or one hour, at most one hour when
// chaining and never beyond the role's MaxSessionDuration, then shortened
// as the source says (STS-SPEC §4g). The role exists: authorization passed.
func (d *decision) sessionDuration(c *call) *Error {
	dur := time.Hour
	if d.seconds != 0 {
		dur = time.Duration(d.seconds) * time.Second
	}
	if d.p.chained() && dur > maxChainedSessionSeconds*time.Second {
		return validationError(msgChainingDuration)
	}
	if dur > d.role.MaxSessionDuration {
		return validationError(msgMaxSessionDuration)
	}
	dur, e := d.src.limit(c, dur)
	if e != nil {
		return e
	}
	d.duration = dur
	return nil
}

// finish checks the packed size (STS-SPEC §4h) and makes the grant: the
// role's tags, then the inherited transitive ones, then the new ones.
func (d *decision) finish() *Error {
	packed, tagShare := packedSize(d.req.Policy.v, d.req.PolicyARNs, d.tags)
	if e := checkPacked(packed, tagShare); e != nil {
		return e
	}
	d.grant = &grant{
		role:              d.role,
		sessionName:       d.p.sessionName,
		sourceIdentity:    d.sourceIdentity,
		tags:              mergeTags(d.role.Tags, d.inherited, d.tags),
		transitive:        unionKeys(d.inheritedKeys, d.transitive),
		duration:          d.duration,
		policy:            d.req.Policy.v,
		policyARNs:        d.req.PolicyARNs,
		federatedProvider: d.p.provider,
		webIdentity:       d.p.webIdentity,
		callerARN:         d.p.arn,
		packed:            packed,
		packedShown:       d.req.Policy.set || len(d.req.PolicyARNs) > 0 || len(d.tags) > 0,
	}
	if d.p.chained() {
		d.grant.parentAccessKeyID = d.p.caller.accessKeyID
	}
	return nil
}

// run serves an AssumeRole* call from its source: the decision, then the
// credentials stored with the audit records in one transaction. A refusal
// is recorded on its own. who is the signed caller, nil for a federated
// call.
func (s *Service) run(ctx context.Context, c *call, src source, who *caller) (*decision, *issued, *Error) {
	d := &decision{src: src, req: src.base()}
	if who != nil {
		d.inherited = s.inheritedTransitive(who)
		if who.session != nil {
			d.inheritedKeys = who.session.TransitiveKeys
		}
	}
	if e := s.decide(ctx, c, d); e != nil {
		s.record(ctx, c, src.records(s, c, d, nil, e)...)
		return nil, nil, e
	}
	out, e := s.mint(ctx, c, d.grant, func(i *issued) []audit.Record { return src.records(s, c, d, i, nil) })
	if e != nil {
		return nil, nil, e
	}
	g := d.grant
	s.log.Info("sts: "+c.action, append(append([]any{"request_id", c.requestID}, d.p.logAttrs...),
		"role", g.role.ARN, "session", g.sessionName, "source_identity", g.sourceIdentity, "access_key_id", out.accessKeyID)...)
	return d, out, nil
}
