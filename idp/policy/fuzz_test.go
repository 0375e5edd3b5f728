package policy

import (
	"errors"
	"reflect"
	"testing"
)

// fuzzPrincipals are the callers every fuzzed policy is evaluated for.
var fuzzPrincipals = []*Principal{
	nil,
	devUser,
	devSession,
	{Kind: Federated, Account: acctA, ARN: "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"},
	{Kind: Service, ARN: "ec2.amazonaws.com"},
}

func fuzzContext(key, value string) Context {
	c := one(
		"aws:username", "DevUser",
		"aws:CurrentTime", "2024-06-01T12:00:00Z",
		"aws:EpochTime", "1717243200",
		"aws:SourceIp", "203.0.113.7",
		"aws:PrincipalArn", "arn:aws:iam::123456789012:user/DevUser",
		"aws:SecureTransport", "true",
		"aws:MultiFactorAuthAge", "300",
		"sts:SourceIdentity", "DevUser",
	)
	c.Set("aws:TagKeys", "Project", "CostCenter")
	c.Set(key, value)
	return c
}

// checkResult asserts the invariants every Result keeps.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	denies, allows := 0, 0
	for i, m := range r.Matches {
		switch m.Effect {
		case EffectDeny:
			if allows > 0 {
				t.Fatalf("Deny match %d after an Allow match: %+v", i, r.Matches)
			}
			denies++
		case EffectAllow:
			allows++
		default:
			t.Fatalf("match with Effect %q", m.Effect)
		}
	}
	want := NoDecision
	switch {
	case denies > 0:
		want = Deny
	case allows > 0:
		want = Allow
	}
	if r.Decision != want {
		t.Fatalf("Decision %v does not follow from Matches %+v", r.Decision, r.Matches)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Statement < -1 || pe.Reason == "" {
				t.Fatalf("malformed ParseError %+v", pe)
			}
			return
		}
		if len(p.Statements) == 0 || len(p.compiled) != len(p.Statements) {
			t.Fatalf("accepted policy with %d statements, %d compiled", len(p.Statements), len(p.compiled))
		}
		for i, st := range p.Statements {
			if st.Index != i || (st.Effect != EffectAllow && st.Effect != EffectDeny) || (st.Action == nil) == (st.NotAction == nil) {
				t.Fatalf("statement %d breaks the grammar: %+v", i, st)
			}
		}
		_ = p.ValidateTrust()
		_ = p.ValidateIdentity()
		// Recompiling from the exported fields must decide the same.
		hand := &Policy{Version: p.Version, ID: p.ID, Statements: p.Statements}
		for _, caller := range fuzzPrincipals {
			req := Request{Principal: caller, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R", Context: fuzzContext("sts:RoleSessionName", "s")}
			r := p.Evaluate(req)
			checkResult(t, r)
			if h := hand.Evaluate(req); !reflect.DeepEqual(h, r) {
				t.Fatalf("recompiled policy decides %+v, parsed %+v", h, r)
			}
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte(benchTrust), "sts:AssumeRole", "arn:aws:iam::123456789012:role/R", "sts:SourceIdentity", "DevUser")
	f.Add([]byte(cond(`{"StringLike":{"s3:prefix":"${aws:username}/${*}*"}}`)), "sts:assumerole", "*", "s3:prefix", "DevUser/*x")
	f.Add([]byte(cond(`{"ForAllValues:ArnLike":{"aws:x":"arn:aws:iam::*:role/?*"}}`)), "sts:AssumeRole", "", "aws:x", "arn:aws:iam::1:role/a:b")
	f.Add([]byte(cond(`{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`)), "sts:AssumeRole", "arn", "aws:SourceIp", "::ffff:10.0.0.1")
	f.Add([]byte(cond(`{"DateLessThan":{"aws:CurrentTime":"${aws:EpochTime}"},"NumericLessThan":{"aws:x":"${aws:y, '3'}"}}`)), "sts:AssumeRole", "a", "aws:x", "-0.5")
	f.Fuzz(func(t *testing.T, doc []byte, action, resource, key, value string) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		ctx := fuzzContext(key, value)
		for _, caller := range fuzzPrincipals {
			req := Request{Principal: caller, Action: action, Resource: resource, Context: ctx}
			r := Evaluate(req, Named{"p", p}, Named{"q", p})
			checkResult(t, r)
			if again := Evaluate(req, Named{"p", p}, Named{"q", p}); !reflect.DeepEqual(again, r) {
				t.Fatalf("evaluation is not deterministic: %+v then %+v", r, again)
			}
		}
	})
}
