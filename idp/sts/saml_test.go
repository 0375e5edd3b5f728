package sts

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"idpbridge/idp"
	"net/http"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
)

const (
	samlIssuer      = "https://example.com/saml"
	selfEntityID    = "https://idp.example.com/saml/metadata"
	mySAMLIdP       = "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"
	idpbridge1      = "arn:aws:iam::111111111111:saml-provider/idpbridge"
	fedDevRoleARN   = "arn:aws:iam::123456789012:role/FederatedDeveloper"
	fedNoSIRoleARN  = "arn:aws:iam::123456789012:role/FederatedNoSourceIdentity"
	signinRecipient = "https://signin.aws.amazon.com/saml"
	persistent      = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	transient       = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
)

// samlConfig has MySAMLIdP (Issuer https://example.com/saml, from a
// metadata file) in account A and idpbridge's own IdP (metadata: self) in
// account 111111111111, with the roles of seed scenarios 3, 5 and 6. It opts
// in to AWS sign-in's recipient, which the seed assertions name, beside its own.
const samlConfig = `
saml_recipients: [https://signin.aws.amazon.com/saml, https://idp.example.com/sts/saml]
accounts:
  - id: "123456789012"
    saml_providers:
      - {name: MySAMLIdP, metadata_file: METADATA_FILE}
    roles:
      - name: FederatedDeveloper
        max_session_duration: 43200
        tags: {Team: platform}
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity, sts:TagSession]
              Condition: {StringEquals: {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
      - name: FederatedNoSourceIdentity
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"}
              Action: sts:AssumeRoleWithSAML
  - id: "111111111111"
    saml_providers:
      - {name: idpbridge, metadata: self}
    roles:
      - name: CriticalRole
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::111111111111:saml-provider/idpbridge"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
              Condition: {StringLike: {sts:SourceIdentity: [Saanvi, Diego]}}
        policies:
          - name: chain-to-critical-2
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "arn:aws:iam::222222222222:role/CriticalRole_2"}
  - id: "222222222222"
    roles:
      - name: CriticalRole_2
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::111111111111:role/CriticalRole"}
              Action: [sts:AssumeRole, sts:SetSourceIdentity]
              Condition: {StringLike: {aws:SourceIdentity: [Saanvi, Diego]}}
`

// newSAMLEnv is a test environment with samlConfig: the "example" key signs
// for MySAMLIdP, the "self" key is idpbridge's own.
func newSAMLEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	md := metadataFile(t, samlIssuer, testSAMLKey(t, "example"))
	self := testSAMLKey(t, "self")
	opts = append([]envOption{withBuild(func(b *BuildOptions) {
		b.SelfCerts = func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{self.cert}, nil }
	})}, opts...)
	return newEnv(t, strings.Replace(samlConfig, "METADATA_FILE", md, 1), opts...)
}

// exampleAssertion is a valid response of MySAMLIdP for FederatedDeveloper
// carrying DiegoRamirez (seed scenario 3).
func exampleAssertion(t testing.TB, edit func(*assertionSpec)) string {
	s := assertionSpec{
		Issuer:              samlIssuer,
		NameID:              "diego@example.com",
		NameIDFormat:        persistent,
		Recipient:           signinRecipient,
		Audience:            signinRecipient,
		IssueInstant:        testNow.Add(-10 * time.Second),
		NotOnOrAfter:        testNow.Add(5 * time.Minute),
		SessionNotOnOrAfter: testNow.Add(8 * time.Hour),
		Key:                 testSAMLKey(t, "example"),
		Attributes: []samlAttr{
			{idp.AttrRole, []string{fedDevRoleARN + "," + mySAMLIdP}},
			{idp.AttrRoleSessionName, []string{"diego"}},
			{idp.AttrSourceIdentity, []string{"DiegoRamirez"}},
			{"urn:oid:0.9.2342.19200300.100.1.3", []string{"diego@example.com"}},
		},
	}
	if edit != nil {
		edit(&s)
	}
	return signedResponse(t, s)
}

func setAttr(s *assertionSpec, name string, values ...string) {
	for i := range s.Attributes {
		if s.Attributes[i].Name == name {
			if values == nil {
				s.Attributes = append(s.Attributes[:i], s.Attributes[i+1:]...)
			} else {
				s.Attributes[i].Values = values
			}
			return
		}
	}
	if values != nil {
		s.Attributes = append(s.Attributes, samlAttr{name, values})
	}
}

