package sso

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
	saml2 "github.com/russellhaering/gosaml2"
	dsig "github.com/russellhaering/goxmldsig"
)

// signedParts says which of the Response and its Assertion carry a
// signature as a direct child.
func signedParts(t *testing.T, resp []byte) (response, assertion bool) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(resp); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	a := root.SelectElement("Assertion")
	if a == nil {
		t.Fatalf("no Assertion in the Response:\n%s", resp)
	}
	return root.SelectElement("Signature") != nil, a.SelectElement("Signature") != nil
}

// gosaml2SP is gosaml2's SP for the test SP "app", trusting the IdP's
// published keys.
func gosaml2SP(env *testEnv) *saml2.SAMLServiceProvider {
	return &saml2.SAMLServiceProvider{
		IdentityProviderSSOURL:      testBase + SSOPath,
		IdentityProviderIssuer:      testEntityID,
		AssertionConsumerServiceURL: spACS,
		ServiceProviderIssuer:       spEntityID,
		AudienceURI:                 spEntityID,
		IDPCertificateStore:         &dsig.MemoryX509CertificateStore{Roots: env.keys.Published()},
		Clock:                       dsig.NewFakeClockAt(testNow),
	}
}

// TestSignModes: with sign response, assertion or both, the Response
// carries exactly those signatures, and gosaml2 (an independent SP) and
// crewjam's SP accept it, with the mapped person, and refuse it once a
// value is changed.
func TestSignModes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode                string
		response, assertion bool
	}{
		{SignResponse, true, false},
		{SignAssertion, false, true},
		{SignBoth, true, true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, func(o *Options) { o.ServiceProviders[1].Sign = tc.mode })
			resp, _ := idpInitiatedResponse(t, env)
			if r, a := signedParts(t, resp); r != tc.response || a != tc.assertion {
				t.Fatalf("signed: Response %v, Assertion %v; want %v, %v", r, a, tc.response, tc.assertion)
			}
			sp := gosaml2SP(env)
			info, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(resp))
			if err != nil {
				t.Fatalf("gosaml2 rejects the response: %v", err)
			}
			if w := info.WarningInfo; w.InvalidTime || w.NotInAudience || w.OneTimeUse || w.ProxyRestriction != nil {
				t.Fatalf("gosaml2 warnings: %+v", w)
			}
			if info.ResponseSignatureValidated != tc.response {
				t.Errorf("gosaml2 validated the Response signature: %v", info.ResponseSignatureValidated)
			}
			if info.NameID != "alice" || len(info.Values) != len(aliceAWSAttributes()) {
				t.Errorf("NameID %q, %d attributes", info.NameID, len(info.Values))
			}
			verifyCrewjam(t, env, spEntityID, spACS, resp, nil)
			forged := bytes.Replace(resp, []byte(">alice<"), []byte(">mallory<"), 1)
			if _, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(forged)); err == nil {
				t.Fatal("gosaml2 accepts a forged response")
			}
		})
	}
}

// TestSignDefaults: aws and builtin sign the Assertion only; a provider
// without a preset gets both signatures.
func TestSignDefaults(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	for _, tc := range []struct {
		sp                  string
		response, assertion bool
	}{
		{"aws", false, true},
		{"sts", false, true},
		{"app", true, true},
	} {
		w := env.do("GET", "/saml/idp-initiated?sp="+tc.sp, nil, env.sessions.signIn(alice))
		if tc.sp == "sts" { // one role, chosen on the chooser
			w = env.do("POST", IdPInitiatedPath, url.Values{"sp": {"sts"}, "csrf_token": {csrfOK},
				"role": {"arn:aws:iam::111122223333:role/Dev,arn:aws:iam::111122223333:saml-provider/idpbridge"}}, env.sessions.signIn(alice))
		}
		if w.Code != 200 {
			t.Fatalf("%s: status %d: %s", tc.sp, w.Code, w.Body)
		}
		resp := parsePostForm(t, w.Body.String()).SAMLResponse
		if r, a := signedParts(t, resp); r != tc.response || a != tc.assertion {
			t.Errorf("%s: signed Response %v, Assertion %v; want %v, %v", tc.sp, r, a, tc.response, tc.assertion)
		}
	}
}

// TestSignConfig: sign takes response, assertion or both; anything else is
// an error naming the key.
func TestSignConfig(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", SignResponse, SignAssertion, SignBoth} {
		sps := []ServiceProviderConfig{{Name: "x", Mapping: "dev", EntityID: "https://x.test", ACSURL: "https://x.test/acs", Sign: mode}}
		if p := ValidateConfig(sps, DefaultMappings(), ValidateOptions{BaseURL: testBase}); len(p) != 0 {
			t.Errorf("sign %q: %v", mode, p)
		}
	}
	for _, mode := range []string{"none", "Response", "assertion,response"} {
		sps := []ServiceProviderConfig{{Name: "x", Mapping: "dev", Preset: PresetAWS, Sign: mode}}
		p := ValidateConfig(sps, DefaultMappings(), ValidateOptions{BaseURL: testBase})
		want := `service_providers[0].sign: "` + mode + `" is not one of response, assertion, both`
		if len(p) != 1 || !strings.Contains(p[0], want) {
			t.Errorf("sign %q: %v, want %q", mode, p, want)
		}
	}
}
