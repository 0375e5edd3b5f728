package main

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

const builtinSTSSection = `
sts:
  accounts:
    - id: "123456789012"
      saml_providers:
        - {name: idpbridge, metadata: self}
      roles:
        - name: Developer
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/idpbridge"}
                Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
`

// TestServeBuiltinSignsAssertion: the builtin preset's Response, whose
// Assertion alone is signed (its default sign mode), is accepted by the
// built-in STS sign-in, which issues credentials.
func TestServeBuiltinSignsAssertion(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s%s", addr, base,
		`mappings:
  - name: m
    source_identity: {from: username}
    role_session_name: {from: username}
    roles:
      - {group: '^AWS-(\d{12})-(.+)$', role_arn: 'arn:aws:iam::$1:role/$2', provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'}
service_providers:
  - {name: builtin, preset: builtin, mapping: m}
`, builtinSTSSection))
	if out, stderr, code := c.run("correct-horse-battery\n", "user", "add", "DiegoRamirez", "--password-stdin", "--config", path,
		"--group", "AWS-123456789012-Developer"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, stderr)
	}
	serveOnce(t, c, path, func(base, _ string) {
		w := newWebClient(t, base)
		w.signIn("DiegoRamirez", "correct-horse-battery")
		code, body, _ := w.form("GET", "/", nil)
		tok := csrfField.FindStringSubmatch(body)
		if code != 200 || tok == nil {
			t.Fatalf("portal = %d:\n%s", code, body)
		}
		code, body, _ = w.form("POST", "/saml/idp-initiated", url.Values{"sp": {"builtin"}, "csrf_token": {tok[1]}})
		m := samlResponseField.FindStringSubmatch(body)
		action := regexp.MustCompile(`<form method="post" action="([^"]*)"`).FindStringSubmatch(body)
		if code != 200 || m == nil || action == nil || html.UnescapeString(action[1]) != base+"/sts/saml" {
			t.Fatalf("POST /saml/idp-initiated = %d:\n%s", code, body)
		}
		resp := html.UnescapeString(m[1])
		raw, err := base64.StdEncoding.DecodeString(resp)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		a := doc.Root().SelectElement("Assertion")
		if doc.Root().SelectElement("Signature") != nil || a == nil || a.SelectElement("Signature") == nil {
			t.Fatalf("builtin's Response is not signed on the Assertion only:\n%s", raw)
		}
		code, body, _ = w.form("POST", "/sts/saml", url.Values{"SAMLResponse": {resp}})
		if code != http.StatusOK || !strings.Contains(body, "arn:aws:sts::123456789012:assumed-role/Developer/DiegoRamirez") ||
			!regexp.MustCompile(`ASIA[A-Z0-9]{16}`).MatchString(body) {
			t.Fatalf("the built-in STS on builtin's Response = %d:\n%s", code, body)
		}
	})
}
