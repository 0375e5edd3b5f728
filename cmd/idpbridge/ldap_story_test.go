package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"idpbridge/idp/connector/ldap/ldaptest"
	"idpbridge/idp/web/browsertest"
)

// adStory is the configuration of the product's story: people of an
// Active Directory (at url, service password from AD_BIND_PASSWORD) sign
// in beside the local accounts; the mapping takes the source identity
// and the session name from sAMAccountName and the roles from groups
// named AWS-<account>-<role>.
func adStory(url string) string {
	return fmt.Sprintf(`connectors:
  - name: local
    type: local
  - name: corp-ad
    type: ldap
    display_name: Corp directory
    route_suffixes: ["@corp.example"]
    config:
      preset: active_directory
      urls: [%s]
      insecure_no_tls: true
      bind_dn: %s
      bind_password_env: AD_BIND_PASSWORD
      user_search: {base_dn: "%s"}
mappings:
  - name: corp
    source_identity: {from: sAMAccountName, transforms: [lowercase], required: true}
    role_session_name: {from: sAMAccountName}
    roles:
      - group: '^AWS-(\d{12})-(.+)$'
        role_arn: 'arn:aws:iam::$1:role/$2'
        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
service_providers:
  - {name: aws, preset: aws, mapping: corp}
  - {name: builtin, preset: builtin, mapping: corp, display_name: Built-in STS}
`, url, ldaptest.ServiceDN, ldaptest.BaseDN)
}

