package sts

import (
	"fmt"
	"strings"

	"idpbridge/idp/policy"
)

// Actions the STS authorizes.
const (
	actAssumeRole            = "sts:AssumeRole"
	actAssumeRoleWithSAML    = "sts:AssumeRoleWithSAML"
	actAssumeRoleWithWebID   = "sts:AssumeRoleWithWebIdentity"
	actTagSession            = "sts:TagSession"
	actSetSourceIdentity     = "sts:SetSourceIdentity"
	maxChainedSessionSeconds = 3600
)

// requiredActions lists what a call must be allowed, in the order they are
// checked: sts:SetSourceIdentity when a source identity is set or carried,
// sts:TagSession when tags are passed, then the action itself. The
// auxiliary actions come first so that a denial names them when their
// condition is what failed (STS-SPEC §9 vector 7).
func requiredActions(action string, sourceIdentity, tags bool) []string {
	var out []string
	if sourceIdentity {
		out = append(out, actSetSourceIdentity)
	}
	if tags {
		out = append(out, actTagSession)
	}
	return append(out, action)
}

// verdict is the outcome of one authorization question, kept for the log.
type verdict struct {
	action   string
	trust    policy.Result
	identity policy.Result
	session  policy.Result
	allowed  bool
	// req and trustPolicy let a denial explain the trust policy's
	// statements one by one (policy.Explain).
	req         policy.Request
	trustPolicy *policy.Policy
}

// explain renders the statements that decided, for the log line of a
// denial; when the trust policy did not allow, it also says of each of
// its statements why it did not apply (trustRefusal).
func (v verdict) explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: trust=%s%s identity=%s%s", v.action, v.trust.Decision, matches(v.trust), v.identity.Decision, matches(v.identity))
	if len(v.session.Matches) > 0 || v.session.Decision != policy.NoDecision {
		fmt.Fprintf(&b, " session=%s%s", v.session.Decision, matches(v.session))
	}
	if why := v.trustRefusal(); why != "" {
		b.WriteString("; " + why)
	}
	return b.String()
}

// trustRefusal says, for a trust policy that did not allow, which
// statements decided: the applying Deny statements of an explicit deny, or
// for an implicit deny why each Allow statement did not apply (the
// statement and its failed element or condition, with the request's
// values). It is "" when the trust policy allowed or is unknown.
func (v verdict) trustRefusal() string {
	if v.trustPolicy == nil || v.trust.Decision == policy.Allow {
		return ""
	}
	var parts []string
	for _, e := range policy.Explain(v.req, policy.Named{Policy: v.trustPolicy}) {
		switch {
		case v.trust.Decision == policy.Deny && e.Applied && e.Effect == policy.EffectDeny:
			parts = append(parts, e.String(v.req))
		case v.trust.Decision == policy.NoDecision && !e.Applied && e.Effect == policy.EffectAllow:
			parts = append(parts, e.String(v.req))
		}
	}
	if v.trust.Decision == policy.Deny {
		return "the trust policy denies " + v.action + ": " + strings.Join(parts, "; ")
	}
	if len(parts) == 0 {
		return "the trust policy has no Allow statement"
	}
	return "no statement of the trust policy allows " + v.action + ": " + strings.Join(parts, "; ")
}

func matches(r policy.Result) string {
	if len(r.Matches) == 0 {
		return ""
	}
	parts := make([]string, 0, len(r.Matches))
	for _, m := range r.Matches {
		name := m.Policy
		if name == "" {
			name = "trust"
		}
		s := fmt.Sprintf("%s#%d", name, m.Statement)
		if m.Sid != "" {
			s += "(" + m.Sid + ")"
		}
		s += ":" + m.Effect
		if m.PrincipalMatch != policy.PrincipalNotApplicable {
			s += "/" + m.PrincipalMatch.String()
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// authorizeCaller decides whether a signed caller (IAM user or role
// session) may perform action on role (STS-SPEC §5 AssumeRole):
//
//   - an explicit Deny in the trust policy, the caller's identity policies
//     or its session policies denies;
//   - the trust policy must allow;
//   - in the role's own account, a trust policy naming the caller directly
//     (user, role or session ARN) suffices; naming it only through the
//     account or "*" also needs the caller's identity policies to allow
//     (UNCONF for "*": treated like the account, the conservative reading);
//   - across accounts, the identity policies must allow too;
//   - a role session (role chaining) needs its identity policies to allow
//     sts:SetSourceIdentity as well as the trust policy, in the same
//     account too: the shortcut above covers only sts:AssumeRole and
//     sts:TagSession for it (an IAM user keeps the shortcut);
//   - a session created with session policies may only do what they allow
//     as well (UNCONF: AWS exempts a trust policy naming the session ARN
//     itself; idpbridge does not).
//
// A nil role (it does not exist) is a role whose trust allows nothing, so
// the answer never reveals whether a role exists.
func authorizeCaller(who *caller, role *Role, roleARN, action string, ctx policy.Context) verdict {
	req := policy.Request{Principal: who.principal, Action: action, Resource: roleARN, Context: ctx}
	v := verdict{action: action, req: req}
	if role != nil && role.Trust != nil {
		v.trust = policy.Evaluate(req, policy.Named{Policy: role.Trust})
		v.trustPolicy = role.Trust
	}
	v.identity = policy.Evaluate(req, who.identityPolicies()...)
	if who.sessionPolicies != nil {
		v.session = policy.Evaluate(req, who.sessionPolicies...)
	}
	if v.trust.Decision == policy.Deny || v.identity.Decision == policy.Deny || v.session.Decision == policy.Deny {
		return v
	}
	if v.trust.Decision != policy.Allow {
		return v
	}
	sameAccount := role != nil && role.Account == who.account
	chainedSourceIdentity := who.isSession() && action == actSetSourceIdentity
	switch {
	case sameAccount && !chainedSourceIdentity && v.trust.AllowedVia(policy.PrincipalDirect):
	case v.identity.Decision == policy.Allow:
	default:
		return v
	}
	if who.sessionPolicies != nil && v.session.Decision != policy.Allow {
		return v
	}
	v.allowed = true
	return v
}

// authorizeFederated decides a federated call (AssumeRoleWithSAML,
// AssumeRoleWithWebIdentity): only the trust policy is evaluated, for the
// provider as principal.
func authorizeFederated(provider *policy.Principal, role *Role, action string, ctx policy.Context) verdict {
	v := verdict{action: action}
	if role == nil || role.Trust == nil {
		return v
	}
	v.req = policy.Request{Principal: provider, Action: action, Resource: role.ARN, Context: ctx}
	v.trustPolicy = role.Trust
	v.trust = policy.Evaluate(v.req, policy.Named{Policy: role.Trust})
	v.allowed = v.trust.Decision == policy.Allow
	return v
}