func samlForm(roleARN, providerARN, assertion string, kv ...string) map[string][]string {
	p := form("AssumeRoleWithSAML", append([]string{"RoleArn", roleARN, "PrincipalArn", providerARN, "SAMLAssertion", assertion}, kv...)...)
	return p
}

// TestVector3_SAMLEmptyArns: RoleArn="" and PrincipalArn="" give four
// validation errors (pattern and length of each).
func TestVector3_SAMLEmptyArns(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	r := e.do(nil, samlForm("", "", exampleAssertion(t, nil)))
	wantError(t, r, http.StatusBadRequest, CodeValidationError, "")
	if !strings.HasPrefix(r.message(), "4 validation errors detected: ") {
		t.Fatalf("message %q", r.message())
	}
	for _, want := range []string{
		"Value '' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20",
		"Value '' at 'principalArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ",
	} {
		if !strings.Contains(r.message(), want) {
			t.Errorf("message lacks %q:\n%s", want, r.message())
		}
	}
	t.Run("missing assertion", func(t *testing.T) {
		r := e.do(nil, form("AssumeRoleWithSAML", "RoleArn", fedDevRoleARN, "PrincipalArn", mySAMLIdP))
		wantError(t, r, http.StatusBadRequest, CodeValidationError,
			"1 validation error detected: Value null at 'sAMLAssertion' failed to satisfy constraint: Member must not be null")
	})
	t.Run("assertion too short, value not echoed", func(t *testing.T) {
		r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, "abc"))
		wantError(t, r, http.StatusBadRequest, CodeValidationError,
			"1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length greater than or equal to 4")
	})
}

