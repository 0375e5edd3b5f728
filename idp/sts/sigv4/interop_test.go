package sigv4

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSDKInterop verifies requests signed by the AWS SDK for Go v2 signer.
func TestSDKInterop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		req           func(t *testing.T) signedRequest
		presigned     bool
		token         string
		tokenSigned   bool
		expires       time.Duration
		signedHeaders []string
	}{
		{
			name: "header POST form",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "POST", stsURL, formBody, "", "sts", "us-east-1", signedAt)
			},
			signedHeaders: []string{"content-length", "content-type", "host", "x-amz-date"},
		},
		{
			name: "header POST form with session token",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "POST", stsURL, formBody, testToken, "sts", "us-east-1", signedAt)
			},
			token: testToken, tokenSigned: true,
			signedHeaders: []string{"content-length", "content-type", "host", "x-amz-date", "x-amz-security-token"},
		},
		{
			name: "header GET query",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", "", "sts", "us-east-1", signedAt)
			},
			signedHeaders: []string{"host", "x-amz-date"},
		},
		{
			name: "header GET with session token",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "GET", stsURL+"?Version=2011-06-15&Action=GetCallerIdentity", "", testToken, "sts", "us-east-1", signedAt)
			},
			token: testToken, tokenSigned: true,
			signedHeaders: []string{"host", "x-amz-date", "x-amz-security-token"},
		},
		{
			name: "header GET with escaped path and odd query",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "GET", "https://sts.example.com/sts/a%20b/c~d?Action=GetCallerIdentity&Version=2011-06-15&x=a+b&y=%2F%3D%26&z=", "", "", "sts", "eu-west-3", signedAt)
			},
			signedHeaders: []string{"host", "x-amz-date"},
		},
		{
			name: "header POST on host with port",
			req: func(t *testing.T) signedRequest {
				return sdkSign(t, "POST", "http://127.0.0.1:8443/sts/", formBody, "", "sts", "us-east-1", signedAt)
			},
			signedHeaders: []string{"content-length", "content-type", "host", "x-amz-date"},
		},
		{
			name: "presigned GET",
			req: func(t *testing.T) signedRequest {
				return sdkPresign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", "", 0, signedAt)
			},
			presigned:     true,
			signedHeaders: []string{"host"},
		},
		{
			name: "presigned GET with session token and expiry",
			req: func(t *testing.T) signedRequest {
				return sdkPresign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", testToken, 60*time.Second, signedAt)
			},
			presigned: true, token: testToken, tokenSigned: true, expires: 60 * time.Second,
			signedHeaders: []string{"host"},
		},
		{
			name: "presigned POST form",
			req: func(t *testing.T) signedRequest {
				return sdkPresign(t, "POST", stsURL, formBody, "", 0, signedAt)
			},
			presigned:     true,
			signedHeaders: []string{"content-length", "content-type", "host"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr := tc.req(t)
			s, err := Parse(sr.r, sr.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if s.AccessKeyID != testKeyID || s.Presigned != tc.presigned || s.SecurityToken != tc.token ||
				s.SecurityTokenSigned != tc.tokenSigned || s.Expires != tc.expires || !s.Date.Equal(signedAt) {
				t.Errorf("Signed = %+v", s)
			}
			if !reflect.DeepEqual(s.SignedHeaders, tc.signedHeaders) {
				t.Errorf("SignedHeaders = %q, want %q", s.SignedHeaders, tc.signedHeaders)
			}
			if s.Scope.Service != "sts" || s.Scope.Date != "20260301" || s.Scope.Terminal != "aws4_request" {
				t.Errorf("Scope = %+v", s.Scope)
			}
			if err := s.Verify(testSecret, signedAt.Add(time.Minute)); err != nil {
				t.Fatalf("Verify with the right secret: %v\ncanonical request:\n%s", err, s.CanonicalRequest())
			}
			wantError(t, s.Verify("wrong"+testSecret, signedAt.Add(time.Minute)), CodeSignatureDoesNotMatch, msgSignatureMismatch)
			wantError(t, s.Verify("", signedAt.Add(time.Minute)), CodeSignatureDoesNotMatch, msgSignatureMismatch)
		})
	}
}

// TestServerSideRequest verifies a request as a net/http server receives it
// (Host promoted out of the header map, Content-Length kept as a header).
func TestServerSideRequest(t *testing.T) {
	t.Parallel()
	sr := sdkSign(t, "POST", stsURL, formBody, testToken, "sts", "us-east-1", signedAt)
	sr.r.Header.Set("Content-Length", "43")
	sr.r.ContentLength = -1
	sr.r.Header.Set("User-Agent", "added-after-signing")
	sr.r.Header.Set("Accept-Encoding", "gzip")
	if _, err := parseVerify(sr, testSecret, signedAt); err != nil {
		t.Fatal(err)
	}
	if got := http.Header(sr.r.Header).Get("Authorization"); got == "" {
		t.Fatal("request lost its Authorization header")
	}
}

// TestPresignedUnsignedPayload accepts a presigned request whose signature
// leaves the body out, and says so.
func TestPresignedUnsignedPayload(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest("POST", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", strings.NewReader("anything"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	u, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds(""), r, UnsignedPayload, "sts", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest("POST", u, strings.NewReader("tampered"))
	if err != nil {
		t.Fatal(err)
	}
	out.Header.Set("X-Amz-Content-Sha256", hdr.Get("X-Amz-Content-Sha256"))
	s, err := parseVerify(signedRequest{r: out, body: []byte("tampered")}, testSecret, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if !s.UnsignedPayload {
		t.Error("UnsignedPayload = false, want true")
	}
}
