package sts

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Demo account of the zero-config setup.
const (
	DemoAccountID    = "123456789012"
	DemoProviderName = "idpbridge"
	DemoRoleName     = "Developer"
	DemoRoleARN      = "arn:aws:iam::" + DemoAccountID + ":role/" + DemoRoleName
	DemoProviderARN  = "arn:aws:iam::" + DemoAccountID + ":saml-provider/" + DemoProviderName
)

// demoAccountYAML is the demo account as a user would write it: the SAML
// provider "idpbridge" trusts idpbridge's own signing keys, and the role
// Developer trusts that provider to assume it with a source identity and
// session tags. The StringLike condition on sts:SourceIdentity makes a
// source identity mandatory: an assertion without one is refused.
const demoAccountYAML = `
id: "` + DemoAccountID + `"
saml_providers:
  - {name: ` + DemoProviderName + `, metadata: self}
roles:
  - name: ` + DemoRoleName + `
    max_session_duration: 3600
    tags: {Environment: demo}
    trust_policy:
      Version: "2012-10-17"
      Statement:
        - Sid: SignInThroughIdpbridge
          Effect: Allow
          Principal: {Federated: "` + DemoProviderARN + `"}
          Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity, sts:TagSession]
          Condition:
            StringLike: {sts:SourceIdentity: "*"}
    policies:
      - name: read-only-identity
        document:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Action: sts:GetCallerIdentity, Resource: "*"}
`

// DemoAccount is the account serve adds as sts.demo says (by default,
// when no account is configured):
// account 123456789012 with the SAML provider idpbridge (metadata: self)
// and the role Developer (see demoAccountYAML). With the zero-config
// mapping "dev" of the IdP, everyone who signs in may assume Developer
// with their username as source identity.
func DemoAccount() AccountConfig {
	var a AccountConfig
	if err := yaml.Unmarshal([]byte(demoAccountYAML), &a); err != nil {
		panic(fmt.Sprintf("sts: the demo account does not parse: %v", err))
	}
	return a
}
