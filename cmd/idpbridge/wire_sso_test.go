package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/crewjam/saml"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/sso"
)

const ssoTestConfig = `
mappings:
  - name: aws-default
    source_identity: {from: username, required: true}
    role_session_name: {from: mail}
    session_duration: 7200
    roles:
      - group: '^AWS-(\d{12})-(.+)$'
        role_arn: 'arn:aws:iam::$1:role/$2'
        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
    principal_tags: {Department: {from: department}, CostCenter: {from: costCenter}}
    transitive_tag_keys: [Department]
service_providers:
  - {name: aws, preset: aws, mapping: aws-default}
`

// ssoSTSSection lets the built-in STS accept the assertions made for AWS
// sign-in (opting in to AWS's recipient and audience): idpbridge's own keys
// as the SAML provider idpbridge, and a Developer role that trusts it to set
// a source identity and tags.
const ssoSTSSection = `
sts:
  saml_recipients: [https://signin.aws.amazon.com/saml, urn:amazon:webservices]
  accounts:
    - id: "123456789012"
      saml_providers:
        - {name: idpbridge, metadata: self}
      roles:
        - name: Developer
          max_session_duration: 7200
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/idpbridge"}
                Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity, sts:TagSession]
                Condition:
                  StringEquals: {SAML:aud: "https://signin.aws.amazon.com/saml"}
                  StringLike: {sts:SourceIdentity: "?*"}
`

var (
	samlResponseField = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
	relayStateField   = regexp.MustCompile(`name="RelayState" value="([^"]+)"`)
)

