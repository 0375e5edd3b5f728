package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"idpbridge/idp/policy"
	"idpbridge/idp/sso"
	"idpbridge/idp/sts"
	"idpbridge/idp/web"
)

// Warnings lists what is valid but will not work as a person expects,
// each naming the setting to look at: a "builtin" service provider whose
// assertions the STS does not accept (its recipient is not among
// sts.saml_recipients, or no role trusts this IdP for its audience). config check prints
// them, serve prints and logs them. The configuration must be valid.
func (c *Config) Warnings(getenv func(string) string) []string {
	sps, _ := c.ssoConfig()
	var builtins []string
	for _, sp := range sps {
		if sp.Preset == sso.PresetBuiltin {
			builtins = append(builtins, sp.Name)
		}
	}
	if len(builtins) == 0 {
		return nil
	}
	dir, err := sts.Build(&c.STS, c.stsBuildOptions(getenv))
	if err != nil {
		return nil // Validate reports it
	}
	audience := strings.TrimSuffix(c.Server.BaseURL, "/") + web.STSSignInPath
	var trusting, accepting []string
	for _, a := range c.STS.Accounts {
		acct, ok := dir.Account(a.ID)
		if !ok {
			continue
		}
		for _, pc := range a.SAMLProviders {
			p, ok := acct.SAMLProviders[pc.Name]
			if pc.Metadata != "self" || !ok {
				continue
			}
			for _, name := range sortedKeys(acct.Roles) {
				r := acct.Roles[name]
				trusts, accepts := trustsProvider(r, p, audience)
				if trusts {
					trusting = append(trusting, fmt.Sprintf("role %s in account %s", r.Name, r.Account))
				}
				if accepts {
					accepting = append(accepting, r.ARN)
				}
			}
		}
	}
	recipient := false
	for _, r := range dir.SAMLRecipients {
		recipient = recipient || r == audience
	}
	var out []string
	for _, name := range builtins {
		if !recipient {
			out = append(out, fmt.Sprintf("service provider %q signs in to the built-in STS with Recipient and Audience %s, "+
				"which sts.saml_recipients does not list: add it there", name, audience))
		}
		switch {
		case len(trusting) == 0:
			out = append(out, fmt.Sprintf("service provider %q signs in to the built-in STS, but no STS account trusts this IdP: "+
				"add to sts.accounts a saml_providers entry with metadata: self and a role whose trust_policy allows "+
				"sts:AssumeRoleWithSAML for it (or set sts.demo: on); until then every sign-in to %q is refused", name, name))
		case len(accepting) == 0:
			out = append(out, fmt.Sprintf("service provider %q signs in to the built-in STS with SAML:aud %s, but the trust policies "+
				"that trust this IdP (%s) allow other SAML:aud values only: add %s to their SAML:aud condition",
				name, audience, strings.Join(trusting, ", "), audience))
		}
	}
	return out
}

// trustsProvider reports whether some Allow statement of r's trust policy
// names p as principal for sts:AssumeRoleWithSAML (conditions aside), and
// whether such a statement also admits audience as SAML:aud (its SAML:aud
// conditions alone, evaluated with that value).
func trustsProvider(r *sts.Role, p *sts.SAMLProvider, audience string) (trusts, accepts bool) {
	if r.Trust == nil {
		return false, false
	}
	caller := &policy.Principal{Kind: policy.Federated, Account: p.Account, ARN: p.ARN}
	for _, st := range r.Trust.Statements {
		if st.Effect != policy.EffectAllow {
			continue
		}
		bare := st
		bare.Conditions = nil
		req := policy.Request{Principal: caller, Action: "sts:AssumeRoleWithSAML", Resource: r.ARN, Context: policy.Context{}}
		if policy.Evaluate(req, policy.Named{Policy: &policy.Policy{Version: r.Trust.Version, Statements: []policy.Statement{bare}}}).Decision != policy.Allow {
			continue
		}
		trusts = true
		aud := bare
		for _, cond := range st.Conditions {
			if strings.EqualFold(cond.Key, "saml:aud") {
				aud.Conditions = append(aud.Conditions, cond)
			}
		}
		req.Context.Set("saml:aud", audience)
		if policy.Evaluate(req, policy.Named{Policy: &policy.Policy{Version: r.Trust.Version, Statements: []policy.Statement{aud}}}).Decision == policy.Allow {
			accepts = true
		}
	}
	return trusts, accepts
}

// printSTSAccounts prints the STS accounts in effect and their providers,
// then the configuration's warnings.
func (m *Main) printSTSAccounts(w io.Writer, cfg *Config) {
	demo := cfg.STS.Demo
	if demo == "" {
		demo = DemoAuto
	}
	fmt.Fprintf(w, "  STS:      %d account(s) at %s/sts/ (sts.demo: %s)\n", len(cfg.STS.Accounts), strings.TrimSuffix(cfg.Server.BaseURL, "/"), demo)
	for _, a := range cfg.STS.Accounts {
		var parts []string
		var saml []string
		for _, p := range a.SAMLProviders {
			switch {
			case p.Metadata == "self":
				saml = append(saml, p.Name+" (this IdP)")
			case p.MetadataURL != "":
				saml = append(saml, p.Name+" ("+p.MetadataURL+")")
			default:
				saml = append(saml, p.Name+" ("+p.MetadataFile+")")
			}
		}
		if len(saml) > 0 {
			parts = append(parts, "SAML providers "+strings.Join(saml, ", "))
		}
		var oidc []string
		for _, p := range a.OIDCProviders {
			oidc = append(oidc, p.URL)
		}
		if len(oidc) > 0 {
			parts = append(parts, "OIDC providers "+strings.Join(oidc, ", "))
		}
		var roles []string
		for _, r := range a.Roles {
			roles = append(roles, r.Name)
		}
		if len(roles) > 0 {
			parts = append(parts, "roles "+strings.Join(roles, ", "))
		}
		label := a.ID
		if cfg.Demo && a.ID == sts.DemoAccountID {
			label += " (demo)"
		}
		if len(parts) == 0 {
			parts = []string{"no principals"}
		}
		fmt.Fprintf(w, "            account %s: %s\n", label, strings.Join(parts, "; "))
	}
	for _, warn := range cfg.Warnings(m.Getenv) {
		fmt.Fprintf(w, "  warning:  %s\n", warn)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