// TestActiveDirectoryStoryInBrowser is the product's story end to end: an
// Active Directory user, diego.ramirez, who is in
// AWS-123456789012-Developer only through the nested group Developers,
// picks the corp directory on the login page of a real browser and signs
// in with his directory password. The assertion idpbridge makes for AWS
// carries SourceIdentity diego.ramirez and the Developer role; the
// built-in STS issues credentials whose session carries diego.ramirez;
// `audit lookup --source-identity diego.ramirez` shows the assertions
// (made for corp-ad:diego.ramirez), the AssumeRoleWithSAML, and the
// sign-in through corp-ad.
// `mapping test --user diego.ramirez@corp-ad` finds him without a
// password.
func TestActiveDirectoryStoryInBrowser(t *testing.T) {
	t.Parallel()
	ad := ldaptest.StartAD(t)
	c := newCLI(t)
	c.env["AD_BIND_PASSWORD"] = ldaptest.ServicePassword
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, adStory(ad.URL())))
	if out, stderr, code := c.run("", "config", "check", "--config", path); code != 0 {
		t.Fatalf("config check of the story: %d\n%s%s", code, out, stderr)
	}
	const (
		developer = "arn:aws:iam::123456789012:role/Developer"
		provider  = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	)
	serveOnce(t, c, path, func(_, stdout string) {
		ctx := browsertest.New(t)
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SetValue(chromedp.CSS("#connector"), "corp-ad"),
			chromedp.SendKeys(chromedp.CSS("#username"), "diego.ramirez"),
			chromedp.SendKeys(chromedp.CSS("#password"), ldaptest.DiegoPassword),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button.app[value="builtin"]`)),
		)
		if err != nil {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("sign in as diego.ramirez of corp-ad: %v; the page shows:\n%s", err, page)
		}

		// Built-in STS: the portal's button, the auto-POST to /sts/saml,
		// the session page.
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button.app[value="builtin"]`)),
			chromedp.WaitVisible(chromedp.CSS("details summary")),
		)
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatalf("open builtin: %v; the page shows:\n%s", err, page)
		}
		for _, want := range []string{developer, "arn:aws:sts::123456789012:assumed-role/Developer/diego.ramirez",
			"<dt>Source identity</dt><dd><code>diego.ramirez</code></dd>"} {
			if !strings.Contains(page, want) {
				t.Errorf("the session page lacks %q:\n%s", want, page)
			}
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details summary")), chromedp.WaitVisible(chromedp.CSS("details pre"))); err != nil {
			t.Fatalf("reveal the credentials: %v", err)
		}
		shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		key := regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(ASIA\S+)`).FindStringSubmatch(shown)
		sec := regexp.MustCompile(`export AWS_SECRET_ACCESS_KEY=(\S+)`).FindStringSubmatch(shown)
		tok := regexp.MustCompile(`export AWS_SESSION_TOKEN=(\S+)`).FindStringSubmatch(shown)
		if key == nil || sec == nil || tok == nil {
			t.Fatalf("revealed credentials:\n%s", shown)
		}
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key[1], SecretAccessKey: sec[1], SessionToken: tok[1]}, nil
			})})
		who, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity with diego.ramirez's credentials: %v", err)
		}
		if got := aws.ToString(who.Arn); got != "arn:aws:sts::123456789012:assumed-role/Developer/diego.ramirez" {
			t.Errorf("caller = %q", got)
		}

		// AWS sign-in: the same browser session opens "aws"; with scripts
		// off the auto-POST form stays, and its assertion is read.
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("turn scripts off: %v", err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/saml/idp-initiated?sp=aws")); err != nil {
			t.Fatalf("open aws: %v", err)
		}
		attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`input[name="SAMLResponse"]`), "value"))
		if err != nil || !attr.Exists {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("open aws: no SAMLResponse (%v); the page shows:\n%s", err, page)
		}
		samlResponse := attr.Value
		xml, err := base64.StdEncoding.DecodeString(samlResponse)
		if err != nil {
			t.Fatalf("SAMLResponse: %v", err)
		}
		for name, want := range map[string]string{
			"https://aws.amazon.com/SAML/Attributes/SourceIdentity": "diego.ramirez",
			"https://aws.amazon.com/SAML/Attributes/Role":           developer + "," + provider,
		} {
			if got := samlAttribute(string(xml), name); len(got) != 1 || got[0] != want {
				t.Errorf("the assertion's %s = %q, want [%s]", name, got, want)
			}
		}
	})

	out, stderr, code := c.run("", "audit", "lookup", "--source-identity", "diego.ramirez", "--config", path)
	if code != 0 {
		t.Fatalf("audit lookup --source-identity diego.ramirez = %d:\n%s%s", code, out, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)IssueAssertion\s+corp-ad:diego\.ramirez\s+diego\.ramirez\s+arn:aws:iam::123456789012:role/Developer\s+ok$`),
		regexp.MustCompile(`(?m)AssumeRoleWithSAML\s+\S+\s+diego\.ramirez\s+arn:aws:iam::123456789012:role/Developer\s+ok$`),
		regexp.MustCompile(`(?m)SignIn\s+corp-ad:diego\.ramirez\s.*ok$`),
	} {
		if !want.MatchString(out) {
			t.Errorf("audit lookup --source-identity diego.ramirez lacks %s:\n%s", want, out)
		}
	}

	// The sign-in itself precedes any mapping and carries no source
	// identity; the lookup by source identity brings the sign-ins of the
	// person its assertions were made for, naming the connector.
	out, stderr, code = c.run("", "audit", "lookup", "--source-identity", "diego.ramirez", "--event", "SignIn", "--json", "--config", path)
	if code != 0 || !strings.Contains(out, `"eventName": "SignIn"`) || !strings.Contains(out, `"connector": "corp-ad"`) ||
		!strings.Contains(out, `"userName": "diego.ramirez@corp-ad"`) || !strings.Contains(out, `"SignIn": "Success"`) {
		t.Errorf("audit lookup --source-identity diego.ramirez --event SignIn = %d:\n%s%s", code, out, stderr)
	}

	// mapping test finds him through the connector's Lookup: no password.
	out, stderr, code = c.run("", "mapping", "test", "--sp", "aws", "--user", "diego.ramirez@corp-ad", "--config", path)
	if code != 0 || !strings.Contains(out, "user diego.ramirez@corp-ad") || !strings.Contains(out, developer+","+provider) ||
		!strings.Contains(out, "diego.ramirez\n") {
		t.Errorf("mapping test --sp aws --user diego.ramirez@corp-ad = %d:\n%s%s", code, out, stderr)
	}
	// One bind as diego.ramirez (the browser's sign-in); mapping test and
	// everything else bound as the service account.
	diegoBinds := 0
	for _, b := range ad.Binds() {
		switch b {
		case ldaptest.DiegoDN:
			diegoBinds++
		case ldaptest.ServiceDN:
		default:
			t.Errorf("the directory saw a bind as %q", b)
		}
	}
	if diegoBinds != 1 {
		t.Errorf("%d binds as diego.ramirez, want 1", diegoBinds)
	}
	// The role came through the nested group: AD resolved it with
	// LDAP_MATCHING_RULE_IN_CHAIN.
	if !slices.ContainsFunc(ad.Filters(), func(f string) bool {
		return strings.Contains(f, "member:1.2.840.113556.1.4.1941:="+ldaptest.DiegoDN)
	}) {
		t.Errorf("no group search through LDAP_MATCHING_RULE_IN_CHAIN among %q", ad.Filters())
	}
}

