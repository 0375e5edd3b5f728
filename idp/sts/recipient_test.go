package sts

import (
	"context"
	"crypto/x509"
	"idpbridge/idp"
	"net/http"
	"strings"
	"testing"
)

// optInAWS is the line of samlConfig that opts in to AWS sign-in's recipient.
const optInAWS = "saml_recipients: [https://signin.aws.amazon.com/saml, https://idp.example.com/sts/saml]\n"

// TestSAMLRecipientDefaultIsOwnEndpoint: with saml_recipients unset, the STS
// accepts only assertions for its own sign-in endpoint (<base_url>/sts/saml);
// an assertion made for AWS sign-in is refused, and accepted once AWS's
// recipient and audience are listed explicitly.
func TestSAMLRecipientDefaultIsOwnEndpoint(t *testing.T) {
	t.Parallel()
	if !strings.Contains(samlConfig, optInAWS) {
		t.Fatal("samlConfig no longer opts in to AWS sign-in")
	}
	const own = "https://idp.example.com/sts/saml"
	// For FederatedNoSourceIdentity, whose trust has no SAML:aud condition.
	assertion := func(t *testing.T, recipient, audience string) string {
		return exampleAssertion(t, func(s *assertionSpec) {
			s.Recipient, s.Audience = recipient, audience
			setAttr(s, idp.AttrRole, fedNoSIRoleARN+","+mySAMLIdP)
			setAttr(s, idp.AttrSourceIdentity)
		})
	}
	tests := []struct {
		name                string
		recipients          string // the saml_recipients line, "" for the default
		recipient, audience string
		ok                  bool
	}{
		{"default: AWS sign-in recipient and audience", "", signinRecipient, signinRecipient, false},
		{"default: the aws preset's shape", "", signinRecipient, AWSAudienceURN, false},
		{"default: own recipient and AWS audience", "", own, AWSAudienceURN, false},
		{"default: AWS recipient and own audience", "", signinRecipient, own, false},
		{"default: own endpoint (the builtin preset)", "", own, own, true},
		{"opted in: AWS sign-in", "saml_recipients: [https://signin.aws.amazon.com/saml, urn:amazon:webservices]\n", signinRecipient, AWSAudienceURN, true},
		{"opted in: own endpoint not listed", "saml_recipients: [https://signin.aws.amazon.com/saml, urn:amazon:webservices]\n", own, own, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newSAMLEnvWith(t, strings.Replace(samlConfig, optInAWS, tc.recipients, 1))
			r := e.do(nil, samlForm(fedNoSIRoleARN, mySAMLIdP, assertion(t, tc.recipient, tc.audience)))
			if tc.ok {
				if r.status != http.StatusOK {
					t.Fatalf("refused: %s", r.body)
				}
				return
			}
			wantError(t, r, http.StatusBadRequest, CodeInvalidIdentityToken, "Response does not contain the required audience.")
		})
	}
}

// newSAMLEnvWith is newSAMLEnv with another configuration of the same
// providers.
func newSAMLEnvWith(t testing.TB, config string) *testEnv {
	t.Helper()
	md := metadataFile(t, samlIssuer, testSAMLKey(t, "example"))
	self := testSAMLKey(t, "self")
	return newEnv(t, strings.Replace(config, "METADATA_FILE", md, 1), withBuild(func(b *BuildOptions) {
		b.SelfCerts = func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{self.cert}, nil }
	}))
}

// TestSAMLRecipientsNeedBaseURL: with neither saml_recipients nor a base
// URL, a configuration with a SAML provider is refused, naming the key.
func TestSAMLRecipientsNeedBaseURL(t *testing.T) {
	t.Parallel()
	c := decodeConfig(t, `
accounts:
  - id: "123456789012"
    saml_providers:
      - {name: Other, metadata_file: /nonexistent/metadata.xml}
`)
	problems := c.Validate(BuildOptions{ReadFile: func(string) ([]byte, error) { return nil, nil }})
	found := false
	for _, p := range problems {
		if strings.HasPrefix(p, "sts.saml_recipients: required when no base URL is known") {
			found = true
		}
	}
	if !found {
		t.Fatalf("problems %q lack sts.saml_recipients", problems)
	}
	c.SAMLRecipients = []string{"https://idp.example.com/sts/saml"}
	for _, p := range c.Validate(BuildOptions{ReadFile: func(string) ([]byte, error) { return nil, nil }}) {
		if strings.HasPrefix(p, "sts.saml_recipients") {
			t.Fatalf("explicit recipients refused: %s", p)
		}
	}
}
