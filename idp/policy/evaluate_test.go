package policy

import (
	"reflect"
	"testing"
)

func TestActionAndResourceMatching(t *testing.T) {
	t.Parallel()
	const role = "arn:aws:iam::123456789012:role/Developer_Role"
	tests := []struct {
		name      string
		statement string
		action    string
		resource  string
		ctx       Context
		want      Decision
	}{
		{"action exact", `"Action":"sts:AssumeRole","Resource":"*"`, "sts:AssumeRole", role, nil, Allow},
		{"action case-insensitive", `"Action":"sts:assumerole","Resource":"*"`, "STS:AssumeRole", role, nil, Allow},
		{"action star", `"Action":"sts:Assume*","Resource":"*"`, "sts:AssumeRoleWithSAML", role, nil, Allow},
		{"action question mark", `"Action":"sts:?ssumeRole","Resource":"*"`, "sts:AssumeRole", role, nil, Allow},
		{"action everything", `"Action":"*","Resource":"*"`, "iam:CreateUser", role, nil, Allow},
		{"action other service", `"Action":"sts:*","Resource":"*"`, "iam:AssumeRole", role, nil, NoDecision},
		{"action list", `"Action":["sts:TagSession","sts:AssumeRole"],"Resource":"*"`, "sts:AssumeRole", role, nil, Allow},
		{"action prefix is not enough", `"Action":"sts:AssumeRole","Resource":"*"`, "sts:AssumeRoleWithSAML", role, nil, NoDecision},
		{"NotAction excludes", `"NotAction":"sts:TagSession","Resource":"*"`, "sts:TagSession", role, nil, NoDecision},
		{"NotAction includes others", `"NotAction":["sts:TagSession","iam:*"],"Resource":"*"`, "sts:AssumeRole", role, nil, Allow},
		{"resource exact", `"Action":"sts:AssumeRole","Resource":"` + role + `"`, "sts:AssumeRole", role, nil, Allow},
		{"resource case-sensitive", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/developer_role"`, "sts:AssumeRole", role, nil, NoDecision},
		{"resource star", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/Dev*"`, "sts:AssumeRole", role, nil, Allow},
		{"resource question mark", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::12345678901?:role/Developer_Role"`, "sts:AssumeRole", role, nil, Allow},
		{"resource mismatch", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/Ops"`, "sts:AssumeRole", role, nil, NoDecision},
		{"NotResource excludes", `"Action":"sts:AssumeRole","NotResource":"arn:aws:iam::*:role/Dev*"`, "sts:AssumeRole", role, nil, NoDecision},
		{"NotResource includes others", `"Action":"sts:AssumeRole","NotResource":"arn:aws:iam::*:role/Ops"`, "sts:AssumeRole", role, nil, Allow},
		{"no Resource applies to any resource", `"Action":"sts:AssumeRole"`, "sts:AssumeRole", role, nil, Allow},
		{"resource variable", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::${aws:PrincipalAccount}:role/${aws:PrincipalTag/team}_Role"`,
			"sts:AssumeRole", role, one("aws:PrincipalAccount", "123456789012", "aws:PrincipalTag/team", "Developer"), Allow},
		{"resource variable unresolved matches nothing", `"Action":"sts:AssumeRole","Resource":["arn:aws:iam::123456789012:role/${aws:username}","arn:aws:iam::*:role/${aws:username}*"]`,
			"sts:AssumeRole", role, Context{}, NoDecision},
		{"resource variable default", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/${aws:username,'Developer_Role'}"`,
			"sts:AssumeRole", role, Context{}, Allow},
		{"resource substituted star is literal", `"Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/${aws:PrincipalTag/r}"`,
			"sts:AssumeRole", role, one("aws:PrincipalTag/r", "*"), NoDecision},
		{"resource escaped star is literal", `"Action":"sts:AssumeRole","Resource":"arn:aws:s3:::bucket/${*}"`,
			"sts:AssumeRole", "arn:aws:s3:::bucket/*", nil, Allow},
		{"NotResource with an unresolved variable excludes nothing", `"Action":"sts:AssumeRole","NotResource":"arn:aws:iam::123456789012:role/${aws:username}"`,
			"sts:AssumeRole", role, Context{}, Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, stmt(`"Effect":"Allow",`+tc.statement))
			got := p.Evaluate(Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
			if got.Decision != tc.want {
				t.Errorf("Decision = %v, want %v", got.Decision, tc.want)
			}
		})
	}
}

func TestNotPrincipal(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
	  {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::123456789012:user/DevUser","arn:aws:iam::123456789012:role/Dev"]},"Action":"sts:AssumeRole"}]}`)
	other := &Principal{Kind: IAMUser, Account: acctA, ARN: "arn:aws:iam::123456789012:user/Other"}
	tests := []struct {
		name    string
		caller  *Principal
		want    Decision
		matches []Match
	}{
		{"listed user is not denied", devUser, Allow, []Match{{Statement: 0, Effect: "Allow", PrincipalMatch: PrincipalWildcard}}},
		{"listed role's session is not denied", devSession, Allow, []Match{{Statement: 0, Effect: "Allow", PrincipalMatch: PrincipalWildcard}}},
		{"unlisted user is denied", other, Deny, []Match{
			{Statement: 1, Effect: "Deny", PrincipalMatch: PrincipalNotListed},
			{Statement: 0, Effect: "Allow", PrincipalMatch: PrincipalWildcard},
		}},
		{"anonymous is denied", nil, Deny, []Match{
			{Statement: 1, Effect: "Deny", PrincipalMatch: PrincipalNotListed},
			{Statement: 0, Effect: "Allow", PrincipalMatch: PrincipalWildcard},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := p.Evaluate(Request{Principal: tc.caller, Action: "sts:AssumeRole"})
			if got.Decision != tc.want || !reflect.DeepEqual(got.Matches, tc.matches) {
				t.Errorf("got %+v, want %v %+v", got, tc.want, tc.matches)
			}
		})
	}
	star := mustParse(t, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"*"},"Action":"sts:AssumeRole"`))
	if got := star.Evaluate(Request{Principal: devUser, Action: "sts:AssumeRole"}); got.Decision != NoDecision {
		t.Errorf("NotPrincipal * applied: %+v", got)
	}
}

func TestEvaluateUnion(t *testing.T) {
	t.Parallel()
	allowA := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"One","Effect":"Allow","Action":"sts:*","Resource":"*"},
	  {"Sid":"Two","Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	denyTag := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"NoTags","Effect":"Deny","Action":"sts:TagSession","Resource":"*"},
	  {"Sid":"NoAdmin","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/admin":"true"}}}]}`)
	nothing := mustParse(t, stmt(`"Effect":"Allow","Action":"iam:*","Resource":"*"`))
	tests := []struct {
		name     string
		action   string
		ctx      Context
		policies []Named
		want     Result
	}{
		{"no policies", "sts:AssumeRole", nil, nil, Result{}},
		{"nil policy skipped", "sts:AssumeRole", nil, []Named{{"nil", nil}}, Result{}},
		{"nothing applies", "sts:AssumeRole", nil, []Named{{"n", nothing}}, Result{}},
		{"allow", "sts:AssumeRole", nil, []Named{{"a", allowA}, {"d", denyTag}}, Result{Decision: Allow, Matches: []Match{
			{Policy: "a", Statement: 0, Sid: "One", Effect: "Allow"},
			{Policy: "a", Statement: 1, Sid: "Two", Effect: "Allow"},
		}}},
		{"explicit deny wins and is listed first", "sts:TagSession", one("aws:PrincipalTag/admin", "true"), []Named{{"a", allowA}, {"d", denyTag}}, Result{Decision: Deny, Matches: []Match{
			{Policy: "d", Statement: 0, Sid: "NoTags", Effect: "Deny"},
			{Policy: "d", Statement: 1, Sid: "NoAdmin", Effect: "Deny"},
			{Policy: "a", Statement: 0, Sid: "One", Effect: "Allow"},
		}}},
		{"deny alone", "sts:TagSession", nil, []Named{{"d", denyTag}}, Result{Decision: Deny, Matches: []Match{
			{Policy: "d", Statement: 0, Sid: "NoTags", Effect: "Deny"},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(Request{Action: tc.action, Resource: "arn:aws:iam::123456789012:role/R", Context: tc.ctx}, tc.policies...)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestEvaluateHandBuiltPolicy(t *testing.T) {
	t.Parallel()
	good := &Policy{Version: Version2012, Statements: []Statement{{
		Effect: EffectAllow, Action: []string{"sts:AssumeRole"}, Resource: []string{"arn:aws:iam::*:role/${aws:username}"},
		Conditions: []Condition{{Operator: "StringEquals", Key: "aws:username", Values: []string{"R"}}},
	}}}
	req := Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R", Context: one("aws:username", "R")}
	if got := good.Evaluate(req); got.Decision != Allow {
		t.Errorf("valid hand-built policy: %+v, want allowed", got)
	}
	bad := &Policy{Statements: []Statement{
		{Effect: EffectAllow, Action: []string{"sts:AssumeRole"}},
		{Effect: EffectAllow, Action: []string{"sts:AssumeRole"}, Conditions: []Condition{{Operator: "NumericEquals", Key: "aws:x", Values: []string{"NaN"}}}, Index: 1},
	}}
	want := Result{Decision: Deny, Matches: []Match{{Statement: 1, Effect: EffectDeny}, {Statement: 0, Effect: EffectAllow}}}
	if got := bad.Evaluate(req); !reflect.DeepEqual(got, want) {
		t.Errorf("invalid hand-built statement: %+v, want %+v", got, want)
	}
}

func TestDecisionString(t *testing.T) {
	t.Parallel()
	for d, want := range map[Decision]string{NoDecision: "implicitDeny", Allow: "allowed", Deny: "explicitDeny", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("%d: %q, want %q", int(d), got, want)
		}
	}
	for m, want := range map[PrincipalMatch]string{PrincipalNotApplicable: "notApplicable", PrincipalDirect: "direct", PrincipalAccount: "account", PrincipalWildcard: "wildcard", PrincipalNotListed: "notListed"} {
		if got := m.String(); got != want {
			t.Errorf("%d: %q, want %q", int(m), got, want)
		}
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	c := Context{}
	c.Set("aws:RequestTag/Project", "blue")
	vals := []string{"a", "b"}
	c.Set("SAML:groups", vals...)
	vals[0] = "changed"
	if got, ok := c.Get("AWS:REQUESTTAG/project"); !ok || !reflect.DeepEqual(got, []string{"blue"}) {
		t.Errorf("Get folded key = %v, %v", got, ok)
	}
	if got, _ := c.Get("saml:GROUPS"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Set did not copy its values: %v", got)
	}
	if _, ok := c["aws:requesttag/project"]; !ok {
		t.Errorf("Set did not fold the key: %v", c)
	}
	c.Set("aws:TagKeys")
	if _, ok := c.Get("aws:tagkeys"); !ok || c.Has("aws:TagKeys") {
		t.Errorf("a key with no values is present to Get but not to Has")
	}
	if c.Has("aws:username") {
		t.Errorf("Has(absent) = true")
	}
	literal := Context{"Saml:Aud": {"x"}}
	if got, ok := literal.Get("saml:aud"); !ok || got[0] != "x" {
		t.Errorf("Get on a mixed-case literal = %v, %v", got, ok)
	}
}

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"a*", "a", false, true},
		{"a*b", "ab", false, true},
		{"a*b", "axxbxxb", false, true},
		{"a*b", "axxbxxc", false, false},
		{"a*b*c", "abbbcbc", false, true},
		{"?", "", false, false},
		{"?", "é", false, true},
		{"a?c", "abc", false, true},
		{"a?c", "abbc", false, false},
		{"**a", "ba", false, true},
		{"*?", "", false, false},
		{"sts:assume*", "STS:AssumeRole", true, true},
		{"sts:assume*", "STS:AssumeRole", false, false},
		{"k", "\u212a", true, true}, // Kelvin sign folds to k
		{"a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
	}
	for _, tc := range tests {
		if got := compileGlob(tc.pattern).match(tc.s, tc.fold); got != tc.want {
			t.Errorf("glob %q match %q (fold %v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.0", 0}, {"-0", "0", 0}, {"0.1", "0.10", 0}, {"2", "10", -1}, {"-2", "-10", 1},
		{".5", "0.25", 1}, {"0.2", "0.25", -1}, {"+3", "3", 0}, {"3.", "3", 0}, {"-0.001", "0", -1},
	}
	for _, tc := range tests {
		a, okA := parseDecimal(tc.a)
		b, okB := parseDecimal(tc.b)
		if !okA || !okB {
			t.Fatalf("parse %q %q: %v %v", tc.a, tc.b, okA, okB)
		}
		if got := a.cmp(b); got != tc.want {
			t.Errorf("cmp(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	for _, bad := range []string{"", ".", "-", "1e3", "0x10", "1.2.3", "1 ", "NaN", "Inf"} {
		if _, ok := parseDecimal(bad); ok {
			t.Errorf("parseDecimal(%q) accepted", bad)
		}
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	want, _ := parseDate("2024-06-01T12:00:00Z")
	for _, s := range []string{"1717243200", "2024-06-01T12:00:00Z", "2024-06-01T14:00:00+02:00", "2024-06-01T12:00:00", "2024-06-01T12:00Z", "20240601T120000Z", "2024-06-01T12:00:00.000Z"} {
		got, ok := parseDate(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v", s, got, ok)
		}
	}
	for _, bad := range []string{"", "yesterday", "2024-13-01", "99999999999999999999", "2024-06-01 12:00:00"} {
		if _, ok := parseDate(bad); ok {
			t.Errorf("parseDate(%q) accepted", bad)
		}
	}
}

// TestConcurrentEvaluate shares one parsed policy between goroutines; run
// with -race.
func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	p := mustParse(t, benchTrust)
	done := make(chan Decision)
	for i := 0; i < 8; i++ {
		go func() {
			ctx := one("aws:username", "DevUser", "sts:SourceIdentity", "DevUser", "aws:SourceIp", "203.0.113.7")
			var d Decision
			for j := 0; j < 100; j++ {
				d = p.Evaluate(Request{Principal: devUser, Action: "sts:AssumeRole", Context: ctx}).Decision
			}
			done <- d
		}()
	}
	for i := 0; i < 8; i++ {
		if d := <-done; d != Allow {
			t.Errorf("goroutine decided %v, want allowed", d)
		}
	}
}
