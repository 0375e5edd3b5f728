package policy

import (
	"strings"
	"testing"
)

// TestExplain: every statement is explained by the first element that did
// not match, and the text names the statement, the condition and the
// request's values.
func TestExplain(t *testing.T) {
	t.Parallel()
	const provider = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"SignIn","Effect":"Allow","Principal":{"Federated":"`+provider+`"},
	   "Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity"],
	   "Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},"StringLike":{"sts:SourceIdentity":"?*"}}},
	  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/DevUser"},"Action":"sts:SetSourceIdentity"},
	  {"Effect":"Allow","Principal":{"Federated":"`+provider+`"},"Action":"sts:TagSession"},
	  {"Effect":"Deny","Principal":"*","Action":"sts:SetSourceIdentity","Condition":{"Null":{"sts:SourceIdentity":"true"}}},
	  {"Effect":"Allow","Principal":"*","NotAction":"sts:SetSourceIdentity"}]}`)
	req := Request{
		Principal: &Principal{Kind: Federated, Account: "123456789012", ARN: provider},
		Action:    "sts:SetSourceIdentity",
		Resource:  "arn:aws:iam::123456789012:role/Developer",
		Context:   Context{},
	}
	req.Context.Set("saml:aud", "http://localhost:8080/sts/saml")
	req.Context.Set("sts:SourceIdentity", "diego")
	if d := Evaluate(req, Named{Policy: p}).Decision; d != NoDecision {
		t.Fatalf("decision %v, want implicitDeny", d)
	}
	got := Explain(req, Named{Policy: p})
	want := []struct {
		element string
		text    string
	}{
		{"Condition", `statement #0 (SignIn) Allow does not apply: condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" is not met: the request has SAML:aud "http://localhost:8080/sts/saml"`},
		{"Principal", `statement #1 Allow does not apply: its Principal does not name ` + provider},
		{"Action", `statement #2 Allow does not apply: its Action does not list sts:SetSourceIdentity`},
		{"Condition", `statement #3 Deny does not apply: condition Null sts:SourceIdentity "true" is not met: the request has sts:SourceIdentity "diego"`},
		{"NotAction", `statement #4 Allow does not apply: its NotAction lists sts:SetSourceIdentity`},
	}
	if len(got) != len(want) {
		t.Fatalf("%d explanations, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Applied || got[i].Element != w.element || got[i].String(req) != w.text {
			t.Errorf("statement %d:\n got %s (%s)\nwant %s (%s)", i, got[i].String(req), got[i].Element, w.text, w.element)
		}
	}

	// An absent key and an applying statement.
	req.Context = Context{}
	req.Context.Set("saml:aud", "https://signin.aws.amazon.com/saml")
	got = Explain(req, Named{Name: "trust", Policy: p})
	if s := got[0].String(req); s != `policy "trust" statement #0 (SignIn) Allow does not apply: condition StringLike sts:SourceIdentity "?*" is not met: the request has no sts:SourceIdentity` {
		t.Errorf("absent key: %s", s)
	}
	if !got[3].Applied || got[3].String(req) != `policy "trust" statement #3 Deny applies` {
		t.Errorf("applying Deny: %+v %s", got[3], got[3].String(req))
	}
	// Long and many values are cut.
	req.Context.Set("saml:aud", strings.Repeat("a", 300), "2", "3", "4", "5", "6", "7")
	if s := Explain(req, Named{Policy: p})[0].String(req); !strings.Contains(s, `"`+strings.Repeat("a", 200)+`..."`) || !strings.Contains(s, "and 2 more]") {
		t.Errorf("values not capped: %s", s)
	}
}