// samlAttribute returns the values of the SAML attribute name in xml.
func samlAttribute(xml, name string) []string {
	_, rest, ok := strings.Cut(xml, `Name="`+name+`"`)
	if !ok {
		return nil
	}
	rest, _, _ = strings.Cut(rest, "</saml:Attribute>")
	var vals []string
	for _, m := range regexp.MustCompile(`<saml:AttributeValue[^>]*>([^<]*)</saml:AttributeValue>`).FindAllStringSubmatch(rest, -1) {
		vals = append(vals, m[1])
	}
	return vals
}

// TestExampleConfigLDAPConnector: the ldap connector documented in
// config.example.yaml (un-commented, as far as the next connector)
// decodes strictly and passes config check, so every key it shows exists
// and its values are valid.
func TestExampleConfigLDAPConnector(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "\n# connectors:\n")
	block, _, ok2 := strings.Cut(rest, "\n#   - name: okta\n")
	if !ok || !ok2 || !strings.Contains(block, "type: ldap") {
		t.Fatal("config.example.yaml no longer has a connectors example with an ldap entry before okta")
	}
	var b strings.Builder
	b.WriteString("connectors:\n")
	for _, line := range strings.Split(block, "\n") {
		if !strings.HasPrefix(line, "# ") {
			t.Fatalf("connectors example line not commented with \"# \": %q", line)
		}
		b.WriteString(strings.TrimPrefix(line, "# ") + "\n")
	}
	for _, key := range []string{"preset", "urls", "start_tls", "ca_file", "server_name", "insecure_skip_verify", "insecure_no_tls",
		"bind_dn", "bind_password_env", "dial_timeout", "timeout", "pool_size", "account_state", "user_search", "base_dn", "filter",
		"scope", "username_attribute", "email_attribute", "display_name_attribute", "attributes", "group_search", "member_of",
		"name_attribute", "nested"} {
		if !regexp.MustCompile(`(?m)^ +` + key + `:`).MatchString(b.String()) {
			t.Errorf("the ldap example does not show %s", key)
		}
	}
	c := newCLI(t)
	c.env["AD_BIND_PASSWORD"] = "example"
	if out, stderr, code := c.run("", "config", "check", "--config", writeConfig(t, b.String())); code != 0 {
		t.Errorf("config check of the ldap connector example = %d:\n%s%s\n%s", code, out, stderr, b.String())
	}
}

