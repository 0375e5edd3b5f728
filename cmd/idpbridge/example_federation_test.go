package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// exampleFederation returns the federation example of config.example.yaml
// with its leading "# " removed, written for base instead of the
// example's http://localhost:8080.
func exampleFederation(t *testing.T, base string) string {
	t.Helper()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "# --- example: begin\n")
	block, _, ok2 := strings.Cut(rest, "# --- example: end")
	if !ok || !ok2 {
		t.Fatal("config.example.yaml lacks the example markers")
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		switch {
		case line == "#":
			b.WriteString("\n")
		case strings.HasPrefix(line, "# "):
			b.WriteString(strings.TrimPrefix(line, "# ") + "\n")
		default:
			t.Fatalf("example line not commented with \"# \": %q", line)
		}
	}
	out := b.String()
	if !strings.Contains(out, "http://localhost:8080/sts/saml") {
		t.Fatal("the example no longer names the built-in sign-in endpoint http://localhost:8080/sts/saml")
	}
	return strings.ReplaceAll(out, "http://localhost:8080", base)
}

// TestExampleConfigFederationSignsIn serves the whole federation example
// of config.example.yaml (un-commented, as its comment says) and signs a
// person in to both of its AWS applications: "builtin" gets credentials
// from the built-in STS, and the assertion made for "aws" is accepted by
// the STS's AssumeRoleWithSAML as AWS would accept it (for this test the
// STS also accepts AWS sign-in's recipient). Both sessions carry the
// person's source identity.
func TestExampleConfigFederationSignsIn(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "example-secret-of-devuser"
	addr := freeAddr(t)
	base := "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
	// For this test only, the STS also accepts AWS sign-in's recipient, so
	// that it can stand in for AWS with the aws app's assertion.
	own := "saml_recipients: [" + base + "/sts/saml]"
	example := exampleFederation(t, base)
	if !strings.Contains(example, own) {
		t.Fatalf("the example's saml_recipients is no longer %q", own)
	}
	example = strings.Replace(example, own, "saml_recipients: ["+base+"/sts/saml, https://signin.aws.amazon.com/saml, urn:amazon:webservices]", 1)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, example))
	if out, stderr, code := c.run("", "config", "check", "--config", path); code != 0 || strings.Contains(out, "warning") {
		t.Fatalf("config check of the example: %d\n%s%s", code, out, stderr)
	}
	if out, stderr, code := c.run("correct-horse-battery\n", "user", "add", "diego", "--password-stdin", "--config", path,
		"--attr", "sAMAccountName=DRamirez", "--attr", "mail=diego@example.com", "--attr", "department=Engineering",
		"--attr", "team=platform", "--group", "AWS-123456789012-Developer"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, stderr)
	}
	const (
		developer = "arn:aws:iam::123456789012:role/Developer"
		provider  = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	)
	serveOnce(t, c, path, func(_, stdout string) {
		if strings.Contains(stdout, "warning:") {
			t.Errorf("serve warns about the example:\n%s", stdout)
		}
		w := newWebClient(t, base)

		// builtin: idpbridge's role chooser (Developer and ReadOnly), then
		// the STS's session page.
		action, resp := w.openApp("builtin", "diego", "correct-horse-battery", developer)
		if action != base+"/sts/saml" {
			t.Fatalf("builtin posts to %s", action)
		}
		code, body := w.stsSignIn(action, resp, developer)
		if code != http.StatusOK {
			t.Fatalf("Built-in STS refused the example's sign-in: %d\n%s", code, body)
		}
		if si := sessionSource.FindStringSubmatch(body); si == nil || si[1] != "dramirez" {
			t.Errorf("builtin session: source identity %v, want dramirez\n%s", si, body)
		}
		if !strings.Contains(body, "arn:aws:sts::123456789012:assumed-role/Developer/diego@example.com") {
			t.Errorf("builtin session is not Developer/diego@example.com:\n%s", body)
		}

		// aws: the assertion for AWS sign-in, taken to the STS's API.
		action, resp = w.openApp("aws", "diego", "correct-horse-battery", "")
		if action != "https://signin.aws.amazon.com/saml" {
			t.Fatalf("aws posts to %s", action)
		}
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1})
		out, err := client.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(developer), PrincipalArn: aws.String(provider), SAMLAssertion: aws.String(resp),
		})
		if err != nil {
			t.Fatalf("AssumeRoleWithSAML with the example's aws assertion: %v", err)
		}
		if got := aws.ToString(out.SourceIdentity); got != "dramirez" {
			t.Errorf("SourceIdentity = %q, want dramirez", got)
		}
		if got := aws.ToString(out.Audience); got != "https://signin.aws.amazon.com/saml" {
			t.Errorf("Audience = %q", got)
		}
	})
}
