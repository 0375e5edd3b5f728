package sigv4

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN//+=="
	formBody   = "Action=GetCallerIdentity&Version=2011-06-15"
	stsURL     = "https://sts.example.com/sts/"
)

// signedAt is the signing time of every SDK-signed test request.
var signedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func creds(token string) aws.Credentials {
	return aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: token}
}

// signedRequest is a request signed by the AWS SDK for Go v2 signer, and its body.
type signedRequest struct {
	r    *http.Request
	body []byte
}

// sdkSign signs method url with SignHTTP (header authentication); body is
// sent form-encoded when not empty.
func sdkSign(t testing.TB, method, url, body, token, service, region string, at time.Time) signedRequest {
	t.Helper()
	var r *http.Request
	var err error
	if body != "" {
		r, err = http.NewRequest(method, url, strings.NewReader(body))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
	} else {
		r, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	err = v4.NewSigner().SignHTTP(context.Background(), creds(token), r, hashHex([]byte(body)), service, region, at)
	if err != nil {
		t.Fatal(err)
	}
	return signedRequest{r: r, body: []byte(body)}
}

// sdkPresign presigns method url with PresignHTTP (query authentication);
// expires > 0 adds X-Amz-Expires.
func sdkPresign(t testing.TB, method, url, body, token string, expires time.Duration, at time.Time) signedRequest {
	t.Helper()
	if expires > 0 {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	}
	var r *http.Request
	var err error
	if body != "" {
		r, err = http.NewRequest(method, url, strings.NewReader(body))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		r, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	signedURL, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds(token), r, hashHex([]byte(body)), "sts", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	var out *http.Request
	if body != "" {
		out, err = http.NewRequest(method, signedURL, strings.NewReader(body))
	} else {
		out, err = http.NewRequest(method, signedURL, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") || strings.EqualFold(k, "content-length") {
			continue // carried by Request.Host and Request.ContentLength
		}
		out.Header[k] = vs
	}
	return signedRequest{r: out, body: []byte(body)}
}

// parseVerify runs Parse then Verify and returns the first error.
func parseVerify(sr signedRequest, secret string, now time.Time) (*Signed, error) {
	s, err := Parse(sr.r, sr.body)
	if err != nil {
		return nil, err
	}
	return s, s.Verify(secret, now)
}

// wantError fails t unless err is an *Error with code (and message, when
// msg is not empty) and the status that code carries.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%q), want %s", e.Code, e.Message, code)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message =\n  %q\nwant\n  %q", e.Message, msg)
	}
	wantStatus := map[string]int{
		CodeIncompleteSignature:        400,
		CodeInvalidParameterValue:      400,
		CodeSignatureDoesNotMatch:      403,
		CodeMissingAuthenticationToken: 403,
	}[code]
	if e.Status != wantStatus {
		t.Fatalf("status = %d, want %d", e.Status, wantStatus)
	}
}

// signAgain signs r with the SDK signer, keeping its headers.
func signAgain(r *http.Request, body string) error {
	return v4.NewSigner().SignHTTP(context.Background(), creds(""), r, hashHex([]byte(body)), "sts", "us-east-1", signedAt)
}