// TestReadmeActiveDirectory tests the README's Active Directory example
// as written, with only its transport pointed at the in-process AD:
// diego.ramirez@corp.example is routed to corp-ad by its suffix, the
// built-in STS issues him Developer with source identity diego.ramirez
// (Developer reached through the nested group), and mapping test finds
// him as diego.ramirez@corp-ad.
func TestReadmeActiveDirectory(t *testing.T) {
	t.Parallel()
	var example string
	for _, b := range readmeBlocks(t, "Configuration", "yaml") {
		if strings.Contains(b, "name: corp-ad") && strings.Contains(b, "preset: active_directory") {
			example = b
		}
	}
	transport := regexp.MustCompile(`(?m)^( +)urls: \[ldaps://[^\]]+\]\n +ca_file: \S+\n`)
	if example == "" || !transport.MatchString(example) {
		t.Fatalf("README.md's Configuration section has no Active Directory example with ldaps:// urls and a ca_file:\n%s", example)
	}
	ad := ldaptest.StartAD(t)
	example = transport.ReplaceAllString(example, "${1}urls: ["+ad.URL()+"]\n${1}insecure_no_tls: true\n")
	c := newCLI(t)
	c.env["AD_BIND_PASSWORD"] = ldaptest.ServicePassword
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: warn}\n%s", addr, addr, example))
	serveOnce(t, c, path, func(base, _ string) {
		w := newWebClient(t, base)
		action, resp := w.openApp("builtin", "diego.ramirez@corp.example", ldaptest.DiegoPassword, "Developer")
		code, body := w.stsSignIn(action, resp, "Developer")
		if code != http.StatusOK {
			t.Fatalf("the built-in STS refused the README's sign-in: %d\n%s", code, body)
		}
		if si := sessionSource.FindStringSubmatch(body); si == nil || si[1] != "diego.ramirez" {
			t.Errorf("session: source identity %v, want diego.ramirez\n%s", si, body)
		}
		if !strings.Contains(body, "arn:aws:sts::123456789012:assumed-role/Developer/diego.ramirez") {
			t.Errorf("the session is not Developer/diego.ramirez:\n%s", body)
		}
	})
	out, stderr, code := c.run("", "mapping", "test", "--sp", "aws", "--user", "diego.ramirez@corp-ad", "--config", path)
	if code != 0 || !strings.Contains(out, "arn:aws:iam::123456789012:role/Developer") {
		t.Errorf("mapping test --sp aws --user diego.ramirez@corp-ad = %d:\n%s%s", code, out, stderr)
	}
}

// TestDirectoryMetrics: serve counts and times an ldap connector's
// operations on its directory per connector, operation and result: a
// wrong password is a failed user_bind, a right one an ok user_bind,
// each after a search by the service account.
func TestDirectoryMetrics(t *testing.T) {
	t.Parallel()
	ad := ldaptest.StartAD(t)
	c := newCLI(t)
	c.env["AD_BIND_PASSWORD"] = ldaptest.ServicePassword
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: error}\n%s", addr, addr, adStory(ad.URL())))
	serveOnce(t, c, path, func(base, _ string) {
		w := newWebClient(t, base)
		for _, pw := range []string{"wrong-password", ldaptest.DiegoPassword} {
			_, body, _ := w.form("GET", "/login", nil)
			tok := csrfField.FindStringSubmatch(body)
			if tok == nil {
				t.Fatalf("GET /login:\n%s", body)
			}
			w.form("POST", "/login", url.Values{"csrf_token": {tok[1]}, "username": {"diego.ramirez@corp.example"}, "password": {pw}})
		}
		_, metrics := get(t, base+"/metrics")
		for _, want := range []string{
			`idpbridge_connector_directory_operations_total{connector="corp-ad",op="user_bind",result="failed"} 1`,
			`idpbridge_connector_directory_operations_total{connector="corp-ad",op="user_bind",result="ok"} 1`,
			`idpbridge_connector_directory_operation_duration_seconds_count{connector="corp-ad",op="user_bind"} 2`,
		} {
			if !strings.Contains(metrics, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`idpbridge_connector_directory_operations_total\{connector="corp-ad",op="search",result="ok"\} [2-9]`),
			regexp.MustCompile(`idpbridge_connector_directory_operations_total\{connector="corp-ad",op="bind",result="ok"\} [1-9]`),
			regexp.MustCompile(`idpbridge_connector_directory_operations_total\{connector="corp-ad",op="dial",result="ok"\} [1-9]`),
		} {
			if !want.MatchString(metrics) {
				t.Errorf("/metrics lacks %s:\n%s", want, metrics)
			}
		}
	})
}

