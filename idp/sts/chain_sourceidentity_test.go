package sts

import (
	"net/http"
	"strings"
	"testing"
)

// chainConfig is one account where the IAM user Saanvi assumes R0 with her
// source identity (her own policy allows only sts:AssumeRole: the trust
// policy naming her directly suffices in the same account), and R0's
// sessions chain to R1, whose trust names R0 with sts:AssumeRole and
// sts:SetSourceIdentity. R0PERMISSIONS is R0's permission policy's action
// list.
const chainConfig = `
region: us-east-1
accounts:
  - id: "123456789012"
    users:
      - name: Saanvi
        access_keys: [{id: AKIAQ3EGVSAANVI00001, secret_env: SAANVI_SECRET}]
        policies:
          - {name: assume-r0, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/R0"}]}}
    roles:
      - name: R0
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/Saanvi"}, Action: [sts:AssumeRole, sts:SetSourceIdentity]}
        policies:
          - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: R0PERMISSIONS, Resource: "arn:aws:iam::123456789012:role/R1"}]}}
      - name: R1
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: TRUSTED}, Action: [sts:AssumeRole, sts:SetSourceIdentity]}
`

const (
	saanviKey    = "AKIAQ3EGVSAANVI00001"
	saanviSecret = "saanvi-secret-0123456789abcdefghijklmn"
	r0ARN        = "arn:aws:iam::123456789012:role/R0"
	r1ARN        = "arn:aws:iam::123456789012:role/R1"
)

func chainEnv(t *testing.T, r0Permissions, trusted string) *testEnv {
	t.Helper()
	cfg := strings.NewReplacer("R0PERMISSIONS", r0Permissions, "TRUSTED", trusted).Replace(chainConfig)
	return newEnv(t, cfg, withBuild(func(b *BuildOptions) {
		b.Getenv = func(k string) string {
			if k == "SAANVI_SECRET" {
				return saanviSecret
			}
			return ""
		}
	}))
}

// A role session chaining to a role in its own account needs
// sts:SetSourceIdentity in its own permission policy as well as in the
// target's trust, whether the source identity is carried over or passed
// again, and whether the trust names the role or the session.
func TestChainingNeedsSetSourceIdentityInCallerPolicy(t *testing.T) {
	t.Parallel()
	sessionARN := `"arn:aws:sts::123456789012:assumed-role/R0/saanvi"`
	tests := []struct {
		name, permissions, trusted string
		passed                     bool
		ok                         bool
	}{
		{"carried, trust names role, policy lacks it", "sts:AssumeRole", `"` + r0ARN + `"`, false, false},
		{"passed, trust names role, policy lacks it", "sts:AssumeRole", `"` + r0ARN + `"`, true, false},
		{"carried, trust names session, policy lacks it", "sts:AssumeRole", sessionARN, false, false},
		{"carried, trust names account, policy lacks it", "sts:AssumeRole", `"123456789012"`, false, false},
		{"carried, policy allows it", "[sts:AssumeRole, sts:SetSourceIdentity]", `"` + r0ARN + `"`, false, true},
		{"passed, policy allows it", "[sts:AssumeRole, sts:SetSourceIdentity]", `"` + r0ARN + `"`, true, true},
		{"carried, trust names session, policy allows it", "[sts:AssumeRole, sts:SetSourceIdentity]", sessionARN, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := chainEnv(t, tc.permissions, tc.trusted)
			// The IAM user keeps the same-account shortcut: R0's trust
			// names her with sts:SetSourceIdentity, her policy does not.
			first, r0 := e.assumeRole(creds{key: saanviKey, secret: saanviSecret},
				"RoleArn", r0ARN, "RoleSessionName", "saanvi", "SourceIdentity", "Saanvi")
			if first.SourceIdentity != "Saanvi" {
				t.Fatalf("R0 session source identity = %q", first.SourceIdentity)
			}
			params := form("AssumeRole", "RoleArn", r1ARN, "RoleSessionName", "chained")
			if tc.passed {
				params.Set("SourceIdentity", "Saanvi")
			}
			r := e.do(&r0, params)
			if !tc.ok {
				wantError(t, r, http.StatusForbidden, "AccessDenied",
					"User: arn:aws:sts::123456789012:assumed-role/R0/saanvi is not authorized to perform: sts:SetSourceIdentity on resource: "+r1ARN)
				return
			}
			var res AssumeRoleResult
			r.result(t, &res)
			if res.SourceIdentity != "Saanvi" {
				t.Fatalf("chained session source identity = %q, want Saanvi", res.SourceIdentity)
			}
		})
	}
}
