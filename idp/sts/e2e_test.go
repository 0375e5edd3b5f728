package sts

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"idpbridge/idp"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"idpbridge/idp/audit"
)

// e2eConfig holds the seed scenarios of STS-SPEC §0 in one directory.
const e2eConfig = `
region: us-east-1
saml_recipients: [https://signin.aws.amazon.com/saml]
accounts:
  - id: "123456789012"
    saml_providers:
      - {name: MySAMLIdP, metadata_file: METADATA_FILE}
    oidc_providers:
      - {url: https://xyz.com, client_ids: [ac_oic_client], jwks_file: JWKS_FILE}
    users:
      - name: DevUser
        access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]
        policies:
          - name: assume-dev
            document:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Action: sts:AssumeRole, Resource: "arn:aws:iam::123456789012:role/Developer_Role"}
                - Effect: Allow
                  Action: sts:SetSourceIdentity
                  Resource: "arn:aws:iam::123456789012:role/Developer_Role"
                  Condition: {StringLike: {sts:SourceIdentity: "${aws:username}"}}
    roles:
      - name: Developer_Role
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:user/DevUser"}
              Action: [sts:AssumeRole, sts:SetSourceIdentity]
              Condition: {StringEquals: {sts:SourceIdentity: DevUser}}
      - name: FederatedDeveloper
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"}
              Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
      - name: WebIdentityRole
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Federated: "arn:aws:iam::123456789012:oidc-provider/xyz.com"}
              Action: [sts:AssumeRoleWithWebIdentity, sts:SetSourceIdentity]
              Condition: {StringEquals: {xyz.com:aud: ac_oic_client, xyz.com:sub: johndoe}}
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
          - name: chain
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

// seedFixture is the keys and files behind e2eConfig.
type seedFixture struct {
	config  string
	jwt     *jwtKey
	example *samlKey
	self    *samlKey
}

func newSeedFixture(t testing.TB) *seedFixture {
	t.Helper()
	f := &seedFixture{jwt: newJWTKey(t, "k1"), example: testSAMLKey(t, "example"), self: testSAMLKey(t, "self")}
	jwks := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(jwks, f.jwt.jwks(), 0o600); err != nil {
		t.Fatal(err)
	}
	f.config = strings.NewReplacer("METADATA_FILE", metadataFile(t, samlIssuer, f.example), "JWKS_FILE", jwks).Replace(e2eConfig)
	return f
}

func (f *seedFixture) options() []envOption {
	return []envOption{withBuild(func(b *BuildOptions) {
		b.SelfCerts = func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{f.self.cert}, nil }
	})}
}

// fixedTimeSigner is the SDK's SigV4 signer pinned to the test clock.
type fixedTimeSigner struct {
	signer *v4.Signer
	clock  *clock
}

func (f fixedTimeSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return f.signer.SignHTTP(ctx, c, r, payloadHash, service, region, f.clock.Now(), optFns...)
}

// sdkClient is the AWS SDK for Go's STS client on the test server's /sts/.
func (e *testEnv) sdkClient(c *creds) *awssts.Client {
	opt := awssts.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(e.srv.URL + "/sts/"),
		HTTPSignerV4:     fixedTimeSigner{signer: v4.NewSigner(), clock: e.clock},
		RetryMaxAttempts: 1,
	}
	if c != nil {
		cc := *c
		opt.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cc.key, SecretAccessKey: cc.secret, SessionToken: cc.token}, nil
		})
	}
	return awssts.New(opt)
}

func toCreds(k, s, t *string) creds {
	return creds{key: aws.ToString(k), secret: aws.ToString(s), token: aws.ToString(t)}
}

func wantAPIError(t testing.TB, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
}

// recordSource returns the audit records written so far, oldest first.
type recordSource func(t testing.TB) []audit.Record

// runSeedScenarios drives seed scenarios 1, 3, 4, 5 and 6 through the AWS
// SDK and checks that the trail holds each record with the source identity
// where STS-SPEC §8 puts it.
func runSeedScenarios(t *testing.T, e *testEnv, f *seedFixture, records recordSource) {
	ctx := context.Background()
	// lastRecords returns the records written since the mark.
	mark := 0
	since := func() []audit.Record {
		all := records(t)
		out := all[mark:]
		mark = len(all)
		return out
	}
	params := func(r audit.Record, v any) {
		t.Helper()
		if err := json.Unmarshal(r.RequestParameters, v); err != nil {
			t.Fatalf("requestParameters: %v", err)
		}
	}
	respSI := func(r audit.Record) string {
		var x struct {
			SourceIdentity string `json:"sourceIdentity"`
		}
		json.Unmarshal(r.ResponseElements, &x)
		return x.SourceIdentity
	}

	t.Run("scenario 1: DevUser sets DevUser", func(t *testing.T) {
		out, err := e.sdkClient(&devCreds).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String(devRoleARN), RoleSessionName: aws.String("Dev-project"), SourceIdentity: aws.String("DevUser")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SourceIdentity) != "DevUser" || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/Developer_Role/Dev-project" {
			t.Fatalf("output %+v", out)
		}
		recs := since()
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		var p audit.AssumeRoleParams
		params(recs[0], &p)
		if recs[0].UserIdentity.Type != audit.TypeIAMUser || p.SourceIdentity != "DevUser" || respSI(recs[0]) != "DevUser" {
			t.Fatalf("record %+v %+v", recs[0].UserIdentity, p)
		}
	})
	t.Run("scenario 1: DevUser sets Bob", func(t *testing.T) {
		_, err := e.sdkClient(&devCreds).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String(devRoleARN), RoleSessionName: aws.String("Dev-project"), SourceIdentity: aws.String("Bob")})
		wantAPIError(t, err, CodeAccessDenied)
		recs := since()
		var p audit.AssumeRoleParams
		params(recs[0], &p)
		if len(recs) != 1 || recs[0].ErrorCode != CodeAccessDenied || p.SourceIdentity != "Bob" || respSI(recs[0]) != "" {
			t.Fatalf("records %+v", recs)
		}
	})
	t.Run("scenario 3: SAML assertion carrying DiegoRamirez", func(t *testing.T) {
		a := signedResponse(t, assertionSpec{
			Issuer: samlIssuer, NameID: "diego", NameIDFormat: persistent, Recipient: signinRecipient, Audience: signinRecipient,
			IssueInstant: e.clock.Now().Add(-5 * time.Second), NotOnOrAfter: e.clock.Now().Add(5 * time.Minute), Key: f.example,
			Attributes: []samlAttr{
				{idp.AttrRole, []string{"arn:aws:iam::123456789012:role/FederatedDeveloper," + mySAMLIdP}},
				{idp.AttrRoleSessionName, []string{"diego"}},
				{idp.AttrSourceIdentity, []string{"DiegoRamirez"}},
			}})
		out, err := e.sdkClient(nil).AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String("arn:aws:iam::123456789012:role/FederatedDeveloper"), PrincipalArn: aws.String(mySAMLIdP), SAMLAssertion: aws.String(a)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SourceIdentity) != "DiegoRamirez" || aws.ToString(out.NameQualifier) != "1uAJanUnBc2XeUkHURMht+xam2c=" {
			t.Fatalf("output %+v", out)
		}
		recs := since()
		var p audit.SAMLParams
		params(recs[0], &p)
		if len(recs) != 1 || recs[0].UserIdentity.Type != audit.TypeSAMLUser || p.SourceIdentity != "DiegoRamirez" || respSI(recs[0]) != "DiegoRamirez" {
			t.Fatalf("records %+v", recs)
		}
	})
	t.Run("scenario 4: web identity token carrying Admin", func(t *testing.T) {
		c := seedToken("Admin")
		c["iat"], c["exp"] = e.clock.Now().Add(-time.Minute).Unix(), e.clock.Now().Add(time.Hour).Unix()
		out, err := e.sdkClient(nil).AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(webRoleARN), RoleSessionName: aws.String("Audit"), WebIdentityToken: aws.String(f.jwt.sign(t, c))})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.SourceIdentity) != "Admin" || aws.ToString(out.Provider) != xyzIssuer {
			t.Fatalf("output %+v", out)
		}
		recs := since()
		var p audit.WebIdentityParams
		params(recs[0], &p)
		if len(recs) != 1 || recs[0].UserIdentity.Type != audit.TypeWebIdentityUser || p.SourceIdentity != "Admin" || respSI(recs[0]) != "Admin" {
			t.Fatalf("records %+v", recs)
		}
	})
	t.Run("scenarios 5 and 6: SAML into CriticalRole, chained to CriticalRole_2", func(t *testing.T) {
		a := signedResponse(t, assertionSpec{
			Issuer: selfEntityID, NameID: "saanvi", NameIDFormat: persistent, Recipient: signinRecipient, Audience: signinRecipient,
			IssueInstant: e.clock.Now().Add(-5 * time.Second), NotOnOrAfter: e.clock.Now().Add(5 * time.Minute), Key: f.self,
			Attributes: []samlAttr{
				{idp.AttrRole, []string{critRoleARN + "," + idpbridge1}},
				{idp.AttrRoleSessionName, []string{"Saanvi"}},
				{idp.AttrSourceIdentity, []string{"Saanvi"}},
			}})
		first, err := e.sdkClient(nil).AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(critRoleARN), PrincipalArn: aws.String(idpbridge1), SAMLAssertion: aws.String(a)})
		if err != nil {
			t.Fatal(err)
		}
		since()
		saanvi := toCreds(first.Credentials.AccessKeyId, first.Credentials.SecretAccessKey, first.Credentials.SessionToken)
		chained, err := e.sdkClient(&saanvi).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String(crit2RoleARN), RoleSessionName: aws.String("Saanvi-chained")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(chained.SourceIdentity) != "Saanvi" {
			t.Fatalf("chained SourceIdentity = %q", aws.ToString(chained.SourceIdentity))
		}
		recs := since()
		if len(recs) != 2 {
			t.Fatalf("%d records for a cross-account AssumeRole, want 2", len(recs))
		}
		mine, theirs := recs[0], recs[1]
		if mine.RecipientAccountID != acct1 || theirs.RecipientAccountID != acct2 || mine.SharedEventID == "" ||
			mine.SharedEventID != theirs.SharedEventID || mine.RequestID != theirs.RequestID || mine.EventID == theirs.EventID {
			t.Fatalf("copies: %+v / %+v", mine, theirs)
		}
		if mine.UserIdentity.SessionContext == nil || mine.UserIdentity.SessionContext.SourceIdentity != "Saanvi" ||
			theirs.UserIdentity.Type != audit.TypeAWSAccount || respSI(mine) != "Saanvi" || respSI(theirs) != "Saanvi" {
			t.Fatalf("source identity in the copies: %+v / %+v", mine.UserIdentity, theirs.UserIdentity)
		}

		_, err = e.sdkClient(&saanvi).AssumeRole(ctx, &awssts.AssumeRoleInput{
			RoleArn: aws.String(crit2RoleARN), RoleSessionName: aws.String("Diego-chained"), SourceIdentity: aws.String("Diego")})
		wantAPIError(t, err, CodeAccessDenied)
		recs = since()
		if len(recs) != 2 || recs[0].ErrorCode != CodeAccessDenied || recs[0].UserIdentity.SessionContext.SourceIdentity != "Saanvi" {
			t.Fatalf("denial records %+v", recs)
		}

		chainedCreds := toCreds(chained.Credentials.AccessKeyId, chained.Credentials.SecretAccessKey, chained.Credentials.SessionToken)
		who, err := e.sdkClient(&chainedCreds).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(who.Arn) != "arn:aws:sts::222222222222:assumed-role/CriticalRole_2/Saanvi-chained" {
			t.Fatalf("GetCallerIdentity = %s", aws.ToString(who.Arn))
		}
		recs = since()
		if len(recs) != 1 || recs[0].UserIdentity.SessionContext.SourceIdentity != "Saanvi" || recs[0].Index().SourceIdentity != "Saanvi" {
			t.Fatalf("GetCallerIdentity record %+v", recs)
		}
	})
}

// TestSeedScenariosWithAWSSDK runs the seed scenarios with the fake trail.
func TestSeedScenariosWithAWSSDK(t *testing.T) {
	t.Parallel()
	f := newSeedFixture(t)
	e := newEnv(t, f.config, f.options()...)
	runSeedScenarios(t, e, f, func(testing.TB) []audit.Record { return e.trail.all() })
}
