package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

const stsTestSection = `
sts:
  accounts:
    - id: "123456789012"
      users:
        - name: DevUser
          access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]
          policies:
            - name: assume-dev
              document:
                Version: "2012-10-17"
                Statement:
                  - {Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/Developer_Role"}
                  - Effect: Allow
                    Action: sts:SetSourceIdentity
                    Resource: "arn:aws:iam::123456789012:role/Developer_Role"
                    Condition: {StringLike: {sts:SourceIdentity: "${aws:username}"}}
      roles:
        - name: Developer_Role
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {AWS: "arn:aws:iam::123456789012:user/DevUser"}
                Action: [sts:AssumeRole, sts:SetSourceIdentity]
                Condition: {StringEquals: {sts:SourceIdentity: DevUser}}
`

// TestConfigCheckSTS: config check names the role, the statement and the
// reason of a bad policy.
func TestConfigCheckSTS(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, `
sts:
  accounts:
    - id: "123456789012"
      roles:
        - name: Fine
          trust_policy: {Statement: {Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole}}
        - name: Broken
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: sts:AssumeRole, Condition: {StringEqualz: {sts:SourceIdentity: x}}}
`)
	_, stderr, code := c.run("", "config", "check", "--config", path)
	want := `sts.accounts[0].roles[1].trust_policy: Statement[0].Condition: unknown operator "StringEqualz"`
	if code != 2 || !strings.Contains(stderr, want) {
		t.Fatalf("config check = %d\n%s\nwant %s", code, stderr, want)
	}
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	if _, stderr, code := c.run("", "config", "check", "--config", writeConfig(t, stsTestSection)); code != 0 {
		t.Fatalf("valid sts section: %d %s", code, stderr)
	}
}

// TestServeSTS assumes a role through the served /sts/ with the AWS SDK,
// lists the session with `sts sessions`, revokes it with `sts revoke`
// while serve runs, and sees the credentials refused.
func TestServeSTS(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: warn}\n%s", addr, addr, stsTestSection))
	serveOnce(t, c, path, func(base, _ string) {
		ctx := context.Background()
		client := func(key, secret, token string) *awssts.Client {
			return awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1,
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret, SessionToken: token}, nil
				})})
		}
		out, err := client("AKIAIOSFODNN7EXAMPLE", "s3cret-value-of-devuser", "").AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::123456789012:role/Developer_Role"), RoleSessionName: aws.String("Dev-project"),
			SourceIdentity: aws.String("DevUser")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SourceIdentity) != "DevUser" {
			t.Fatalf("SourceIdentity = %q", aws.ToString(out.SourceIdentity))
		}
		cr := out.Credentials
		session := client(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
		if _, err := session.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}

		list, _, code := c.run("", "sts", "sessions", "--config", path, "--source-identity", "DevUser")
		key := aws.ToString(cr.AccessKeyId)
		if code != 0 || !regexp.MustCompile(`(?m)^`+key+`\s+arn:aws:iam::123456789012:role/Developer_Role\s+Dev-project\s+DevUser\s+.*active$`).MatchString(list) {
			t.Fatalf("sts sessions = %d\n%s", code, list)
		}
		stdout, stderr, code := c.run("", "sts", "revoke", key, "--config", path)
		if code != 0 || !strings.Contains(stdout, "Revoked session "+key) {
			t.Fatalf("sts revoke = %d %s %s", code, stdout, stderr)
		}
		_, err = session.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId" {
			t.Fatalf("GetCallerIdentity after revoke = %v", err)
		}
		if _, stderr, code := c.run("", "sts", "revoke", "ASIAQ3EGVNOSUCHKEY00", "--config", path); code != 1 ||
			!strings.Contains(stderr, "no STS session has the access key ID ASIAQ3EGVNOSUCHKEY00") {
			t.Fatalf("revoke of an unknown key = %d %s", code, stderr)
		}
		if _, stderr, code := c.run("", "sts", "revoke", "AKIAIOSFODNN7EXAMPLE", "--config", path); code != 2 ||
			!strings.Contains(stderr, "not a session access key ID") {
			t.Fatalf("revoke of a long-term key = %d %s", code, stderr)
		}
		out2, _, _ := c.run("", "audit", "lookup", "--config", path, "--source-identity", "DevUser")
		if !strings.Contains(out2, "AssumeRole") {
			t.Fatalf("audit lookup --source-identity DevUser:\n%s", out2)
		}
	})
}

// TestServePolicySimulateAPI: serve answers POST /admin/api/policy/simulate
// for administrators only, from its own origin, with the configured
// principals of the sts section.
func TestServePolicySimulateAPI(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "s3cret-value-of-devuser"
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, stsTestSection))
	for _, args := range [][]string{{"alice"}, {"root", "--group", "idpbridge-admins"}} {
		args = append([]string{"user", "add"}, append(args, "--password-stdin", "--config", path)...)
		if _, stderr, code := c.run("correct-horse-battery\n", args...); code != 0 {
			t.Fatalf("user add: %s", stderr)
		}
	}
	serveOnce(t, c, path, func(_, _ string) {
		const api = "/admin/api/policy/simulate"
		const jsonType = "application/json"
		ask := func(si string) string {
			return `{"account": "123456789012", "user": "DevUser", "action": "sts:SetSourceIdentity",
				"resource": "arn:aws:iam::123456789012:role/Developer_Role",
				"principal": "arn:aws:iam::123456789012:user/DevUser",
				"context": {"sts:SourceIdentity": "` + si + `"}}`
		}

		anon := newWebClient(t, base)
		if code, body := anon.do("POST", api, jsonType, base, ask("DevUser")); code != http.StatusUnauthorized {
			t.Errorf("signed out: %d %s", code, body)
		}
		alice := newWebClient(t, base)
		alice.signIn("alice", "correct-horse-battery")
		if code, body := alice.do("POST", api, jsonType, base, ask("DevUser")); code != http.StatusForbidden {
			t.Errorf("not an administrator: %d %s", code, body)
		}

		admin := newWebClient(t, base)
		admin.signIn("root", "correct-horse-battery")
		if code, body := admin.do("POST", api, jsonType, "https://evil.example", ask("DevUser")); code != http.StatusForbidden {
			t.Errorf("another origin: %d %s", code, body)
		}
		for si, want := range map[string]string{"DevUser": "allowed", "Bob": "implicitDeny"} {
			code, body := admin.do("POST", api, jsonType, base, ask(si))
			var out struct {
				Decision string         `json:"decision"`
				Context  map[string]any `json:"context"`
			}
			if err := json.Unmarshal([]byte(body), &out); code != 200 || err != nil || out.Decision != want {
				t.Errorf("source identity %s: %d %s, want %s", si, code, body, want)
			}
			if out.Context["aws:username"] == nil {
				t.Errorf("the context lacks the derived aws:username: %s", body)
			}
		}
		code, body := admin.do("POST", api, jsonType, base, `{"policies": [{"Statement": [{"Effect": "Maybe"}]}], "action": "s3:GetObject", "resource": "*"}`)
		if code != http.StatusBadRequest || !strings.Contains(body, "Effect") {
			t.Errorf("a bad policy: %d %s", code, body)
		}
	})
}
