package web

import (
	"net/http"

	"idpbridge/idp"
)

// The console's STS directory (/admin/sts): the accounts, their SAML and
// OIDC providers, IAM users and roles, as the configuration file defines
// them (read-only here: the page says where each comes from), and a page
// per role whose trust and permission policies open in a JSON editor that
// validates as you type (policyeditor.js, POST /admin/api/policy/validate)
// and can be taken to the policy simulator.

// STSDirectoryPage is the Page of "admin_sts" and the source of
// "admin_sts_role".
type STSDirectoryPage struct {
	// Source says where the directory comes from, e.g. "the sts section of
	// /etc/idpbridge/config.yaml".
	Source   string
	Region   string
	Accounts []STSAccountView
}

// STSAccountView is one account.
type STSAccountView struct {
	ID            string
	SAMLProviders []STSProviderView
	OIDCProviders []STSOIDCView
	Users         []STSUserView
	Roles         []STSRoleView
}

// STSProviderView is one SAML provider: its ARN and where its metadata
// comes from ("metadata: self", "metadata_file ...", "metadata_url ...").
type STSProviderView struct {
	Name, ARN, Metadata string
}

// STSOIDCView is one OIDC provider.
type STSOIDCView struct {
	URL, ARN  string
	ClientIDs []string
	Keys      string // "jwks_file ..." or "discovery"
}

// STSUserView is one IAM user; only access key IDs are shown.
type STSUserView struct {
	Name, ARN    string
	AccessKeyIDs []string
	Policies     []STSPolicyView
}

// STSRoleView is one role.
type STSRoleView struct {
	Account, Name, ARN string
	MaxSession         string
	Tags               []string // "Key=Value"
	Trust              STSPolicyView
	Policies           []STSPolicyView
}

// STSPolicyView is one policy document: its JSON text (indented) and where
// it is written ("inline in the configuration", "document_file ...").
type STSPolicyView struct {
	Name   string
	Kind   string // "trust" or "identity"
	Source string
	JSON   string
}

// STSRolePage is the Page of "admin_sts_role".
type STSRolePage struct {
	Source string
	Role   STSRoleView
	// Principal and Action prefill the simulator from the trust policy
	// editor: the first SAML provider of the account and
	// sts:AssumeRoleWithSAML, when it has one.
	Principal string
	Action    string
}

// AdminSTSPages mounts-ready handlers of the STS directory: the list and
// a role's page (path values "account" and "role").
func (p *IdP) AdminSTSPages(dir STSDirectoryPage) (list, role http.Handler) {
	list = p.AdminPage("sts", "admin_sts", func(*http.Request, idp.Session) (any, error) { return dir, nil })
	role = p.AdminPage("sts", "admin_sts_role", func(r *http.Request, _ idp.Session) (any, error) {
		acct, name := r.PathValue("account"), r.PathValue("role")
		for _, a := range dir.Accounts {
			if a.ID != acct {
				continue
			}
			for _, rv := range a.Roles {
				if rv.Name == name {
					page := STSRolePage{Source: dir.Source, Role: rv, Action: "sts:AssumeRole"}
					if len(a.SAMLProviders) > 0 {
						page.Principal, page.Action = a.SAMLProviders[0].ARN, "sts:AssumeRoleWithSAML"
					}
					return page, nil
				}
			}
		}
		return nil, idp.Errorf(idp.ENotFound, "Account %s has no role %q in the STS directory.", acct, name)
	})
	return list, role
}
