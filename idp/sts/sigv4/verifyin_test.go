package sigv4

import (
	"net/http"
	"testing"
)

// VerifyIn accepts a scope naming one of the given regions, refuses any
// other well-formed region with AWS's message, and keeps Verify's answer
// for a malformed one; no regions accepts any well-formed region.
func TestVerifyInRegions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, region string
		regions      []string
		code, msg    string
	}{
		{"own region", "us-east-1", []string{"us-east-1"}, "", ""},
		{"accepted region", "eu-west-1", []string{"us-east-1", "eu-west-1"}, "", ""},
		{"foreign region", "eu-west-1", []string{"us-east-1"}, CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region."},
		{"malformed region", "EU-WEST-1", []string{"us-east-1"}, CodeSignatureDoesNotMatch, "Credential should be scoped to a valid region, not 'EU-WEST-1'."},
		{"any region", "ap-southeast-2", nil, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sr := sdkSign(t, http.MethodPost, stsURL, formBody, "", "sts", tc.region, signedAt)
			s, err := Parse(sr.r, sr.body)
			if err != nil {
				t.Fatal(err)
			}
			wantError(t, s.VerifyIn(tc.regions, testSecret, signedAt), tc.code, tc.msg)
		})
	}
}
