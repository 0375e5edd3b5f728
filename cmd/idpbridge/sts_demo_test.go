package main

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"idpbridge/idp/sts"
)

// stsOtherAccount is an STS account that does not trust this IdP.
const stsOtherAccount = `
sts:
  accounts:
    - id: "210987654321"
      roles:
        - name: Auditor
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Principal: {AWS: "arn:aws:iam::210987654321:root"}, Action: sts:AssumeRole}
`

// userMappingOnly is what a new user adds first: a mapping and the two
// applications, and no STS account.
const userMappingOnly = `
mappings:
  - name: people
    source_identity: {from: username, required: true}
    role_session_name: {from: username}
    roles:
      - role_arn: arn:aws:iam::123456789012:role/Developer
        provider_arn: arn:aws:iam::123456789012:saml-provider/idpbridge
service_providers:
  - {name: aws, preset: aws, mapping: people}
  - {name: builtin, preset: builtin, mapping: people, display_name: Built-in STS}
`

// TestSTSDemoSetting: sts.demo auto adds the demo account when no STS
// account is configured (whatever else is), on adds it beside others, off
// never; a bad value or a clash with a configured account is a config
// error naming sts.demo.
func TestSTSDemoSetting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		config   string
		demo     bool
		accounts []string
		problem  string
	}{
		{name: "nothing configured", config: "", demo: true, accounts: []string{sts.DemoAccountID}},
		{name: "mappings and service providers only", config: userMappingOnly, demo: true, accounts: []string{sts.DemoAccountID}},
		{name: "auto with an account", config: stsOtherAccount, accounts: []string{"210987654321"}},
		{name: "auto written out", config: "sts:\n  demo: auto\n", demo: true, accounts: []string{sts.DemoAccountID}},
		{name: "on beside an account", config: stsOtherAccount + "  demo: on\n", demo: true, accounts: []string{"210987654321", sts.DemoAccountID}},
		{name: "off", config: userMappingOnly + "sts:\n  demo: off\n"},
		{name: "on clashes with a configured demo account ID", config: strings.Replace(stsOtherAccount, "210987654321", sts.DemoAccountID, -1) + "  demo: on\n",
			problem: `sts.demo: on adds the demo account 123456789012, which sts.accounts[0] configures already`},
		{name: "unknown value", config: "sts:\n  demo: maybe\n", problem: `sts.demo: "maybe" is not one of auto, on, off`},
		{name: "YAML boolean", config: "sts:\n  demo: true\n", problem: `sts.demo: "true" is not one of auto, on, off`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadConfig(writeRawConfig(t, tc.config), func(string) string { return "" })
			if tc.problem != "" {
				var ce *ConfigError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("err = %v, want a configuration error %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, a := range cfg.STS.Accounts {
				ids = append(ids, a.ID)
			}
			if cfg.Demo != tc.demo || strings.Join(ids, ",") != strings.Join(tc.accounts, ",") {
				t.Errorf("demo=%v accounts=%v, want demo=%v accounts=%v", cfg.Demo, ids, tc.demo, tc.accounts)
			}
		})
	}
}

