package sigv4

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// fixedTimeSigner is the SDK's own SigV4 signer with the signing time pinned,
// so the round trip is deterministic.
type fixedTimeSigner struct {
	signer *v4.Signer
	at     time.Time
}

func (f fixedTimeSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) error {
	return f.signer.SignHTTP(ctx, c, r, payloadHash, service, region, f.at, optFns...)
}

var _ sts.HTTPSignerV4 = fixedTimeSigner{}

// stsStub answers STS calls after checking their signature with Parse and
// Verify against secret at now, and records what it saw.
type stsStub struct {
	secret string
	now    time.Time

	mu     sync.Mutex
	seen   *Signed
	err    error
	path   string
	action string
}

func (s *stsStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	signed, err := Parse(r, body)
	if err == nil {
		err = signed.Verify(s.secret, s.now)
	}
	s.mu.Lock()
	s.seen, s.err, s.path = signed, err, r.URL.Path
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/xml")
	var e *Error
	if errors.As(err, &e) {
		w.WriteHeader(e.Status)
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
			Type    string   `xml:"Error>Type"`
			Code    string   `xml:"Error>Code"`
			Message string   `xml:"Error>Message"`
			ReqID   string   `xml:"RequestId"`
		}{Type: "Sender", Code: e.Code, Message: e.Message, ReqID: "c6104cbe-af31-11e0-8154-cbc7ccf896c7"})
		return
	}
	_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/DevUser</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
}

// TestSTSClientRoundTrip sends GetCallerIdentity with the real STS client of
// the AWS SDK for Go v2 to a server that verifies the signature.
func TestSTSClientRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		secret     string // the server's copy of the secret
		token      string
		now        time.Time
		wantCode   string
		wantMsg    string
		wantSigned []string
	}{
		{name: "long-term key", secret: testSecret, now: signedAt.Add(time.Minute),
			wantSigned: []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date"}},
		{name: "session credentials", secret: testSecret, token: testToken, now: signedAt.Add(time.Minute),
			wantSigned: []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-length", "content-type", "host", "x-amz-date", "x-amz-security-token"}},
		{name: "wrong secret", secret: "not-the-secret", now: signedAt,
			wantCode: CodeSignatureDoesNotMatch, wantMsg: msgSignatureMismatch},
		{name: "client clock 16 minutes slow", secret: testSecret, now: signedAt.Add(16 * time.Minute),
			wantCode: CodeSignatureDoesNotMatch,
			wantMsg:  "Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stub := &stsStub{secret: tc.secret, now: tc.now}
			srv := httptest.NewServer(stub)
			defer srv.Close()

			client := sts.New(sts.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL + "/sts/"),
				Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return creds(tc.token), nil
				}),
				HTTPSignerV4:     fixedTimeSigner{signer: v4.NewSigner(), at: signedAt},
				RetryMaxAttempts: 1,
			})
			out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})

			stub.mu.Lock()
			defer stub.mu.Unlock()
			if stub.path != "/sts/" {
				t.Errorf("server saw path %q, want /sts/", stub.path)
			}
			if tc.wantCode != "" {
				wantError(t, stub.err, tc.wantCode, tc.wantMsg)
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode || apiErr.ErrorMessage() != tc.wantMsg {
					t.Fatalf("client error = %v, want %s %q", err, tc.wantCode, tc.wantMsg)
				}
				return
			}
			if stub.err != nil {
				t.Fatalf("server refused the SDK's signature: %v\ncanonical request:\n%s", stub.err, stub.seen.CanonicalRequest())
			}
			if err != nil {
				t.Fatalf("GetCallerIdentity: %v", err)
			}
			if aws.ToString(out.Account) != "123456789012" {
				t.Errorf("Account = %q", aws.ToString(out.Account))
			}
			s := stub.seen
			if s.AccessKeyID != testKeyID || s.SecurityToken != tc.token || s.Scope.Region != "us-east-1" || s.Presigned {
				t.Errorf("server saw %+v", s)
			}
			if len(s.SignedHeaders) != len(tc.wantSigned) {
				t.Fatalf("SignedHeaders = %q, want %q", s.SignedHeaders, tc.wantSigned)
			}
			for i := range tc.wantSigned {
				if s.SignedHeaders[i] != tc.wantSigned[i] {
					t.Fatalf("SignedHeaders = %q, want %q", s.SignedHeaders, tc.wantSigned)
				}
			}
		})
	}
}
