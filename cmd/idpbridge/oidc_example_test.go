package main

import (
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"idpbridge/idp/connector/oidc"
)

// TestExampleConfigDocumentsOIDCKeys: the okta entry of the connectors
// example in config.example.yaml, uncommented, is a valid oidc connector,
// and it names every key of the oidc configuration.
func TestExampleConfigDocumentsOIDCKeys(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	for _, line := range strings.Split(string(raw), "\n") {
		if len(block) == 0 && line != "#   - name: okta" {
			continue
		}
		if len(block) > 0 && (!strings.HasPrefix(line, "#    ") || strings.HasPrefix(line, "#   - ")) {
			break
		}
		block = append(block, strings.TrimPrefix(line, "# "))
	}
	if len(block) == 0 {
		t.Fatal("config.example.yaml has no connectors entry \"- name: okta\"")
	}
	text := strings.Join(block, "\n")
	var entries []ConnectorConfig
	if err := yaml.Unmarshal([]byte(text), &entries); err != nil || len(entries) != 1 {
		t.Fatalf("the okta example does not read (%v):\n%s", err, text)
	}
	cc := entries[0]
	var cfg oidc.Config
	if probs := decodeNode(&cc.Config, &cfg, "config"); len(probs) > 0 {
		t.Fatalf("the okta example's config: %v", probs)
	}
	if probs := validateOIDC(&cfg); cc.Type != "oidc" || len(probs) > 0 {
		t.Errorf("the okta example (type %q) does not validate: %v", cc.Type, probs)
	}
	ty := reflect.TypeFor[oidc.Config]()
	for i := range ty.NumField() {
		key, _, _ := strings.Cut(ty.Field(i).Tag.Get("yaml"), ",")
		if !regexp.MustCompile(`(?m)^\s+(# )?` + key + `:`).MatchString(text) {
			t.Errorf("the okta example does not document config.%s", key)
		}
	}
}

// TestReadmeOIDCExample runs the README's OIDC example as written, with
// the test provider's issuer and client ID in place of Okta's: a person
// whose groups claim holds AWS-123456789012-Developer signs in with
// "Sign in with Okta", opens the built-in STS and gets the role Developer
// with their e-mail claim as source identity and their employee number
// (claim_mapping) as session name.
func TestReadmeOIDCExample(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n#### OIDC\n")
	if !ok {
		t.Fatal("README.md has no section \"#### OIDC\"")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the README's OIDC section has no yaml block")
	}
	const issuer, clientID = "https://corp.okta.com/oauth2/default", "0oa1b2c3d4e5f6g7h8i9"
	if !strings.Contains(m[1], "issuer: "+issuer) || !strings.Contains(m[1], "client_id: "+clientID) {
		t.Fatalf("the README's OIDC example no longer has issuer %s and client_id %s:\n%s", issuer, clientID, m[1])
	}
	o := newOIDCServeWith(t, clientID, func(iss string) string {
		return strings.Replace(m[1], "issuer: "+issuer, "issuer: "+iss, 1)
	})
	if out, stderr, code := o.c.run("", "config", "check", "--config", o.path); code != 0 {
		t.Fatalf("config check of the README's OIDC example = %d:\n%s%s", code, out, stderr)
	}
	o.serve(t, func() {
		b := o.browser(t)
		q := o.provider.Browse(t, b.start(o))
		if code, body, loc := b.get(o.base + "/login/callback/okta?" + q.Encode()); code != http.StatusSeeOther || loc != "/" {
			t.Fatalf("callback = %d to %q:\n%s", code, loc, body)
		}
		w := &webClient{t: t, base: o.base, client: b.client}
		action, resp := w.openApp("builtin", "", "", "Developer")
		code, page := w.stsSignIn(action, resp, "Developer")
		si := sessionSource.FindStringSubmatch(page)
		if code != http.StatusOK || si == nil || si[1] != oktaSourceIdentity ||
			!strings.Contains(page, "arn:aws:sts::123456789012:assumed-role/Developer/E1234") {
			t.Errorf("the built-in STS's session page = %d, source identity %v:\n%s", code, si, page)
		}
	})
}
