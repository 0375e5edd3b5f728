package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// policyDir holds the policy documents shared with idp/policy/simulate's tests.
const policyDir = "../../idp/policy/simulate/testdata/"

type simStatement struct {
	SourcePolicyID string `json:"sourcePolicyId"`
	StatementIndex int    `json:"statementIndex"`
	Sid            string `json:"sid"`
	Effect         string `json:"effect"`
}

type simOutput struct {
	Decision          string              `json:"decision"`
	MatchedStatements []simStatement      `json:"matchedStatements"`
	Context           map[string][]string `json:"context"`
}

func TestPolicySimulateJSON(t *testing.T) {
	t.Parallel()
	const (
		acct    = "123456789012"
		alice   = "arn:aws:iam::123456789012:user/alice"
		session = "arn:aws:sts::123456789012:assumed-role/Developer/alice"
		role    = "arn:aws:iam::123456789012:role/Developer"
		devUser = "arn:aws:iam::123456789012:user/DevUser"
	)
	stmt := func(file string, i int, sid, effect string) simStatement {
		return simStatement{policyDir + file, i, sid, effect}
	}
	tests := []struct {
		name string
		args []string
		want simOutput
	}{
		{"allow",
			[]string{"--policy", policyDir + "allow.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::example-bucket/a.txt"},
			simOutput{"allowed", []simStatement{stmt("allow.json", 0, "ReadBucket", "Allow")}, map[string][]string{}}},
		{"explicit deny beats allow",
			[]string{"--policy", policyDir + "allow.json", "--policy", policyDir + "deny.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::example-bucket/secret/k"},
			simOutput{"explicitDeny", []simStatement{stmt("deny.json", 1, "NoSecrets", "Deny")}, map[string][]string{}}},
		{"implicit deny",
			[]string{"--policy", policyDir + "allow.json", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::example-bucket/a.txt"},
			simOutput{"implicitDeny", []simStatement{}, map[string][]string{}}},
		{"multi-valued key with ForAnyValue",
			[]string{"--policy", policyDir + "tags.json", "--action", "sts:TagSession", "--resource", role, "--context", "aws:TagKeys=env", "--context", "aws:TagKeys=team"},
			simOutput{"allowed", []simStatement{stmt("tags.json", 0, "AllowWithTeamTag", "Allow")}, map[string][]string{"aws:TagKeys": {"env", "team"}}}},
		{"multi-valued key with a negated ForAnyValue",
			[]string{"--policy", policyDir + "tags.json", "--action", "sts:TagSession", "--resource", role, "--context", "aws:TagKeys=team", "--context", "AWS:tagkeys=cost"},
			simOutput{"explicitDeny", []simStatement{stmt("tags.json", 1, "OnlyKnownTagKeys", "Deny")}, map[string][]string{"aws:TagKeys": {"team", "cost"}}}},
		{"multi-valued key with ForAllValues",
			[]string{"--policy", policyDir + "forall.json", "--action", "sts:TagSession", "--resource", role, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=env-prod"},
			simOutput{"allowed", []simStatement{stmt("forall.json", 0, "KnownTagKeysOnly", "Allow")}, map[string][]string{"aws:TagKeys": {"team", "env-prod"}}}},
		{"multi-valued key failing ForAllValues",
			[]string{"--policy", policyDir + "forall.json", "--action", "sts:TagSession", "--resource", role, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=cost"},
			simOutput{"implicitDeny", []simStatement{}, map[string][]string{"aws:TagKeys": {"team", "cost"}}}},
		{"a value may hold '='",
			[]string{"--policy", policyDir + "allow.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::example-bucket/a", "--context", "k=a=b"},
			simOutput{"allowed", []simStatement{stmt("allow.json", 0, "ReadBucket", "Allow")}, map[string][]string{"k": {"a=b"}}}},
		{"aws:username derived for an IAM user",
			[]string{"--policy", policyDir + "home.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::home/alice/notes.txt", "--principal", alice},
			simOutput{"allowed", []simStatement{stmt("home.json", 0, "OwnHome", "Allow")},
				map[string][]string{"aws:PrincipalArn": {alice}, "aws:PrincipalAccount": {acct}, "aws:username": {"alice"}}}},
		{"aws:username not derived for a role session",
			[]string{"--policy", policyDir + "home.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::home/alice/notes.txt", "--principal", session},
			simOutput{"implicitDeny", []simStatement{}, map[string][]string{"aws:PrincipalArn": {role}, "aws:PrincipalAccount": {acct}}}},
		{"a given key wins over the derived one",
			[]string{"--policy", policyDir + "home.json", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::home/bob/notes.txt", "--principal", alice, "--context", "aws:username=bob"},
			simOutput{"allowed", []simStatement{stmt("home.json", 0, "OwnHome", "Allow")},
				map[string][]string{"aws:PrincipalArn": {alice}, "aws:PrincipalAccount": {acct}, "aws:username": {"bob"}}}},
		{"trust policy with a matching principal",
			[]string{"--policy", policyDir + "trust.json", "--action", "sts:AssumeRole", "--resource", role, "--principal", devUser},
			simOutput{"allowed", []simStatement{stmt("trust.json", 0, "DevUserAssumes", "Allow")},
				map[string][]string{"aws:PrincipalArn": {devUser}, "aws:PrincipalAccount": {acct}, "aws:username": {"DevUser"}}}},
		{"trust policy with another principal",
			[]string{"--policy", policyDir + "trust.json", "--action", "sts:AssumeRole", "--resource", role, "--principal", "arn:aws:iam::123456789012:user/Bob"},
			simOutput{"implicitDeny", []simStatement{},
				map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::123456789012:user/Bob"}, "aws:PrincipalAccount": {acct}, "aws:username": {"Bob"}}}},
		{"trust policy for a SAML provider",
			[]string{"--policy", policyDir + "trust.json", "--action", "sts:AssumeRoleWithSAML", "--resource", role,
				"--principal", "arn:aws:iam::123456789012:saml-provider/idpbridge", "--context", "saml:aud=https://signin.aws.amazon.com/saml"},
			simOutput{"allowed", []simStatement{stmt("trust.json", 1, "SamlSignIn", "Allow")},
				map[string][]string{"saml:aud": {"https://signin.aws.amazon.com/saml"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := newCLI(t).run("", append([]string{"policy", "simulate", "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got simOutput
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("decode %q: %v", stdout, err)
			}
			if got.Decision != tc.want.Decision {
				t.Errorf("decision %q, want %q", got.Decision, tc.want.Decision)
			}
			if got.MatchedStatements == nil || !reflect.DeepEqual(got.MatchedStatements, tc.want.MatchedStatements) {
				t.Errorf("matchedStatements %+v, want %+v", got.MatchedStatements, tc.want.MatchedStatements)
			}
			if got.Context == nil || !reflect.DeepEqual(got.Context, tc.want.Context) {
				t.Errorf("context %v, want %v", got.Context, tc.want.Context)
			}
		})
	}
}

func TestPolicySimulateText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string // lines of the output, white space collapsed
	}{
		{"explicit deny",
			[]string{"--policy", policyDir + "allow.json", "--policy", policyDir + "deny.json", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::example-bucket/secret/k",
				"--principal", "arn:aws:iam::123456789012:user/alice", "--context", "aws:TagKeys=a", "--context", "aws:TagKeys=b"},
			[]string{
				"Decision: explicitDeny",
				"Deciding statements:",
				"POLICY STATEMENT SID EFFECT",
				policyDir + "deny.json 0 NoWrites Deny",
				policyDir + "deny.json 1 NoSecrets Deny",
				"Context:",
				`aws:PrincipalAccount "123456789012"`,
				`aws:PrincipalArn "arn:aws:iam::123456789012:user/alice"`,
				`aws:TagKeys "a", "b"`,
				`aws:username "alice"`,
			}},
		{"allowed by a statement without a Sid",
			[]string{"--policy", policyDir + "home.json", "--action", "s3:ListBucket", "--resource", "arn:aws:s3:::home", "--context", "aws:PrincipalAccount=123456789012"},
			[]string{
				"Decision: allowed",
				"Deciding statements:",
				"POLICY STATEMENT SID EFFECT",
				policyDir + "home.json 1 - Allow",
				"Context:",
				`aws:PrincipalAccount "123456789012"`,
			}},
		{"explain a denied trust policy",
			[]string{"--policy", policyDir + "trust.json", "--action", "sts:AssumeRoleWithSAML", "--resource", "arn:aws:iam::123456789012:role/Developer",
				"--principal", "arn:aws:iam::123456789012:saml-provider/idpbridge", "--context", "SAML:aud=http://localhost:8080/sts/saml", "--explain"},
			[]string{
				"Decision: implicitDeny",
				"Deciding statements: none (no statement allows the request)",
				"Explanation:",
				`policy "` + policyDir + `trust.json" statement #0 (DevUserAssumes) Allow does not apply: its Action does not list sts:AssumeRoleWithSAML`,
				`policy "` + policyDir + `trust.json" statement #1 (SamlSignIn) Allow does not apply: condition StringEquals saml:aud "https://signin.aws.amazon.com/saml" is not met: the request has saml:aud "http://localhost:8080/sts/saml"`,
				`condition StringEquals saml:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"`,
				"Context:",
				`SAML:aud "http://localhost:8080/sts/saml"`,
			}},
		{"implicit deny without context",
			[]string{"--policy", policyDir + "allow.json", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::example-bucket/a"},
			[]string{
				"Decision: implicitDeny",
				"Deciding statements: none (no statement allows the request)",
				"Context: (no keys)",
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := newCLI(t).run("", append([]string{"policy", "simulate"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
				got = append(got, strings.Join(strings.Fields(line), " "))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("output:\n%s\nwant lines:\n%s", stdout, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPolicySimulateErrors(t *testing.T) {
	t.Parallel()
	base := []string{"--action", "s3:GetObject", "--resource", "*"}
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
	}{
		{"malformed policy names the file and the statement", append([]string{"--policy", policyDir + "malformed.json"}, base...), 2,
			[]string{"malformed.json", "Statement[1].Effect", `must be "Allow" or "Deny", not "Permit"`}},
		{"NotPrincipal in a trust policy", append([]string{"--policy", policyDir + "notprincipal.json"}, base...), 2,
			[]string{"notprincipal.json", "Statement[0].NotPrincipal", "not allowed in a trust policy"}},
		{"unknown flag", append([]string{"--policy", policyDir + "allow.json", "--colour", "blue"}, base...), 2,
			[]string{"-colour"}},
		{"positional argument", append([]string{"--policy", policyDir + "allow.json", "extra"}, base...), 2,
			[]string{`unexpected argument "extra"`}},
		{"missing action", []string{"--policy", policyDir + "allow.json", "--resource", "*"}, 2, []string{"--action is required"}},
		{"missing resource", []string{"--policy", policyDir + "allow.json", "--action", "s3:GetObject"}, 2, []string{"--resource is required"}},
		{"no policy", base, 2, []string{"--policy"}},
		{"context without '='", append([]string{"--policy", policyDir + "allow.json", "--context", "aws:username"}, base...), 2,
			[]string{`--context "aws:username": want KEY=VALUE`}},
		{"bad principal", append([]string{"--policy", policyDir + "allow.json", "--principal", "alice"}, base...), 2,
			[]string{"principal", `"alice"`}},
		{"bad action", []string{"--policy", policyDir + "allow.json", "--action", "s3:Get*", "--resource", "*"}, 2, []string{"action"}},
		{"missing file is a failure", append([]string{"--policy", policyDir + "absent.json"}, base...), 1, []string{"absent.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := newCLI(t).run("", append([]string{"policy", "simulate"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, want := range tc.contains {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
		})
	}
}

const simulateSTSSection = `
sts:
  accounts:
    - id: "123456789012"
      users:
        - name: DevUser
          policies:
            - name: assume-dev
              document:
                Version: "2012-10-17"
                Statement:
                  - {Sid: AssumeDev, Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/teams/Developer_Role"}
            - name: own-home
              document: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"}}'
      roles:
        - name: Developer_Role
          path: /teams/
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Sid: DevUserAssumes
                Effect: Allow
                Principal: {AWS: "arn:aws:iam::123456789012:user/DevUser"}
                Action: [sts:AssumeRole, sts:SetSourceIdentity]
          policies:
            - name: read-bucket
              document:
                Statement: {Sid: ReadBucket, Effect: Allow, Action: "s3:*", Resource: "arn:aws:s3:::example-bucket/*"}
            - name: deny-secrets
              document:
                Statement: {Sid: NoSecrets, Effect: Deny, Action: "s3:*", Resource: "arn:aws:s3:::example-bucket/secret/*"}
`

func TestPolicySimulateConfiguredPrincipal(t *testing.T) {
	t.Parallel()
	const (
		acct    = "123456789012"
		devUser = "arn:aws:iam::123456789012:user/DevUser"
		role    = "arn:aws:iam::123456789012:role/teams/Developer_Role"
	)
	path := writeConfig(t, simulateSTSSection)
	userCtx := map[string][]string{"aws:PrincipalArn": {devUser}, "aws:PrincipalAccount": {acct}, "aws:username": {"DevUser"}}
	roleCtx := map[string][]string{"aws:PrincipalArn": {role}, "aws:PrincipalAccount": {acct}}
	tests := []struct {
		name string
		args []string
		want simOutput
	}{
		{"user policy allows",
			[]string{"--user", "DevUser", "--action", "sts:AssumeRole", "--resource", role},
			simOutput{"allowed", []simStatement{{"assume-dev", 0, "AssumeDev", "Allow"}}, userCtx}},
		{"user policy with a variable from the derived aws:username",
			[]string{"--user", "DevUser", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::home/DevUser/notes.txt"},
			simOutput{"allowed", []simStatement{{"own-home", 0, "", "Allow"}}, userCtx}},
		{"user policy, implicit deny",
			[]string{"--user", "DevUser", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::home/Bob/notes.txt"},
			simOutput{"implicitDeny", []simStatement{}, userCtx}},
		{"role permission policies allow",
			[]string{"--role", "Developer_Role", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::example-bucket/a"},
			simOutput{"allowed", []simStatement{{"read-bucket", 0, "ReadBucket", "Allow"}}, roleCtx}},
		{"role permission policies deny explicitly",
			[]string{"--role", "Developer_Role", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::example-bucket/secret/k"},
			simOutput{"explicitDeny", []simStatement{{"deny-secrets", 0, "NoSecrets", "Deny"}}, roleCtx}},
		{"role with an extra policy file",
			[]string{"--role", "Developer_Role", "--policy", policyDir + "deny.json", "--action", "s3:PutObject", "--resource", "arn:aws:s3:::example-bucket/a"},
			simOutput{"explicitDeny", []simStatement{{policyDir + "deny.json", 0, "NoWrites", "Deny"}}, roleCtx}},
		{"trust policy for a trusted principal, on the role's ARN by default",
			[]string{"--role", "Developer_Role", "--trust", "--action", "sts:AssumeRole", "--principal", devUser},
			simOutput{"allowed", []simStatement{{"trust_policy", 0, "DevUserAssumes", "Allow"}}, userCtx}},
		{"trust policy for another principal",
			[]string{"--role", "Developer_Role", "--trust", "--action", "sts:AssumeRole", "--principal", "arn:aws:iam::123456789012:user/Bob"},
			simOutput{"implicitDeny", []simStatement{},
				map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::123456789012:user/Bob"}, "aws:PrincipalAccount": {acct}, "aws:username": {"Bob"}}}},
		{"trust policy for another resource",
			[]string{"--role", "Developer_Role", "--trust", "--action", "sts:AssumeRole", "--principal", devUser, "--resource", "arn:aws:iam::123456789012:role/Other"},
			simOutput{"allowed", []simStatement{{"trust_policy", 0, "DevUserAssumes", "Allow"}}, userCtx}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"policy", "simulate", "--json", "--config", path, "--account", acct}, tc.args...)
			stdout, stderr, code := newCLI(t).run("", args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var got simOutput
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("decode %q: %v", stdout, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}

	errTests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"unknown account", []string{"--account", "111122223333", "--role", "Developer_Role"}, 2, "account 111122223333 is not configured"},
		{"unknown role", []string{"--account", acct, "--role", "Nope"}, 2, `has no role "Nope"`},
		{"unknown user", []string{"--account", acct, "--user", "Nope"}, 2, `has no user "Nope"`},
		{"role without account", []string{"--role", "Developer_Role"}, 2, "account: missing"},
		{"role and user", []string{"--account", acct, "--role", "Developer_Role", "--user", "DevUser"}, 2, "not both"},
		{"trust for a user", []string{"--account", acct, "--user", "DevUser", "--trust"}, 2, "only a role has a trust policy"},
		{"account alone", []string{"--account", acct}, 2, "role: missing"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"policy", "simulate", "--config", path, "--action", "s3:GetObject", "--resource", "*"}, tc.args...)
			_, stderr, code := newCLI(t).run("", args...)
			if code != tc.code || !strings.Contains(stderr, tc.contains) {
				t.Errorf("exit %d, stderr %q; want %d containing %q", code, stderr, tc.code, tc.contains)
			}
		})
	}

	t.Run("invalid configuration", func(t *testing.T) {
		bad := writeConfig(t, strings.Replace(simulateSTSSection, "Effect: Deny", "Effect: Refuse", 1))
		_, stderr, code := newCLI(t).run("", "policy", "simulate", "--config", bad, "--account", acct, "--role", "Developer_Role",
			"--action", "s3:GetObject", "--resource", "*")
		want := `sts.accounts[0].roles[0].policies[1].document: Statement[0].Effect`
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr %q; want 2 containing %q", code, stderr, want)
		}
	})
}

// TestPolicySimulateExplainJSON: --json with --explain adds the API's
// "explanations"; without --explain the output has none.
func TestPolicySimulateExplainJSON(t *testing.T) {
	t.Parallel()
	args := []string{"policy", "simulate", "--json", "--policy", policyDir + "trust.json", "--action", "sts:AssumeRoleWithSAML",
		"--resource", "arn:aws:iam::123456789012:role/Developer", "--principal", "arn:aws:iam::123456789012:saml-provider/idpbridge",
		"--context", "saml:aud=http://localhost:8080/sts/saml"}
	stdout, stderr, code := newCLI(t).run("", append(args, "--explain")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Decision     string `json:"decision"`
		Explanations []struct {
			StatementIndex int    `json:"statementIndex"`
			Applies        bool   `json:"applies"`
			Element        string `json:"element"`
			Conditions     []struct {
				Met  bool   `json:"met"`
				Text string `json:"text"`
			} `json:"conditions"`
		} `json:"explanations"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Decision != "implicitDeny" || len(got.Explanations) != 2 || got.Explanations[1].Element != "Condition" ||
		len(got.Explanations[1].Conditions) != 1 || got.Explanations[1].Conditions[0].Met ||
		got.Explanations[1].Conditions[0].Text != `condition StringEquals saml:aud is not met: request value "http://localhost:8080/sts/saml" is not "https://signin.aws.amazon.com/saml"` {
		t.Errorf("explained output:\n%s", stdout)
	}
	if stdout, _, _ := newCLI(t).run("", args...); strings.Contains(stdout, "explanations") {
		t.Errorf("explanations without --explain:\n%s", stdout)
	}
}
