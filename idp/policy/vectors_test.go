package policy

import "testing"

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return p
}

const (
	acctA = "123456789012"
	acctB = "111122223333"
)

var (
	devUser = &Principal{Kind: IAMUser, Account: acctA, ARN: "arn:aws:iam::123456789012:user/DevUser"}
	// A session of role Dev in account A.
	devSession = &Principal{Kind: AssumedRole, Account: acctA,
		ARN: "arn:aws:sts::123456789012:assumed-role/Dev/alice", RoleARN: "arn:aws:iam::123456789012:role/Dev"}
)

// TestVector14 is STS-SPEC §9 vector 14.
func TestVector14(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		block string
		ctx   Context
		want  Decision
	}{
		{"StringEquals aws:username johndoe vs JohnDoe: no match", `{"StringEquals":{"aws:username":"johndoe"}}`, one("aws:username", "JohnDoe"), NoDecision},
		{"StringEqualsIgnoreCase: match", `{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`, one("aws:username", "JohnDoe"), Allow},
		{"StringNotEquals on an absent key: true", `{"StringNotEquals":{"aws:PrincipalTag/team":"ops"}}`, one("aws:username", "JohnDoe"), Allow},
		{"Null aws:TokenIssueTime true with long-term keys: true", `{"Null":{"aws:TokenIssueTime":"true"}}`, one("aws:username", "JohnDoe", "aws:PrincipalType", "User"), Allow},
		{"${aws:username} in a role session: no match", `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`,
			one("aws:PrincipalType", "AssumedRole", "aws:userid", "AROAEXAMPLE:alice", "sts:RoleSessionName", "alice"), NoDecision},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, cond(tc.block))
			got := p.Evaluate(Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R", Context: tc.ctx})
			if got.Decision != tc.want {
				t.Errorf("Decision = %v, want %v", got.Decision, tc.want)
			}
		})
	}
}

// TestVector9TransitiveTagKeys is the condition of STS-SPEC §9 vector 9.
func TestVector9TransitiveTagKeys(t *testing.T) {
	t.Parallel()
	trust := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
	  "Principal":{"AWS":"arn:aws:iam::123456789012:user/DevUser"},
	  "Action":["sts:AssumeRole","sts:TagSession"],
	  "Condition":{"ForAllValues:StringEquals":{"sts:TransitiveTagKeys":["Project","Department"]}}}]}`)
	tests := []struct {
		name string
		keys []string // nil: key absent
		want Decision
	}{
		{"Project allowed", []string{"Project"}, Allow},
		{"both allowed", []string{"Department", "Project"}, Allow},
		{"CostCenter denied", []string{"CostCenter"}, NoDecision},
		{"Project and CostCenter denied", []string{"Project", "CostCenter"}, NoDecision},
		{"none allowed", nil, Allow},
		{"key case is not value case", []string{"project"}, NoDecision},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := Context{}
			if tc.keys != nil {
				ctx.Set("sts:TransitiveTagKeys", tc.keys...)
			}
			for _, action := range []string{"sts:AssumeRole", "sts:TagSession"} {
				got := trust.Evaluate(Request{Principal: devUser, Action: action, Resource: "arn:aws:iam::123456789012:role/R", Context: ctx})
				if got.Decision != tc.want {
					t.Errorf("%s: Decision = %v, want %v", action, got.Decision, tc.want)
				}
			}
		})
	}
}

func trustNaming(t *testing.T, principal string) *Policy {
	return mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":`+principal+`,"Action":"sts:AssumeRole"}]}`)
}

