package sts

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// sdkClientIn is the AWS SDK's STS client configured for region.
func (e *testEnv) sdkClientIn(region string, c creds) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:           region,
		BaseEndpoint:     aws.String(e.srv.URL + "/sts/"),
		HTTPSignerV4:     fixedTimeSigner{signer: v4.NewSigner(), clock: e.clock},
		RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: c.token}, nil
		}),
	})
}

// A SigV4 credential scope must name the STS's region or one of
// sts.accepted_regions; the AWS SDK signs with the region it is configured
// for.
func TestSigningRegionMustBeServed(t *testing.T) {
	t.Parallel()
	withAccepted := strings.Replace(seedConfig, "region: us-east-1\n", "region: us-east-1\naccepted_regions: [eu-west-1]\n", 1)
	tests := []struct {
		name, config, region string
		ok                   bool
	}{
		{"own region", seedConfig, "us-east-1", true},
		{"foreign region", seedConfig, "eu-west-1", false},
		{"accepted region", withAccepted, "eu-west-1", true},
		{"region neither own nor accepted", withAccepted, "ap-southeast-2", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.config)
			ctx := context.Background()
			// A long-term key, then the session it assumes.
			_, err := e.sdkClientIn(tc.region, johnCreds).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			checkRegionAnswer(t, err, tc.ok)
			_, sess := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/TrustsUser", "RoleSessionName", "region-check")
			_, err = e.sdkClientIn(tc.region, sess).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			checkRegionAnswer(t, err, tc.ok)
		})
	}
}

func checkRegionAnswer(t *testing.T, err error, ok bool) {
	t.Helper()
	if ok {
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		return
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "SignatureDoesNotMatch" ||
		api.ErrorMessage() != "Credential should be scoped to a valid region." {
		t.Fatalf("error = %v, want SignatureDoesNotMatch \"Credential should be scoped to a valid region.\"", err)
	}
}

func TestAcceptedRegionsValidated(t *testing.T) {
	t.Parallel()
	c := decodeConfig(t, strings.Replace(seedConfig, "region: us-east-1\n", "region: us-east-1\naccepted_regions: [eu-west-1, EU-WEST-2]\n", 1))
	_, err := Build(c, BuildOptions{BaseURL: "https://idp.example.com", Getenv: func(k string) string { return testEnvVars[k] }})
	var ce *ConfigError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 ||
		ce.Problems[0] != `sts.accepted_regions[1]: "EU-WEST-2" is not a region name like eu-west-1` {
		t.Fatalf("Build error = %v", err)
	}
}