// TestServeSAMLThroughLogin runs the whole IdP-initiated flow against a
// served idpbridge: the browser asks for AWS, signs in on the login form
// (with its CSRF field), comes back, and gets the auto-POST form whose
// signed assertion carries exactly the mapped attributes. The same
// assertion then goes to the built-in STS through the AWS SDK for Go,
// which returns a session carrying DiegoRamirez as source identity; the
// audit trail holds both the assertion and the STS call under that name.
func TestServeSAMLThroughLogin(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s%s", addr, base, ssoTestConfig, ssoSTSSection))
	if out, stderr, code := c.run("correct-horse-battery\n", "user", "add", "DiegoRamirez", "--password-stdin", "--config", path,
		"--attr", "mail=diego@example.com", "--attr", "department=Engineering", "--attr", "costCenter=CC-42",
		"--group", "AWS-111111111111-CriticalRole", "--group", "AWS-123456789012-Developer", "--group", "staff"); code != 0 {
		t.Fatalf("user add: %d %s %s", code, out, stderr)
	}
	serveOnce(t, c, path, func(base, _ string) {
		fetch := newWebClient(t, base).form

		relay := "https://console.aws.amazon.com/iam/home"
		start := "/saml/idp-initiated?sp=aws&RelayState=" + url.QueryEscape(relay)
		code, body, loc := fetch("GET", start, nil)
		if code != http.StatusFound || !strings.HasPrefix(loc, "/login?") {
			t.Fatalf("GET %s = %d %q:\n%s", start, code, loc, body)
		}
		code, body, _ = fetch("GET", loc, nil)
		tok := csrfField.FindStringSubmatch(body)
		next := regexp.MustCompile(`name="next" value="([^"]+)"`).FindStringSubmatch(body)
		if code != 200 || tok == nil || next == nil {
			t.Fatalf("login form = %d:\n%s", code, body)
		}
		code, body, loc = fetch("POST", "/login", url.Values{"csrf_token": {tok[1]}, "username": {"DiegoRamirez"},
			"password": {"correct-horse-battery"}, "next": {html.UnescapeString(next[1])}})
		if code != http.StatusSeeOther {
			t.Fatalf("POST /login = %d %q:\n%s", code, loc, body)
		}
		code, body, _ = fetch("GET", loc, nil)
		m := samlResponseField.FindStringSubmatch(body)
		if code != 200 || m == nil {
			t.Fatalf("GET %s after sign-in = %d:\n%s", loc, code, body)
		}
		if r := relayStateField.FindStringSubmatch(body); r == nil || html.UnescapeString(r[1]) != relay {
			t.Errorf("RelayState %v", r)
		}
		resp, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}

		// Verify as AWS would: the served metadata's keys, audience
		// urn:amazon:webservices, recipient https://signin.aws.amazon.com/saml.
		_, mdBody, _ := fetch("GET", "/saml/metadata", nil)
		var md saml.EntityDescriptor
		if err := xml.Unmarshal([]byte(mdBody), &md); err != nil {
			t.Fatal(err)
		}
		acs, _ := url.Parse(sso.AWSACSURL)
		entity, _ := url.Parse(sso.AWSEntityID)
		sp := saml.ServiceProvider{EntityID: sso.AWSEntityID, MetadataURL: *entity, AcsURL: *acs, IDPMetadata: &md, AllowIDPInitiated: true}
		a, err := sp.ParseXMLResponse(resp, nil, *acs)
		if err != nil {
			var ire *saml.InvalidResponseError
			if ok := asInvalid(err, &ire); ok {
				err = ire.PrivateErr
			}
			t.Fatalf("the assertion does not verify: %v", err)
		}
		got := map[string][]string{}
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				for _, v := range at.Values {
					got[at.Name] = append(got[at.Name], v.Value)
				}
			}
		}
		want := map[string][]string{
			idp.AttrRole: {
				"arn:aws:iam::111111111111:role/CriticalRole,arn:aws:iam::111111111111:saml-provider/idpbridge",
				"arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/idpbridge",
			},
			idp.AttrRoleSessionName:                   {"diego@example.com"},
			idp.AttrSessionDuration:                   {"7200"},
			idp.AttrSourceIdentity:                    {"DiegoRamirez"},
			idp.AttrPrincipalTagPrefix + "CostCenter": {"CC-42"},
			idp.AttrPrincipalTagPrefix + "Department": {"Engineering"},
			idp.AttrTransitiveTagKeys:                 {"Department"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("assertion attributes:\n got %v\nwant %v", got, want)
		}
		if a.Subject.NameID.Value != "DiegoRamirez" {
			t.Errorf("NameID %q", a.Subject.NameID.Value)
		}

		// The built-in STS accepts the assertion, as AWS would.
		stsClient := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1})
		out, err := stsClient.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn:       aws.String("arn:aws:iam::123456789012:role/Developer"),
			PrincipalArn:  aws.String("arn:aws:iam::123456789012:saml-provider/idpbridge"),
			SAMLAssertion: aws.String(html.UnescapeString(m[1])),
		})
		if err != nil {
			t.Fatalf("AssumeRoleWithSAML with the IdP's assertion: %v", err)
		}
		if got := aws.ToString(out.SourceIdentity); got != "DiegoRamirez" {
			t.Errorf("SourceIdentity = %q, want DiegoRamirez", got)
		}
		if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::123456789012:assumed-role/Developer/diego@example.com" {
			t.Errorf("AssumedRoleUser.Arn = %q", got)
		}
		if got := aws.ToString(out.Issuer); got != base+"/saml/metadata" {
			t.Errorf("Issuer = %q", got)
		}
		if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") {
			t.Errorf("AccessKeyId = %q", aws.ToString(out.Credentials.AccessKeyId))
		}
		// The assertion is single-use.
		if _, err := stsClient.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn:       aws.String("arn:aws:iam::123456789012:role/Developer"),
			PrincipalArn:  aws.String("arn:aws:iam::123456789012:saml-provider/idpbridge"),
			SAMLAssertion: aws.String(html.UnescapeString(m[1])),
		}); err == nil {
			t.Error("the same assertion was accepted twice")
		}

		// The portal lists the application.
		if _, body, _ := fetch("GET", "/", nil); !strings.Contains(body, `href="/saml/idp-initiated?sp=aws"`) {
			t.Errorf("portal lacks the aws app:\n%s", body)
		}
	})
	out, stderr, code := c.run("", "audit", "lookup", "--source-identity", "DiegoRamirez", "--config", path, "--json")
	if code != 0 {
		t.Fatalf("audit lookup: %d\n%s%s", code, out, stderr)
	}
	var page struct {
		Events []audit.Record `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("audit lookup --json: %v\n%s", err, out)
	}
	seen := map[string]int{}
	for _, r := range page.Events {
		seen[r.EventName+"/"+r.ErrorCode]++
		if r.EventName == "AssumeRoleWithSAML" && r.ErrorCode == "" {
			if r.UserIdentity.Type != audit.TypeSAMLUser || r.UserIdentity.UserName != "DiegoRamirez" {
				t.Errorf("AssumeRoleWithSAML userIdentity = %+v", r.UserIdentity)
			}
		}
	}
	if seen["IssueAssertion/"] != 1 || seen["AssumeRoleWithSAML/"] != 1 {
		t.Errorf("records found by source identity DiegoRamirez: %v\n%s", seen, out)
	}
	// A sign-in carries no source identity itself; the lookup lists the
	// sign-in of the person the assertion was made for.
	if seen["SignIn/"] != 1 {
		t.Errorf("records found by source identity DiegoRamirez: %v, want the person's one SignIn too", seen)
	}
	for _, r := range page.Events {
		if r.EventName == "SignIn" && (r.Index().SourceIdentity != "" || r.Index().Principal != "local:DiegoRamirez") {
			t.Errorf("SignIn found by source identity: index %+v", r.Index())
		}
	}
	// serve writes sign-ins to the trail.
	out, stderr, code = c.run("", "audit", "lookup", "--event", "SignIn", "--config", path)
	if code != 0 || !regexp.MustCompile(`(?m)SignIn\s+local:DiegoRamirez\s.*ok$`).MatchString(out) {
		t.Errorf("audit lookup --event SignIn: %d\n%s%s", code, out, stderr)
	}
}

func asInvalid(err error, target **saml.InvalidResponseError) bool {
	ire, ok := err.(*saml.InvalidResponseError)
	if ok {
		*target = ire
	}
	return ok
}

func TestMappingTestCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	if _, stderr, code := c.run("pw-admin-123456\n", "user", "add", "admin", "--password-stdin", "--config", path); code != 0 {
		t.Fatalf("user add: %s", stderr)
	}
	// Zero-config: the aws app on mapping dev.
	out, stderr, code := c.run("", "mapping", "test", "--sp", "aws", "--user", "admin", "--config", path)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	for _, want := range []string{"mapping dev", "NameID (persistent): admin", idp.AttrSourceIdentity + "\n      admin\n",
		"arn:aws:iam::123456789012:role/Developer,arn:aws:iam::123456789012:saml-provider/idpbridge"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = c.run("", "mapping", "test", "--sp", "aws", "--user", "admin", "--json", "--config", path)
	var rep sso.MappingReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.OK || rep.NameID != "admin" {
		t.Fatalf("--json: %d %s", code, out)
	}

	// A mapping that cannot map the person: the exact problems, exit 1.
	path = writeConfig(t, ssoTestConfig)
	c.run("pw-admin-123456\n", "user", "add", "admin", "--password-stdin", "--config", path)
	c.run("pw-admin-123456\n", "user", "add", "aws:root", "--password-stdin", "--config", path, "--group", "AWS-123456789012-Admin", "--attr", "mail=root@example.com")
	tests := []struct {
		name, sp, user string
		want           []string
	}{
		{"no role, no mail", "aws", "admin", []string{"No assertion: 2 problem(s)", "role_session_name: admin has no attribute mail", "roles: no AWS role is mapped for admin"}},
		{"aws: prefix", "aws", "aws:root", []string{"source_identity: aws:root's username 'aws:root' cannot be a source identity"}},
		{"unknown sp", "gcp", "admin", []string{`no service provider "gcp" (configured: aws)`}},
		{"unknown user", "aws", "nobody", []string{`no user "nobody"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := c.run("", "mapping", "test", "--sp", tc.sp, "--user", tc.user, "--config", path)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s%s", code, out, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, stderr)
				}
			}
		})
	}
	if _, _, code := c.run("", "mapping", "test", "--sp", "aws", "--config", path); code != 2 {
		t.Errorf("without --user: exit %d, want 2", code)
	}
}