// TestVector10_AssumeRoleWithSAML: the SAML cases of vector 10.
func TestVector10_AssumeRoleWithSAML(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	tests := []struct {
		name    string
		role    string
		edit    func(*assertionSpec)
		status  int
		code    string
		message string
	}{
		{"no RoleSessionName", fedDevRoleARN, func(s *assertionSpec) { setAttr(s, idp.AttrRoleSessionName) },
			400, CodeInvalidIdentityToken, msgRoleSessionNameNeeded},
		{"RoleSessionName John Doe", fedDevRoleARN, func(s *assertionSpec) { setAttr(s, idp.AttrRoleSessionName, "John Doe") },
			400, CodeInvalidIdentityToken, msgRoleSessionNameBad},
		{"SourceIdentity aws:x", fedDevRoleARN, func(s *assertionSpec) { setAttr(s, idp.AttrSourceIdentity, "aws:x") },
			400, CodeInvalidIdentityToken, msgSourceIdentityBad},
		{"tampered signature", fedDevRoleARN, func(s *assertionSpec) {
			s.Tamper = func(x string) string { return strings.Replace(x, ">diego<", ">admin<", 1) }
		}, 400, CodeInvalidIdentityToken, "Response signature invalid"},
		{"signed by a key not in the metadata", fedDevRoleARN, func(s *assertionSpec) { s.Key = testSAMLKey(t, "attacker") },
			400, CodeInvalidIdentityToken, "Response signature invalid"},
		{"expired", fedDevRoleARN, func(s *assertionSpec) {
			s.IssueInstant, s.NotOnOrAfter = testNow.Add(-20*time.Minute), testNow.Add(-10*time.Minute)
		}, 400, CodeExpiredTokenException, "Response has expired"},
		{"SourceIdentity without SetSourceIdentity in trust", fedNoSIRoleARN, func(s *assertionSpec) {
			setAttr(s, idp.AttrRole, fedNoSIRoleARN+","+mySAMLIdP)
		}, 403, CodeAccessDenied, msgSAMLNotAuthorized},
		{"Role attribute does not list the pair", fedNoSIRoleARN, func(s *assertionSpec) { setAttr(s, idp.AttrSourceIdentity) },
			403, CodeAccessDenied, msgSAMLNotAuthorized},
		{"wrong recipient", fedDevRoleARN, func(s *assertionSpec) { s.Recipient = "https://evil.example.com/saml" },
			400, CodeInvalidIdentityToken, "Response does not contain the required audience."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(nil, samlForm(tc.role, mySAMLIdP, exampleAssertion(t, tc.edit)))
			wantError(t, r, tc.status, tc.code, tc.message)
			rec := e.trail.last(1)[0]
			if rec.EventName != audit.EventAssumeRoleWithSAML || rec.ErrorCode != tc.code || rec.ErrorMessage != tc.message {
				t.Fatalf("audit record %s %s %q", rec.EventName, rec.ErrorCode, rec.ErrorMessage)
			}
		})
	}
	t.Run("replayed assertion", func(t *testing.T) {
		a := exampleAssertion(t, nil)
		if r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, a)); r.status != http.StatusOK {
			t.Fatalf("first use: %s", r.body)
		}
		wantError(t, e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, a)), 400, CodeInvalidIdentityToken, "Assertion has already been used")
	})
	t.Run("SAML:aud in upper case matches, success with DiegoRamirez", func(t *testing.T) {
		var res AssumeRoleWithSAMLResult
		e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, nil))).result(t, &res)
		if res.SourceIdentity != "DiegoRamirez" || res.Subject != "diego@example.com" || res.SubjectType != "persistent" ||
			res.Issuer != samlIssuer || res.Audience != signinRecipient {
			t.Fatalf("result = %+v", res)
		}
		if res.NameQualifier != "1uAJanUnBc2XeUkHURMht+xam2c=" {
			t.Fatalf("NameQualifier = %q", res.NameQualifier)
		}
		if res.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/FederatedDeveloper/diego" {
			t.Fatalf("Arn = %q", res.AssumedRoleUser.Arn)
		}
	})
	t.Run("transient SubjectType", func(t *testing.T) {
		var res AssumeRoleWithSAMLResult
		e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, func(s *assertionSpec) { s.NameIDFormat = transient }))).result(t, &res)
		if res.SubjectType != "transient" {
			t.Fatalf("SubjectType = %q", res.SubjectType)
		}
	})
	t.Run("other NameID formats unchanged", func(t *testing.T) {
		f := "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
		var res AssumeRoleWithSAMLResult
		e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, func(s *assertionSpec) { s.NameIDFormat = f }))).result(t, &res)
		if res.SubjectType != f {
			t.Fatalf("SubjectType = %q", res.SubjectType)
		}
	})
	t.Run("SessionNotOnOrAfter shortens Expiration", func(t *testing.T) {
		var res AssumeRoleWithSAMLResult
		e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, func(s *assertionSpec) {
			s.SessionNotOnOrAfter = testNow.Add(20 * time.Minute)
		}), "DurationSeconds", "7200")).result(t, &res)
		if want := formatExpiration(testNow.Add(20 * time.Minute)); res.Credentials.Expiration != want {
			t.Fatalf("Expiration = %s, want %s", res.Credentials.Expiration, want)
		}
	})
	t.Run("SessionDuration attribute shortens Expiration", func(t *testing.T) {
		var res AssumeRoleWithSAMLResult
		e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, func(s *assertionSpec) {
			setAttr(s, idp.AttrSessionDuration, "1800")
		}))).result(t, &res)
		if want := formatExpiration(testNow.Add(30 * time.Minute)); res.Credentials.Expiration != want {
			t.Fatalf("Expiration = %s, want %s", res.Credentials.Expiration, want)
		}
	})
	t.Run("unknown provider", func(t *testing.T) {
		r := e.do(nil, samlForm(fedDevRoleARN, "arn:aws:iam::123456789012:saml-provider/Nope", exampleAssertion(t, nil)))
		wantError(t, r, 403, CodeAccessDenied, msgSAMLNotAuthorized)
	})
}

// TestNameQualifierVector is the NameQualifier vector of STS-SPEC §5.
func TestNameQualifierVector(t *testing.T) {
	t.Parallel()
	if got := NameQualifier("https://example.com/saml", "123456789012", "MySAMLIdP"); got != "1uAJanUnBc2XeUkHURMht+xam2c=" {
		t.Fatalf("NameQualifier = %q", got)
	}
}

