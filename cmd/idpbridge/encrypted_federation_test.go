package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestEncryptedFederation serves the federation example with encryption on
// both sides: the aws application encrypts to encryption_cert, and the
// STS's provider idpbridge decrypts with the matching private_keys, which
// serve seals into the database. The aws assertion travels encrypted and
// AssumeRoleWithSAML accepts it; the builtin application (whose sign-in
// endpoint reads the roles) still sends its assertion in the clear, and
// the provider, in allowed mode, takes both.
func TestEncryptedFederation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sts-saml-decryption"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	pk8, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile, certFile := filepath.Join(dir, "dec.pem"), filepath.Join(dir, "enc.crt")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)

	c := newCLI(t)
	c.env["DEVUSER_SECRET"] = "example-secret-of-devuser"
	addr := freeAddr(t)
	base := "http://localhost:" + addr[strings.LastIndexByte(addr, ':')+1:]
	example := exampleFederation(t, base)
	for old, repl := range map[string]string{
		"saml_recipients: [" + base + "/sts/saml]":         "saml_recipients: [" + base + "/sts/saml, https://signin.aws.amazon.com/saml, urn:amazon:webservices]",
		"- {name: aws, preset: aws, mapping: aws-default}": "- {name: aws, preset: aws, mapping: aws-default, encryption_cert: " + certFile + "}",
		"- {name: idpbridge, metadata: self}":              "- {name: idpbridge, metadata: self, assertion_encryption: allowed, private_keys: [" + keyFile + "]}",
	} {
		if !strings.Contains(example, old) {
			t.Fatalf("the federation example no longer has %q", old)
		}
		example = strings.Replace(example, old, repl, 1)
	}
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: info}\n%s", addr, base, example))
	if out, stderr, code := c.run("", "config", "check", "--config", path); code != 0 {
		t.Fatalf("config check: %d\n%s%s", code, out, stderr)
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
	serveOnce(t, c, path, func(_, _ string) {
		w := newWebClient(t, base)
		action, resp := w.openApp("builtin", "diego", "correct-horse-battery", developer)
		if raw, _ := base64.StdEncoding.DecodeString(resp); strings.Contains(string(raw), "EncryptedAssertion") {
			t.Fatalf("builtin's assertion is encrypted:\n%s", raw)
		}
		code, body := w.stsSignIn(action, resp, developer)
		if code != http.StatusOK || !strings.Contains(body, "arn:aws:sts::123456789012:assumed-role/Developer/diego@example.com") {
			t.Fatalf("Built-in STS refused the sign-in: %d\n%s", code, body)
		}

		_, resp = w.openApp("aws", "diego", "correct-horse-battery", "")
		if raw, _ := base64.StdEncoding.DecodeString(resp); !strings.Contains(string(raw), "EncryptedAssertion") || strings.Contains(string(raw), "dramirez") {
			t.Fatalf("aws's assertion is not encrypted:\n%s", raw)
		}
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1})
		out, err := client.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(developer), PrincipalArn: aws.String(provider), SAMLAssertion: aws.String(resp),
		})
		if err != nil {
			t.Fatalf("AssumeRoleWithSAML with the encrypted aws assertion: %v", err)
		}
		if got := aws.ToString(out.SourceIdentity); got != "dramirez" {
			t.Errorf("SourceIdentity = %q, want dramirez", got)
		}
	})
}
