package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// stsChainSection: DevUser assumes Developer_Role with source identity
// DevUser; its sessions chain to Chain, and Chain's to Chain again.
const stsChainSection = `
sts:
  accounts:
    - id: "123456789012"
      users:
        - name: DevUser
          access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]
          policies:
            - {name: assume-dev, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "*"}]}}
      roles:
        - name: Developer_Role
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/DevUser"}, Action: [sts:AssumeRole, sts:SetSourceIdentity]}
          policies:
            - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "*"}]}}
        - name: Chain
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:SetSourceIdentity]}
          policies:
            - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "*"}]}}
`

// TestSTSRevokeChainAndSourceIdentity: `sts revoke ASIA...` also revokes
// the sessions chained from it (to any depth) while serve runs; `sts
// revoke --source-identity` revokes the rest of that person's sessions;
// both are in the trail as AdminSessionsRevoked with the count and reason.
func TestSTSRevokeChainAndSourceIdentity(t *testing.T) {
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: warn}\n%s", addr, addr, stsChainSection))
	serveOnce(t, c, path, func(base, _ string) {
		ctx := context.Background()
		client := func(cr *awssts.AssumeRoleOutput) *awssts.Client {
			key, secret, token := "AKIAIOSFODNN7EXAMPLE", "s3cret-value-of-devuser", ""
			if cr != nil {
				key, secret, token = aws.ToString(cr.Credentials.AccessKeyId), aws.ToString(cr.Credentials.SecretAccessKey), aws.ToString(cr.Credentials.SessionToken)
			}
			return awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1,
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token}, nil
				})})
		}
		assume := func(from *awssts.AssumeRoleOutput, role, name string) *awssts.AssumeRoleOutput {
			t.Helper()
			in := &awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/" + role), RoleSessionName: aws.String(name)}
			if from == nil {
				in.SourceIdentity = aws.String("DevUser")
			}
			out, err := client(from).AssumeRole(ctx, in)
			if err != nil {
				t.Fatalf("AssumeRole %s: %v", name, err)
			}
			return out
		}
		works := func(s *awssts.AssumeRoleOutput, want bool) {
			t.Helper()
			_, err := client(s).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			var api smithy.APIError
			switch {
			case want && err != nil:
				t.Fatalf("%s refused: %v", aws.ToString(s.AssumedRoleUser.Arn), err)
			case !want && (!errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId"):
				t.Fatalf("%s after revocation: %v", aws.ToString(s.AssumedRoleUser.Arn), err)
			}
		}
		root := assume(nil, "Developer_Role", "root")
		child := assume(root, "Chain", "child")
		grandchild := assume(child, "Chain", "grandchild")
		laptop := assume(nil, "Developer_Role", "laptop")
		laptopChild := assume(laptop, "Chain", "laptop-child")

		key := aws.ToString(root.Credentials.AccessKeyId)
		stdout, stderr, code := c.run("", "sts", "revoke", key, "--config", path)
		if code != 0 || !strings.Contains(stdout, "Revoked session "+key) || !strings.Contains(stdout, "Revoked 2 session(s) chained from it") ||
			!strings.Contains(stdout, aws.ToString(grandchild.Credentials.AccessKeyId)) {
			t.Fatalf("sts revoke = %d\n%s%s", code, stdout, stderr)
		}
		works(root, false)
		works(child, false)
		works(grandchild, false)
		works(laptop, true)
		works(laptopChild, true)

		stdout, stderr, code = c.run("", "sts", "revoke", "--source-identity", "DevUser", "--reason", "laptop stolen", "--config", path)
		if code != 0 || !strings.Contains(stdout, "Revoked 2 session(s) carrying source identity DevUser") {
			t.Fatalf("sts revoke --source-identity = %d\n%s%s", code, stdout, stderr)
		}
		works(laptop, false)
		works(laptopChild, false)
		if stdout, _, code := c.run("", "sts", "revoke", "--source-identity", "DevUser", "--config", path); code != 0 ||
			!strings.Contains(stdout, "No live session carries source identity DevUser") {
			t.Fatalf("second sts revoke --source-identity = %d\n%s", code, stdout)
		}

		trail, stderr, code := c.run("", "audit", "lookup", "--event", "AdminSessionsRevoked", "--json", "--config", path)
		if code != 0 {
			t.Fatalf("audit lookup = %d %s", code, stderr)
		}
		var page struct {
			Events []struct {
				RequestParameters struct {
					TargetType string            `json:"targetType"`
					Target     string            `json:"target"`
					Details    map[string]string `json:"details"`
				} `json:"requestParameters"`
			} `json:"events"`
		}
		if err := json.Unmarshal([]byte(trail), &page); err != nil {
			t.Fatalf("audit lookup --json: %v\n%s", err, trail)
		}
		var got []string
		for _, ev := range page.Events {
			p := ev.RequestParameters
			got = append(got, fmt.Sprintf("%s %s count=%s reason=%q", p.TargetType, p.Target, p.Details["count"], p.Details["reason"]))
		}
		want := []string{
			`SourceIdentity DevUser count=0 reason="revoke of every live session carrying source identity DevUser"`,
			`SourceIdentity DevUser count=2 reason="laptop stolen"`,
			`STSSession ` + key + ` count=3 reason="revoke of session ` + key + ` and the sessions chained from it"`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("AdminSessionsRevoked records, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestSTSRevokeUsage(t *testing.T) {
	c := newCLI(t)
	path := writeConfig(t, stsChainSection)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"ASIAAAAAAAAAAAAAAAAA", "--source-identity", "Diego"}, "give either an ACCESS_KEY_ID or --source-identity, not both"},
		{[]string{"--source-identity", "x"}, `--source-identity "x" is not a source identity`},
		{[]string{"--source-identity", "Diego Ramírez"}, "is not a source identity"},
		{nil, "missing the ACCESS_KEY_ID of the session (or --source-identity IDENTITY)"},
	} {
		_, stderr, code := c.run("", append([]string{"sts", "revoke", "--config", path}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.msg) {
			t.Errorf("sts revoke %v = %d %q, want 2 and %q", tc.args, code, stderr, tc.msg)
		}
	}
}
