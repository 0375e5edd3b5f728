package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// readmeBlocks returns the fenced code blocks of language lang in the
// README section headed title, with the list indentation removed.
func readmeBlocks(t *testing.T, title, lang string) []string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", title)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out []string
	re := regexp.MustCompile("(?ms)^( *)```" + regexp.QuoteMeta(lang) + "\n(.*?)^ *```")
	for _, m := range re.FindAllStringSubmatch(section, -1) {
		indent := m[1]
		var b strings.Builder
		for _, line := range strings.SplitAfter(m[2], "\n") {
			b.WriteString(strings.TrimPrefix(line, indent))
		}
		out = append(out, b.String())
	}
	return out
}

// TestReadmeAWSTrustPolicy tests the README's "Connect your AWS account"
// as written: its trust policy becomes the trust policy of the role
// Developer in the built-in STS (whose accepted recipient is AWS's sign-in
// URL, as at AWS), its mapping and service provider are the IdP's, and a
// person with the README's attribute and group who opens the aws
// application gets an assertion that AssumeRoleWithSAML accepts, with
// their mail as source identity.
func TestReadmeAWSTrustPolicy(t *testing.T) {
	t.Parallel()
	const title = "Connect your AWS account"
	policies := readmeBlocks(t, title, "json")
	configs := readmeBlocks(t, title, "yaml")
	if len(policies) != 1 || len(configs) != 1 {
		t.Fatalf("the README section has %d json and %d yaml blocks, want the trust policy and the mapping", len(policies), len(configs))
	}
	trust := policies[0]
	if !json.Valid([]byte(trust)) {
		t.Fatalf("the README's trust policy is not JSON:\n%s", trust)
	}
	var indented strings.Builder
	for _, line := range strings.SplitAfter(strings.TrimRight(trust, "\n"), "\n") {
		indented.WriteString("            " + line)
	}
	sts := `
sts:
  # AWS sign-in's URL is the recipient and AWS's entity ID the audience,
  # for this test only: the STS stands in for AWS.
  saml_recipients: [https://signin.aws.amazon.com/saml, urn:amazon:webservices]
  accounts:
    - id: "123456789012"
      saml_providers: [{name: idpbridge, metadata: self}]
      roles:
        - name: Developer
          trust_policy: |
` + indented.String() + "\n"

	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s%s", addr, base, configs[0], sts))
	if out, stderr, code := c.run("correct-horse-battery\n", "user", "add", "diego", "--password-stdin", "--config", path,
		"--attr", "mail=diego@example.com", "--group", "AWS-123456789012-Developer"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, stderr)
	}
	serveOnce(t, c, path, func(base, _ string) {
		w := newWebClient(t, base)
		action, resp := w.openApp("aws", "diego", "correct-horse-battery", "")
		if action != "https://signin.aws.amazon.com/saml" {
			t.Fatalf("the aws application posts to %s", action)
		}
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1})
		out, err := client.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn:       aws.String("arn:aws:iam::123456789012:role/Developer"),
			PrincipalArn:  aws.String("arn:aws:iam::123456789012:saml-provider/idpbridge"),
			SAMLAssertion: aws.String(resp),
		})
		if err != nil {
			t.Fatalf("AssumeRoleWithSAML under the README's trust policy: %v", err)
		}
		if got := aws.ToString(out.SourceIdentity); got != "diego@example.com" {
			t.Errorf("SourceIdentity = %q, want diego@example.com", got)
		}
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/Developer/diego@example.com" {
			t.Errorf("AssumedRoleUser.Arn = %q", got)
		}
		if out.Credentials == nil || !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
			t.Errorf("no temporary credentials: %+v", out.Credentials)
		}
	})
}
