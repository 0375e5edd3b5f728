package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// signinAudienceConfig trusts the provider only for assertions made for AWS
// sign-in: the built-in sign-in endpoint's own assertions are refused by
// the SAML:aud condition.
const signinAudienceConfig = `
saml_recipients: [https://signin.aws.amazon.com/saml, "https://idp.example.com/sts/saml"]
accounts:
  - id: "111111111111"
    saml_providers:
      - {name: idpbridge, metadata: self}
    roles:
      - name: Developer
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Sid: AWSSignInOnly
              Effect: Allow
              Principal: {Federated: "arn:aws:iam::111111111111:saml-provider/idpbridge"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
              Condition:
                StringEquals: {SAML:aud: "https://signin.aws.amazon.com/saml"}
`

// TestSTSSignInSaysWhichStepRefused: the AccessDenied page names the step
// that refused in terms an administrator can act on (a provider or role
// that is not configured, the trust policy's statement and condition), and
// the log line says the same.
func TestSTSSignInSaysWhichStepRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		config string
		role   string
		want   string
	}{
		{name: "provider of another account", config: signinSTSConfig,
			role: signinDevRole + ",arn:aws:iam::222222222222:saml-provider/idpbridge",
			want: "no SAML provider named idpbridge in account 222222222222"},
		{name: "provider of another name", config: signinSTSConfig,
			role: signinDevRole + ",arn:aws:iam::111111111111:saml-provider/okta",
			want: "no SAML provider named okta in account 111111111111"},
		{name: "role that does not exist", config: signinSTSConfig, role: pair("arn:aws:iam::111111111111:role/Ghost"),
			want: "no role named Ghost in account 111111111111"},
		{name: "trust policy without the action", config: signinSTSConfig, role: pair(signinNoTrust),
			want: "role named NoTrust in account 111111111111: no statement of the trust policy allows sts:SetSourceIdentity: " +
				"statement #0 Allow does not apply: its Action does not list sts:SetSourceIdentity (SAML provider " + signinProvider + ")"},
		{name: "trust policy condition on the audience", config: signinAudienceConfig, role: pair(signinDevRole),
			want: `role named Developer in account 111111111111: no statement of the trust policy allows sts:SetSourceIdentity: ` +
				`statement #0 (AWSSignInOnly) Allow does not apply: condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" ` +
				`is not met: the request has SAML:aud "https://idp.example.com/sts/saml"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSigninEnvWith(t, tc.config)
			w := e.post(url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{tc.role}, SourceIdentity: "Saanvi"})}})
			body := page(w)
			if w.Code != http.StatusForbidden || !strings.Contains(body, "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML") {
				t.Fatalf("status %d, want the AccessDenied page:\n%s", w.Code, body)
			}
			if !strings.Contains(body, "Refused because: "+tc.want) {
				t.Errorf("the page does not say which step refused (%q):\n%s", tc.want, body)
			}
			if logs := htmlUnescape(e.logs.String()); !strings.Contains(strings.ReplaceAll(logs, `\"`, `"`), tc.want) {
				t.Errorf("the log does not say it:\n%s", logs)
			}
			if recs := e.trail.all(); len(recs) != 1 || recs[0].ErrorCode != "AccessDenied" ||
				recs[0].ErrorMessage != "Not authorized to perform sts:AssumeRoleWithSAML" {
				t.Errorf("audit record: %+v", recs)
			}
		})
	}
}