// TestConfigCheckWarnsBuiltinWithoutTrust: config check warns when the
// builtin application signs in to an STS that does not trust this IdP, or
// whose trust policies refuse the builtin application's audience.
func TestConfigCheckWarnsBuiltinWithoutTrust(t *testing.T) {
	t.Parallel()
	audienceOnlyAWS := `
sts:
  accounts:
    - id: "123456789012"
      saml_providers: [{name: idpbridge, metadata: self}]
      roles:
        - name: Developer
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/idpbridge"}
                Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
                Condition: {StringEquals: {SAML:aud: "https://signin.aws.amazon.com/saml"}}
`
	for _, tc := range []struct {
		name, config string
		want         string // "" for no warning
	}{
		{name: "demo", config: userMappingOnly},
		{name: "no account trusts this IdP", config: userMappingOnly + stsOtherAccount,
			want: `warning: service provider "builtin" signs in to the built-in STS, but no STS account trusts this IdP`},
		{name: "demo off", config: userMappingOnly + "sts:\n  demo: off\n",
			want: `warning: service provider "builtin" signs in to the built-in STS, but no STS account trusts this IdP`},
		{name: "trust refuses the builtin audience", config: userMappingOnly + audienceOnlyAWS,
			want: `warning: service provider "builtin" signs in to the built-in STS with SAML:aud http://localhost:8080/sts/saml, ` +
				`but the trust policies that trust this IdP (role Developer in account 123456789012) allow other SAML:aud values only`},
		{name: "trust accepts both audiences", config: userMappingOnly + strings.Replace(audienceOnlyAWS,
			`SAML:aud: "https://signin.aws.amazon.com/saml"`, `SAML:aud: ["https://signin.aws.amazon.com/saml", "http://localhost:8080/sts/saml"]`, 1)},
		{name: "recipients without the built-in sign-in endpoint", config: userMappingOnly + "sts:\n  saml_recipients: [https://signin.aws.amazon.com/saml]\n",
			want: `warning: service provider "builtin" signs in to the built-in STS with Recipient and Audience http://localhost:8080/sts/saml, which sts.saml_recipients does not list`},
		{name: "no builtin application", config: strings.Replace(userMappingOnly, "  - {name: builtin, preset: builtin, mapping: people, display_name: Built-in STS}\n", "", 1) + stsOtherAccount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, code := newCLI(t).run("", "config", "check", "--config", writeRawConfig(t, tc.config))
			if code != 0 || !strings.Contains(out, "configuration OK") {
				t.Fatalf("config check: %d\n%s%s", code, out, stderr)
			}
			if tc.want == "" && strings.Contains(out, "warning") {
				t.Errorf("unexpected warning:\n%s", out)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Errorf("config check does not warn %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestServeKeepsDemoWithMappings: a new user adds a mapping and the two
// applications and nothing else; the banner lists the STS accounts in
// effect, and "Built-in STS" still issues credentials from the demo
// account.
func TestServeKeepsDemoWithMappings(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, userMappingOnly))
	serveOnce(t, c, path, func(base, stdout string) {
		for _, want := range []string{
			"STS:      1 account(s) at " + base + "/sts/ (sts.demo: auto)",
			"account 123456789012 (demo): SAML providers idpbridge (this IdP); roles Developer",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the banner lacks %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "warning:") {
			t.Errorf("the banner warns:\n%s", stdout)
		}
		m := passwordLine.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no admin password in the banner:\n%s", stdout)
		}
		w := newWebClient(t, base)
		action, resp := w.openApp("builtin", "admin", m[1], "")
		if action != base+"/sts/saml" {
			t.Fatalf("builtin posts to %s", action)
		}
		code, body := w.stsSignIn(action, resp, "")
		if code != http.StatusOK {
			t.Fatalf("the built-in STS refused the sign-in: %d\n%s", code, body)
		}
		if si := sessionSource.FindStringSubmatch(body); si == nil || si[1] != "admin" {
			t.Errorf("session page without source identity admin: %v\n%s", si, body)
		}
	})
}

// TestServeListsSTSAccountsAndWarns: the banner lists every account with
// its providers and roles, and the warning of config check.
func TestServeListsSTSAccountsAndWarns(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: http://%s\nlog: {level: warn}\n%s%s", addr, addr, userMappingOnly, stsOtherAccount))
	serveOnce(t, c, path, func(base, stdout string) {
		for _, want := range []string{
			"STS:      1 account(s) at " + base + "/sts/ (sts.demo: auto)",
			"account 210987654321: roles Auditor",
			`warning:  service provider "builtin" signs in to the built-in STS, but no STS account trusts this IdP`,
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the banner lacks %q:\n%s", want, stdout)
			}
		}
		if strings.Contains(stdout, "(demo)") {
			t.Errorf("the banner shows the demo account:\n%s", stdout)
		}
	})
}
