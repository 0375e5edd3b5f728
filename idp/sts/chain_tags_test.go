package sts

import (
	"net/http"
	"testing"
)

// inheritedTagConfig: DevUser assumes Developer with session tags;
// Developer's sessions chain to ChainSSI, whose sessions chain to
// ProjectAdmin, which trusts only sessions tagged Project=admin.
const inheritedTagConfig = `
region: us-east-1
accounts:
  - id: "123456789012"
    users:
      - name: DevUser
        access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]
        policies:
          - {name: assume, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: "*"}]}}
    roles:
      - name: Developer
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:TagSession]}
        policies:
          - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: "*"}]}}
      - name: ChainSSI
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:TagSession]}
        policies:
          - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:TagSession], Resource: "*"}]}}
      - name: ProjectAdmin
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "123456789012"}
              Action: [sts:AssumeRole, sts:TagSession]
              Condition: {StringEquals: {aws:PrincipalTag/Project: admin}}
`

// A chained call cannot replace a transitive tag it inherits: a request
// tag with the same key, in any case, fails with InvalidParameterValue
// naming the key, so the session cannot pass itself off as Project=admin.
func TestInheritedTransitiveTagCannotBeReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t, inheritedTagConfig)
	_, dev := e.assumeRole(devCreds, "RoleArn", "arn:aws:iam::123456789012:role/Developer", "RoleSessionName", "dev",
		"Tags.member.1.Key", "Project", "Tags.member.1.Value", "alpha", "TransitiveTagKeys.member.1", "Project")

	for _, key := range []string{"project", "Project", "PROJECT"} {
		r := e.do(&dev, form("AssumeRole", "RoleArn", "arn:aws:iam::123456789012:role/ChainSSI", "RoleSessionName", "chain",
			"Tags.member.1.Key", key, "Tags.member.1.Value", "admin"))
		wantError(t, r, http.StatusBadRequest, CodeInvalidParameterValue,
			"The tag key '"+key+"' can't be set because it conflicts with an inherited transitive tag key from the calling session.")
	}

	// Another key may still be passed; the inherited Project=alpha stays,
	// so ProjectAdmin's trust refuses the chained session.
	_, chained := e.assumeRole(dev, "RoleArn", "arn:aws:iam::123456789012:role/ChainSSI", "RoleSessionName", "chain",
		"Tags.member.1.Key", "Team", "Tags.member.1.Value", "admin")
	r := e.do(&chained, form("AssumeRole", "RoleArn", "arn:aws:iam::123456789012:role/ProjectAdmin", "RoleSessionName", "admin"))
	wantError(t, r, http.StatusForbidden, CodeAccessDenied,
		"User: arn:aws:sts::123456789012:assumed-role/ChainSSI/chain is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/ProjectAdmin")
}