// TestPrincipalMatching covers the principal shapes of STS-SPEC §9 vector 6
// and §5.
func TestPrincipalMatching(t *testing.T) {
	t.Parallel()
	samlUser := &Principal{Kind: Federated, Account: acctA, ARN: "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"}
	oidcUser := &Principal{Kind: Federated, Account: acctA, ARN: "arn:aws:iam::123456789012:oidc-provider/xyz.com"}
	userB := &Principal{Kind: IAMUser, Account: acctB, ARN: "arn:aws:iam::111122223333:user/Bob"}
	root := &Principal{Kind: Account, Account: acctA, ARN: "arn:aws:iam::123456789012:root"}
	ec2 := &Principal{Kind: Service, ARN: "ec2.amazonaws.com"}
	tests := []struct {
		name      string
		principal string
		caller    *Principal
		want      PrincipalMatch
		applies   bool
	}{
		{"user ARN names the user", `{"AWS":"arn:aws:iam::123456789012:user/DevUser"}`, devUser, PrincipalDirect, true},
		{"A:root names the account", `{"AWS":"arn:aws:iam::123456789012:root"}`, devUser, PrincipalAccount, true},
		{"bare account names the account", `{"AWS":"123456789012"}`, devUser, PrincipalAccount, true},
		{"another user", `{"AWS":"arn:aws:iam::123456789012:user/Other"}`, devUser, 0, false},
		{"user ARN is case-sensitive", `{"AWS":"arn:aws:iam::123456789012:user/devuser"}`, devUser, 0, false},
		{"cross account: trust names B, B's user", `{"AWS":"111122223333"}`, userB, PrincipalAccount, true},
		{"cross account: trust names A, B's user", `{"AWS":"123456789012"}`, userB, 0, false},
		{"role ARN names its sessions", `{"AWS":"arn:aws:iam::123456789012:role/Dev"}`, devSession, PrincipalDirect, true},
		{"role ARN with path", `{"AWS":"arn:aws:iam::123456789012:role/teams/Dev"}`,
			&Principal{Kind: AssumedRole, Account: acctA, ARN: "arn:aws:sts::123456789012:assumed-role/Dev/s", RoleARN: "arn:aws:iam::123456789012:role/teams/Dev"}, PrincipalDirect, true},
		{"another role's session", `{"AWS":"arn:aws:iam::123456789012:role/Ops"}`, devSession, 0, false},
		{"role ARN does not name a user", `{"AWS":"arn:aws:iam::123456789012:role/DevUser"}`, devUser, 0, false},
		{"session ARN names that session", `{"AWS":"arn:aws:sts::123456789012:assumed-role/Dev/alice"}`, devSession, PrincipalDirect, true},
		{"session ARN, other session name", `{"AWS":"arn:aws:sts::123456789012:assumed-role/Dev/bob"}`, devSession, 0, false},
		{"account names role sessions", `{"AWS":"123456789012"}`, devSession, PrincipalAccount, true},
		{"account names the account itself", `{"AWS":"arn:aws:iam::123456789012:root"}`, root, PrincipalAccount, true},
		{"most specific entry wins", `{"AWS":["123456789012","arn:aws:iam::123456789012:user/DevUser"]}`, devUser, PrincipalDirect, true},
		{"Federated SAML provider", `{"Federated":"arn:aws:iam::123456789012:saml-provider/MySAMLIdP"}`, samlUser, PrincipalDirect, true},
		{"Federated other provider", `{"Federated":"arn:aws:iam::123456789012:saml-provider/Other"}`, samlUser, 0, false},
		{"Federated OIDC provider", `{"Federated":"arn:aws:iam::123456789012:oidc-provider/xyz.com"}`, oidcUser, PrincipalDirect, true},
		{"account does not name federated users", `{"AWS":"123456789012"}`, samlUser, 0, false},
		{"Federated entry does not name an IAM user", `{"Federated":"arn:aws:iam::123456789012:user/DevUser"}`, devUser, 0, false},
		{"Service", `{"Service":"ec2.amazonaws.com"}`, ec2, PrincipalDirect, true},
		{"Service other", `{"Service":"lambda.amazonaws.com"}`, ec2, 0, false},
		{"account does not name a service", `{"AWS":"123456789012"}`, &Principal{Kind: Service, Account: acctA, ARN: "ec2.amazonaws.com"}, 0, false},
		{"CanonicalUser names nobody", `{"CanonicalUser":"79a59df900b949e55d96a1e698fbaced"}`, devUser, 0, false},
		{"star names everyone", `"*"`, samlUser, PrincipalWildcard, true},
		{"AWS star names everyone", `{"AWS":"*"}`, devSession, PrincipalWildcard, true},
		{"star names an anonymous caller", `"*"`, nil, PrincipalWildcard, true},
		{"anonymous caller named by nothing else", `{"AWS":"123456789012"}`, nil, 0, false},
		{"zero Principal is anonymous", `{"AWS":"123456789012"}`, &Principal{Account: acctA}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := trustNaming(t, tc.principal)
			got := p.Evaluate(Request{Principal: tc.caller, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R"})
			if !tc.applies {
				if got.Decision != NoDecision || len(got.Matches) != 0 {
					t.Errorf("got %+v, want no match", got)
				}
				return
			}
			if got.Decision != Allow || len(got.Matches) != 1 || got.Matches[0].PrincipalMatch != tc.want {
				t.Errorf("got %+v, want allowed via %v", got, tc.want)
			}
			if !got.AllowedVia(tc.want) {
				t.Errorf("AllowedVia(%v) = false", tc.want)
			}
		})
	}
}

// TestVector6 runs STS-SPEC §9 vector 6 as policy unions: the STS needs the
// trust policy alone when it names the caller directly, and the caller's
// identity policy too when it names only the account or another account.
func TestVector6(t *testing.T) {
	t.Parallel()
	identityAllow := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/R"}}`)
	identityDeny := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:*","Resource":"*"}}`)
	req := Request{Principal: devUser, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R"}

	direct := trustNaming(t, `{"AWS":"arn:aws:iam::123456789012:user/DevUser"}`).Evaluate(req)
	if !direct.AllowedVia(PrincipalDirect) {
		t.Errorf("trust naming the user: %+v, want allowed via direct", direct)
	}
	root := trustNaming(t, `{"AWS":"arn:aws:iam::123456789012:root"}`)
	if r := root.Evaluate(req); r.Decision != Allow || r.AllowedVia(PrincipalDirect) || !r.AllowedVia(PrincipalAccount) {
		t.Errorf("trust naming A:root: %+v, want allowed via account only", r)
	}
	if r := identityAllow.Evaluate(req); r.Decision != Allow {
		t.Errorf("identity policy: %v, want allowed", r.Decision)
	}
	if r := trustNaming(t, `{"AWS":"arn:aws:iam::123456789012:user/Other"}`).Evaluate(req); r.Decision != NoDecision {
		t.Errorf("trust naming another user: %v, want implicitDeny", r.Decision)
	}
	r := Evaluate(req, Named{"trust", trustNaming(t, `{"AWS":"arn:aws:iam::123456789012:user/DevUser"}`)}, Named{"identity", identityDeny})
	if r.Decision != Deny {
		t.Fatalf("trust allows, identity denies: %v, want explicitDeny", r.Decision)
	}
	want := []Match{
		{Policy: "identity", Statement: 0, Effect: EffectDeny},
		{Policy: "trust", Statement: 0, Effect: EffectAllow, PrincipalMatch: PrincipalDirect},
	}
	if len(r.Matches) != 2 || r.Matches[0] != want[0] || r.Matches[1] != want[1] {
		t.Errorf("Matches = %+v, want %+v", r.Matches, want)
	}
}

// TestSeedScenarios evaluates the policies of STS-SPEC §0 scenarios 1, 5
// and 6 the way the STS decision procedures use them.
func TestSeedScenarios(t *testing.T) {
	t.Parallel()
	t.Run("1 DevUser", func(t *testing.T) {
		identity := mustParse(t, `{"Version":"2012-10-17","Statement":[
		  {"Sid":"AssumeRole","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/Developer_Role"},
		  {"Sid":"SetAwsUserNameAsSourceIdentity","Effect":"Allow","Action":"sts:SetSourceIdentity","Resource":"arn:aws:iam::123456789012:role/Developer_Role",
		   "Condition":{"StringLike":{"sts:SourceIdentity":"${aws:username}"}}}]}`)
		trust := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		  "Principal":{"AWS":"arn:aws:iam::123456789012:user/DevUser"},
		  "Action":["sts:AssumeRole","sts:SetSourceIdentity"],
		  "Condition":{"StringEquals":{"sts:SourceIdentity":"DevUser"}}}]}`)
		if err := identity.ValidateIdentity(); err != nil {
			t.Fatal(err)
		}
		if err := trust.ValidateTrust(); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			source string
			want   Decision
		}{{"DevUser", Allow}, {"Bob", NoDecision}, {"devuser", NoDecision}} {
			ctx := one("aws:username", "DevUser", "aws:PrincipalArn", devUser.ARN, "sts:SourceIdentity", tc.source, "sts:RoleSessionName", "Dev-project")
			for _, action := range []string{"sts:AssumeRole", "sts:SetSourceIdentity"} {
				req := Request{Principal: devUser, Action: action, Resource: "arn:aws:iam::123456789012:role/Developer_Role", Context: ctx}
				tr := trust.Evaluate(req)
				if tr.Decision != tc.want || tc.want == Allow && !tr.AllowedVia(PrincipalDirect) {
					t.Errorf("source %s, %s, trust: %+v, want %v", tc.source, action, tr, tc.want)
				}
				id := identity.Evaluate(req)
				wantID := tc.want
				if action == "sts:AssumeRole" {
					wantID = Allow
				}
				if id.Decision != wantID {
					t.Errorf("source %s, %s, identity: %v, want %v", tc.source, action, id.Decision, wantID)
				}
			}
		}
		other := Request{Principal: devUser, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/Other", Context: one("aws:username", "DevUser")}
		if d := identity.Evaluate(other).Decision; d != NoDecision {
			t.Errorf("identity on another role: %v, want implicitDeny", d)
		}
	})

	t.Run("5 CriticalRole SAML", func(t *testing.T) {
		trust := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		  "Principal":{"Federated":"arn:aws:iam::111111111111:saml-provider/ExampleIdP"},
		  "Action":["sts:AssumeRoleWithSAML","sts:SetSourceIdentity"],
		  "Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"},
		               "StringLike":{"sts:SourceIdentity":["Saanvi","Diego"]}}}]}`)
		if err := trust.ValidateTrust(); err != nil {
			t.Fatal(err)
		}
		idp := &Principal{Kind: Federated, Account: "111111111111", ARN: "arn:aws:iam::111111111111:saml-provider/ExampleIdP"}
		for _, tc := range []struct {
			source string
			want   Decision
		}{{"Saanvi", Allow}, {"Diego", Allow}, {"DiegoRamirez", NoDecision}, {"Admin", NoDecision}} {
			ctx := one("saml:aud", "https://signin.aws.amazon.com/saml", "sts:SourceIdentity", tc.source)
			for _, action := range []string{"sts:AssumeRoleWithSAML", "sts:SetSourceIdentity"} {
				got := trust.Evaluate(Request{Principal: idp, Action: action, Resource: "arn:aws:iam::111111111111:role/CriticalRole", Context: ctx})
				if got.Decision != tc.want {
					t.Errorf("source %s, %s: %v, want %v", tc.source, action, got.Decision, tc.want)
				}
			}
		}
		ctx := one("saml:aud", "https://signin.aws.amazon.com/saml", "sts:SourceIdentity", "Saanvi")
		other := &Principal{Kind: Federated, Account: "111111111111", ARN: "arn:aws:iam::111111111111:saml-provider/Other"}
		if d := trust.Evaluate(Request{Principal: other, Action: "sts:AssumeRoleWithSAML", Context: ctx}).Decision; d != NoDecision {
			t.Errorf("another provider: %v, want implicitDeny", d)
		}
	})

	t.Run("6 chained CriticalRole_2", func(t *testing.T) {
		permissions := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		  "Action":["sts:AssumeRole","sts:SetSourceIdentity"],
		  "Resource":"arn:aws:iam::222222222222:role/CriticalRole_2"}]}`)
		trust := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		  "Principal":{"AWS":"arn:aws:iam::111111111111:role/CriticalRole"},
		  "Action":["sts:AssumeRole","sts:SetSourceIdentity"],
		  "Condition":{"StringLike":{"aws:SourceIdentity":["Saanvi","Diego"]}}}]}`)
		if err := permissions.ValidateIdentity(); err != nil {
			t.Fatal(err)
		}
		if err := trust.ValidateTrust(); err != nil {
			t.Fatal(err)
		}
		session := &Principal{Kind: AssumedRole, Account: "111111111111",
			ARN: "arn:aws:sts::111111111111:assumed-role/CriticalRole/Saanvi", RoleARN: "arn:aws:iam::111111111111:role/CriticalRole"}
		target := "arn:aws:iam::222222222222:role/CriticalRole_2"
		for _, tc := range []struct {
			name string
			ctx  Context
			want Decision
		}{
			{"carried Saanvi", one("aws:SourceIdentity", "Saanvi", "sts:SourceIdentity", "Saanvi"), Allow},
			{"carried Admin", one("aws:SourceIdentity", "Admin", "sts:SourceIdentity", "Admin"), NoDecision},
			{"no source identity", one("aws:PrincipalArn", session.RoleARN), NoDecision},
		} {
			for _, action := range []string{"sts:AssumeRole", "sts:SetSourceIdentity"} {
				req := Request{Principal: session, Action: action, Resource: target, Context: tc.ctx}
				tr := trust.Evaluate(req)
				if tr.Decision != tc.want || tc.want == Allow && !tr.AllowedVia(PrincipalDirect) {
					t.Errorf("%s, %s, trust: %+v, want %v", tc.name, action, tr, tc.want)
				}
				if d := permissions.Evaluate(req).Decision; d != Allow {
					t.Errorf("%s, %s, permissions: %v, want allowed", tc.name, action, d)
				}
			}
		}
		if d := permissions.Evaluate(Request{Principal: session, Action: "sts:AssumeRole", Resource: "arn:aws:iam::222222222222:role/Other"}).Decision; d != NoDecision {
			t.Errorf("permissions on another role: %v, want implicitDeny", d)
		}
	})
}