// TestExplainAgreesWithEvaluate: a statement is explained as applying
// exactly when Evaluate reports it among the matches.
func TestExplainAgreesWithEvaluate(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"dev"}}},
	  {"Effect":"Deny","Action":"sts:*","Resource":"arn:aws:iam::*:role/Ops"},
	  {"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/Secret"}]}`)
	for _, tc := range []struct {
		action, resource, team string
	}{
		{"sts:AssumeRole", "arn:aws:iam::123456789012:role/Dev", "dev"},
		{"sts:AssumeRole", "arn:aws:iam::123456789012:role/Ops", "ops"},
		{"iam:CreateUser", "arn:aws:iam::123456789012:role/Secret", ""},
		{"sts:TagSession", "arn:aws:iam::123456789012:role/Secret", "dev"},
	} {
		req := Request{Action: tc.action, Resource: tc.resource, Context: Context{}}
		if tc.team != "" {
			req.Context.Set("aws:PrincipalTag/team", tc.team)
		}
		matched := map[int]bool{}
		for _, m := range Evaluate(req, Named{Policy: p}).Matches {
			matched[m.Statement] = true
		}
		for _, e := range Explain(req, Named{Policy: p}) {
			if e.Applied != matched[e.Statement] {
				t.Errorf("%+v: statement %d explained as applied=%v, Evaluate matched=%v (%s)", tc, e.Statement, e.Applied, matched[e.Statement], e.String(req))
			}
		}
	}
}

// TestExplainConditions: a statement that reaches its conditions has every
// one of them checked, in document order, each saying whether it is met
// and comparing the request's values with the policy's.
func TestExplainConditions(t *testing.T) {
	t.Parallel()
	const provider = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"SignIn","Effect":"Allow","Principal":{"Federated":"`+provider+`"},
	   "Action":"sts:AssumeRoleWithSAML",
	   "Condition":{
	     "StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},
	     "StringLike":{"sts:SourceIdentity":"?*"},
	     "StringNotEquals":{"saml:sub":["root","admin"]},
	     "NumericLessThan":{"sts:DurationSeconds":"3600"},
	     "StringEqualsIfExists":{"aws:RequestTag/team":"dev"},
	     "ForAllValues:StringLike":{"aws:TagKeys":["team","env-*"]},
	     "Null":{"saml:namequalifier":"true"},
	     "IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
	     "ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:saml-provider/*"}}},
	  {"Effect":"Deny","Principal":"*","Action":"sts:TagSession"}]}`)
	req := Request{
		Principal: &Principal{Kind: Federated, Account: "123456789012", ARN: provider},
		Action:    "sts:AssumeRoleWithSAML",
		Resource:  "arn:aws:iam::123456789012:role/Developer",
		Context:   Context{},
	}
	req.Context.Set("SAML:aud", "http://localhost:8080/sts/saml")
	req.Context.Set("sts:SourceIdentity", "diego")
	req.Context.Set("saml:sub", "admin")
	req.Context.Set("sts:DurationSeconds", "900")
	req.Context.Set("aws:TagKeys", "team", "cost")
	req.Context.Set("saml:namequalifier", "q")
	req.Context.Set("aws:SourceIp", "10.1.2.3")
	req.Context.Set("aws:PrincipalArn", provider)
	got := Explain(req, Named{Policy: p})
	want := []struct {
		met  bool
		text string
	}{
		{false, `condition StringEquals SAML:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"`},
		{true, `condition StringLike sts:SourceIdentity is met: request value "diego" matches "?*"`},
		{false, `condition StringNotEquals saml:sub is not met: request value "admin" is one of ["root", "admin"]`},
		{true, `condition NumericLessThan sts:DurationSeconds is met: request value "900" is less than "3600"`},
		{true, `condition StringEqualsIfExists aws:RequestTag/team is met: the request has no aws:RequestTag/team (IfExists: met when absent)`},
		{false, `condition ForAllValues:StringLike aws:TagKeys is not met: request values ["team", "cost"] do not satisfy ForAllValues:StringLike ["team", "env-*"]`},
		{false, `condition Null saml:namequalifier is not met: request value "q" is present, Null "true" wants it absent`},
		{true, `condition IpAddress aws:SourceIp is met: request value "10.1.2.3" is in "10.0.0.0/8"`},
		{true, `condition ArnLike aws:PrincipalArn is met: request value "` + provider + `" matches "arn:aws:iam::*:saml-provider/*"`},
	}
	e := got[0]
	if e.Applied || e.Element != "Condition" || e.Condition.Key != "SAML:aud" {
		t.Fatalf("statement 0: %+v, want the first failed condition SAML:aud", e)
	}
	if len(e.Conditions) != len(want) {
		t.Fatalf("%d conditions checked, want %d: %+v", len(e.Conditions), len(want), e.Conditions)
	}
	for i, w := range want {
		if c := e.Conditions[i]; c.Met != w.met || c.String() != w.text {
			t.Errorf("condition %d:\n got %v %s\nwant %v %s", i, c.Met, c.String(), w.met, w.text)
		}
	}
	// A statement whose action does not match never reaches its
	// conditions; one without conditions has none to check.
	if got[1].Conditions != nil {
		t.Errorf("statement 1 did not reach conditions, got %+v", got[1].Conditions)
	}
	// A statement that applies lists its (met) conditions.
	req.Context = Context{}
	req.Context.Set("SAML:aud", "https://signin.aws.amazon.com/saml")
	req.Context.Set("sts:SourceIdentity", "diego")
	req.Context.Set("sts:DurationSeconds", "900")
	req.Context.Set("aws:SourceIp", "10.1.2.3")
	req.Context.Set("aws:PrincipalArn", provider)
	e = Explain(req, Named{Policy: p})[0]
	if !e.Applied || len(e.Conditions) != len(want) {
		t.Fatalf("applying statement: %+v", e)
	}
	for i, c := range e.Conditions {
		if !c.Met {
			t.Errorf("condition %d not met in an applying statement: %s", i, c.String())
		}
	}
	if s := e.Conditions[2].String(); s != `condition StringNotEquals saml:sub is met: the request has no saml:sub` {
		t.Errorf("absent key under a negated operator: %s", s)
	}
}