// TestOpenLDAPStory is the story against a real OpenLDAP (slapd, preset
// openldap): diego, in aws-123456789012-developer through the nested
// group developers, signs in as diego@example.org (routed to corp-ldap,
// suffix stripped); the built-in STS issues Developer with source
// identity diego; audit lookup finds the assertion (for
// corp-ldap:diego) and the AssumeRoleWithSAML; mapping test finds
// diego@corp-ldap without his password.
func TestOpenLDAPStory(t *testing.T) {
	t.Parallel()
	s := ldaptest.StartSlapd(t)
	c := newCLI(t)
	c.env["LDAP_BIND_PASSWORD"] = ldaptest.SlapdServicePassword
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf(`server:
  listen: %s
  base_url: http://%s
log: {level: warn}
connectors:
  - name: corp-ldap
    type: ldap
    route_suffixes: ["@example.org"]
    strip_suffix: true
    config:
      preset: openldap
      urls: [ldap://%s]
      start_tls: true
      ca_file: %s
      bind_dn: %s
      bind_password_env: LDAP_BIND_PASSWORD
      user_search: {base_dn: "%s"}
mappings:
  - name: corp
    source_identity: {from: uid, required: true}
    role_session_name: {from: uid}
    roles:
      - group: '(?i)^aws-(\d{12})-developer$'
        role_arn: 'arn:aws:iam::$1:role/Developer'
        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
service_providers:
  - {name: builtin, preset: builtin, mapping: corp, display_name: Built-in STS}
`, addr, addr, s.Addr, s.CAFile, ldaptest.SlapdServiceDN, ldaptest.SlapdBase))
	serveOnce(t, c, path, func(base, _ string) {
		w := newWebClient(t, base)
		action, resp := w.openApp("builtin", "diego@example.org", "diego-pw", "Developer")
		code, body := w.stsSignIn(action, resp, "Developer")
		if code != http.StatusOK {
			t.Fatalf("the built-in STS refused diego's sign-in: %d\n%s", code, body)
		}
		if si := sessionSource.FindStringSubmatch(body); si == nil || si[1] != "diego" {
			t.Errorf("session: source identity %v, want diego\n%s", si, body)
		}
		if !strings.Contains(body, "arn:aws:sts::123456789012:assumed-role/Developer/diego") {
			t.Errorf("the session is not Developer/diego:\n%s", body)
		}
	})
	out, stderr, code := c.run("", "audit", "lookup", "--source-identity", "diego", "--config", path)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)IssueAssertion\s+corp-ldap:diego\s+diego\s+arn:aws:iam::123456789012:role/Developer\s+ok$`),
		regexp.MustCompile(`(?m)AssumeRoleWithSAML\s+\S+\s+diego\s+arn:aws:iam::123456789012:role/Developer\s+ok$`),
	} {
		if code != 0 || !want.MatchString(out) {
			t.Errorf("audit lookup --source-identity diego = %d, lacks %s:\n%s%s", code, want, out, stderr)
		}
	}
	out, stderr, code = c.run("", "mapping", "test", "--sp", "builtin", "--user", "diego@corp-ldap", "--config", path)
	if code != 0 || !strings.Contains(out, "user diego@corp-ldap") || !strings.Contains(out, "arn:aws:iam::123456789012:role/Developer") {
		t.Errorf("mapping test --user diego@corp-ldap = %d:\n%s%s", code, out, stderr)
	}
}