func TestSSOConfigValidation(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, `
mappings:
  - name: m
    role_session_name: {from: mail}
    roles: [{role_arn: 'arn:aws:iam::123456789012:role/R', provider_arn: 'arn:aws:iam::123456789012:saml-provider/P'}]
  - name: broken
    role_session_name: {form: mail}
service_providers:
  - {name: aws, preset: aws, mapping: m}
  - {name: two, mapping: x, entity_id: 'https://two', acs_url: 'javascript:alert(1)'}
`)
	_, stderr, code := c.run("", "config", "check", "--config", path)
	if code != 2 || !strings.Contains(stderr, "mappings[1].role_session_name") || !strings.Contains(stderr, "unknown key") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	path = writeConfig(t, `
mappings:
  - name: m
    role_session_name: {from: mail}
    roles: [{role_arn: 'arn:aws:iam::123456789012:role/R', provider_arn: 'arn:aws:iam::123456789012:saml-provider/P'}]
service_providers:
  - {name: aws, preset: aws, mapping: m}
  - {name: two, mapping: x, entity_id: 'https://two', acs_url: 'javascript:alert(1)'}
`)
	_, stderr, code = c.run("", "config", "check", "--config", path)
	for _, want := range []string{`service_providers[1].mapping: unknown mapping "x"`, `service_providers[1].acs_url: service provider "two": "javascript:alert(1)" is not an http(s) URL`} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
}

func TestKeysCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeConfig(t, "")
	states := func() map[string]string {
		t.Helper()
		out, stderr, code := c.run("", "keys", "list", "--config", path)
		if code != 0 {
			t.Fatalf("keys list: %s", stderr)
		}
		st := map[string]string{}
		for _, line := range strings.Split(out, "\n")[1:] {
			if f := strings.Fields(line); len(f) >= 2 {
				st[f[0]] = f[1]
			}
		}
		return st
	}
	rotate := func() string {
		t.Helper()
		out, stderr, code := c.run("", "keys", "rotate", "--config", path)
		m := regexp.MustCompile(`Added signing key ([0-9a-f]+) \(state next`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("keys rotate: %d %s %s", code, out, stderr)
		}
		return m[1]
	}
	first := rotate()
	if out, stderr, code := c.run("", "keys", "activate", first, "--config", path); code != 0 || !strings.Contains(out, first+" is now active") {
		t.Fatalf("activate: %d %s %s", code, out, stderr)
	}
	second := rotate()
	if st := states(); st[first] != "active" || st[second] != "next" {
		t.Fatalf("after rotate: %v", st)
	}
	out, _, code := c.run("", "keys", "activate", second, "--config", path)
	if code != 0 || !strings.Contains(out, "idpbridge keys retire "+first) {
		t.Fatalf("activate second: %d %s", code, out)
	}
	if st := states(); st[first] != "next" || st[second] != "active" {
		t.Fatalf("after activate: %v", st)
	}
	if _, stderr, code := c.run("", "keys", "retire", second, "--config", path); code != 1 || !strings.Contains(stderr, "is active") {
		t.Errorf("retire active: %d %s", code, stderr)
	}
	if _, _, code := c.run("", "keys", "retire", first, "--config", path); code != 0 {
		t.Fatal("retire failed")
	}
	if st := states(); st[first] != "retired" || st[second] != "active" {
		t.Fatalf("after retire: %v", st)
	}
	if _, stderr, code := c.run("", "keys", "activate", "nope", "--config", path); code != 1 || !strings.Contains(stderr, "no signing key nope") {
		t.Errorf("activate unknown: %d %s", code, stderr)
	}
	if _, _, code := c.run("", "keys", "activate", "--config", path); code != 2 {
		t.Errorf("activate without ID: exit %d", code)
	}
	out, stderr, code := c.run("", "audit", "lookup", "--config", path)
	for _, ev := range []string{"AdminKeyRotated", "AdminKeyActivated", "AdminKeyRetired"} {
		if code != 0 || !strings.Contains(out, ev) {
			t.Errorf("audit lookup lacks %s: %d\n%s%s", ev, code, out, stderr)
		}
	}
}