// TestVector15_SAMLAudit: a successful AssumeRoleWithSAML is a SAMLUser
// event with the source identity in requestParameters and
// responseElements, and no secret.
func TestVector15_SAMLAudit(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, func(s *assertionSpec) {
		setAttr(s, idp.AttrPrincipalTagPrefix+"Department", "Engineering")
		setAttr(s, idp.AttrTransitiveTagKeys, "Department")
	})))
	var res AssumeRoleWithSAMLResult
	r.result(t, &res)
	rec := e.trail.last(1)[0]
	if rec.UserIdentity.Type != audit.TypeSAMLUser || rec.UserIdentity.UserName != "diego@example.com" ||
		rec.UserIdentity.PrincipalID != "1uAJanUnBc2XeUkHURMht+xam2c=:diego@example.com" || rec.RecipientAccountID != acctA {
		t.Fatalf("userIdentity = %+v", rec.UserIdentity)
	}
	var p audit.SAMLParams
	var out audit.SAMLResponseElements
	if err := json.Unmarshal(rec.RequestParameters, &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rec.ResponseElements, &out); err != nil {
		t.Fatal(err)
	}
	if p.SourceIdentity != "DiegoRamirez" || out.SourceIdentity != "DiegoRamirez" || p.RoleSessionName != "diego" ||
		p.PrincipalTags["Department"] != "Engineering" || len(p.TransitiveTagKeys) != 1 || p.SAMLAssertionID == "" {
		t.Fatalf("requestParameters %+v / responseElements %+v", p, out)
	}
	if out.Credentials.AccessKeyID != res.Credentials.AccessKeyID || out.Credentials.SessionToken != audit.Hidden ||
		out.NameQualifier != res.NameQualifier || out.Subject != res.Subject {
		t.Fatalf("responseElements %+v", out)
	}
	raw, _ := json.Marshal(rec)
	if strings.Contains(string(raw), res.Credentials.SecretAccessKey) || strings.Contains(string(raw), res.Credentials.SessionToken) {
		t.Fatal("the audit record holds the secret or the token")
	}
	if rec.RequestID != extractRequestID(t, r.body) {
		t.Fatal("requestID differs from the response's RequestId")
	}
	if len(rec.Resources) != 2 || rec.Resources[1].Type != audit.ResourceSAMLProvider {
		t.Fatalf("resources %+v", rec.Resources)
	}
}

func extractRequestID(t testing.TB, body []byte) string {
	t.Helper()
	_, after, ok := strings.Cut(string(body), "<RequestId>")
	id, _, ok2 := strings.Cut(after, "</RequestId>")
	if !ok || !ok2 {
		t.Fatalf("no RequestId in %s", body)
	}
	return id
}

// TestSAMLChainKeepsSourceIdentity: seed scenarios 5 and 6 started with
// AssumeRoleWithSAML on idpbridge's own provider (metadata: self).
func TestSAMLChainKeepsSourceIdentity(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	critical := func(si string) string {
		return signedResponse(t, assertionSpec{
			Issuer: selfEntityID, NameID: "saanvi", NameIDFormat: persistent, Recipient: signinRecipient, Audience: signinRecipient,
			IssueInstant: testNow.Add(-5 * time.Second), NotOnOrAfter: testNow.Add(5 * time.Minute), Key: testSAMLKey(t, "self"),
			Attributes: []samlAttr{
				{idp.AttrRole, []string{idpbridge1 + "," + critRoleARN}},
				{idp.AttrRoleSessionName, []string{"saanvi"}},
				{idp.AttrSourceIdentity, []string{si}},
			},
		})
	}
	wantError(t, e.do(nil, samlForm(critRoleARN, idpbridge1, critical("Mallory"))), 403, CodeAccessDenied, msgSAMLNotAuthorized)
	var first AssumeRoleWithSAMLResult
	e.do(nil, samlForm(critRoleARN, idpbridge1, critical("Saanvi"))).result(t, &first)
	s := creds{key: first.Credentials.AccessKeyID, secret: first.Credentials.SecretAccessKey, token: first.Credentials.SessionToken}
	res, _ := e.assumeRole(s, "RoleArn", crit2RoleARN, "RoleSessionName", "chained")
	if res.SourceIdentity != "Saanvi" {
		t.Fatalf("chained SourceIdentity = %q", res.SourceIdentity)
	}
	r := e.do(&s, form("AssumeRole", "RoleArn", crit2RoleARN, "RoleSessionName", "x2", "SourceIdentity", "Diego"))
	wantError(t, r, 403, CodeAccessDenied, "")
}
