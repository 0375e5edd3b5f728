package sts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestQueryProtocol: routes, methods, Action and Version handling, limits
// and the shape of ErrorResponse (STS-SPEC §1).
func TestQueryProtocol(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	raw := func(method, path, contentType, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	const formCT = "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, path, ct, body string
		status                       int
		code, message                string
	}{
		{"missing Action", "POST", "/sts", formCT, "Version=2011-06-15", 400, CodeMissingAction, "The request is missing an action or a required parameter."},
		{"unknown Action", "POST", "/sts/", formCT, "Action=GetSessionTokenX&Version=2011-06-15", 400, CodeInvalidAction,
			"Could not find operation GetSessionTokenX for version 2011-06-15"},
		{"missing Version", "POST", "/sts/", formCT, "Action=AssumeRole", 400, CodeInvalidAction,
			"Could not find operation AssumeRole for version NO_VERSION_SPECIFIED"},
		{"other Version", "POST", "/sts/", formCT, "Action=AssumeRole&Version=2010-01-01", 400, CodeInvalidAction,
			"Could not find operation AssumeRole for version 2010-01-01"},
		{"unsigned AssumeRole", "POST", "/sts/", formCT, "Action=AssumeRole&Version=2011-06-15&RoleArn=" + url.QueryEscape(devRoleARN) + "&RoleSessionName=s1",
			403, CodeMissingAuthenticationToken, "Request is missing Authentication Token"},
		{"unsigned GetCallerIdentity by GET", "GET", "/sts?Action=GetCallerIdentity&Version=2011-06-15", "", "", 403, CodeMissingAuthenticationToken, ""},
		{"duplicate parameter", "POST", "/sts/", formCT, "Action=AssumeRole&Version=2011-06-15&Action=GetCallerIdentity", 400, CodeInvalidParameterValue,
			"The parameter Action appears more than once."},
		{"bad percent escape", "POST", "/sts/", formCT, "Action=Assume%zzRole&Version=2011-06-15", 400, CodeInvalidParameterValue, ""},
		{"JSON body", "POST", "/sts/", "application/json", `{"Action":"AssumeRole"}`, 400, "InvalidRequest", ""},
		{"PUT", "PUT", "/sts/", formCT, "Action=GetCallerIdentity&Version=2011-06-15", 405, "MethodNotAllowed", ""},
		{"body over 256 KiB", "POST", "/sts/", formCT, "Action=GetCallerIdentity&Version=2011-06-15&X=" + strings.Repeat("a", MaxBodyBytes),
			413, CodeRequestEntityTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := raw(tc.method, tc.path, tc.ct, tc.body)
			var er errorResponse
			if err := xml.Unmarshal(body, &er); err != nil {
				t.Fatalf("not an ErrorResponse: %v\n%s", err, body)
			}
			if resp.StatusCode != tc.status || er.Error.Code != tc.code || tc.message != "" && er.Error.Message != tc.message {
				t.Fatalf("got %d %s %q", resp.StatusCode, er.Error.Code, er.Error.Message)
			}
			if er.XMLName.Space != Namespace || er.Error.Type != "Sender" || er.RequestID == "" ||
				resp.Header.Get("X-Amzn-Requestid") != er.RequestID || resp.Header.Get("Content-Type") != "text/xml" {
				t.Fatalf("envelope: %s %s %q, header %q\n%s", er.XMLName.Space, er.Error.Type, er.RequestID, resp.Header.Get("X-Amzn-Requestid"), body)
			}
		})
	}
	t.Run("signed GET with a query string", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/sts?Action=GetCallerIdentity&Version=2011-06-15", nil)
		sum := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: devKey, SecretAccessKey: devSecret},
			req, hex.EncodeToString(sum[:]), "sts", testRegion, testNow); err != nil {
			t.Fatal(err)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<Arn>arn:aws:iam::123456789012:user/DevUser</Arn>") ||
			!strings.HasPrefix(string(b), `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`) {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
}

// TestAuthentication: the codes of §1 for keys, tokens and signatures.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	_, s := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1")
	_, other := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s2")
	tampered := []byte(s.token)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		name   string
		c      creds
		status int
		code   string
	}{
		{"unknown long-term key", creds{key: "AKIAQ3EGVUNKNOWN0001", secret: "x"}, 403, CodeInvalidClientTokenID},
		{"wrong secret", creds{key: devKey, secret: "not-the-secret"}, 403, CodeSignatureDoesNotMatch},
		{"long-term key with a session token", creds{key: devKey, secret: devSecret, token: s.token}, 403, CodeInvalidClientTokenID},
		{"session key without token", creds{key: s.key, secret: s.secret}, 403, CodeInvalidClientTokenID},
		{"session key with another session's token", creds{key: s.key, secret: s.secret, token: other.token}, 403, CodeInvalidClientTokenID},
		{"tampered token", creds{key: s.key, secret: s.secret, token: string(tampered)}, 403, CodeInvalidClientTokenID},
		{"session key with a wrong secret", creds{key: s.key, secret: "wrong", token: s.token}, 403, CodeSignatureDoesNotMatch},
		{"unknown key prefix", creds{key: "ABIAQ3EGVUNKNOWN0001", secret: "x"}, 403, CodeInvalidClientTokenID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(&tc.c, form("GetCallerIdentity"))
			wantError(t, r, tc.status, tc.code, "")
			if tc.code == CodeInvalidClientTokenID && r.message() != msgInvalidToken {
				t.Fatalf("message %q", r.message())
			}
		})
	}
	t.Run("valid session", func(t *testing.T) {
		if r := e.do(&s, form("GetCallerIdentity")); r.status != 200 {
			t.Fatalf("%s", r.body)
		}
	})
}

// TestAuditFailureIssuesNothing: when the trail cannot be written, the
// caller gets InternalFailure (500, Receiver) and no session exists.
func TestAuditFailureIssuesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	e.trail.mu.Lock()
	e.trail.Fail = errors.New("disk full")
	e.trail.mu.Unlock()
	r := e.do(&devCreds, form("AssumeRole", "RoleArn", devRoleARN, "RoleSessionName", "Dev-project", "SourceIdentity", "DevUser"))
	wantError(t, r, http.StatusInternalServerError, CodeInternalFailure, msgInternalFailure)
	if r.err.Error.Type != "Receiver" {
		t.Fatalf("Type = %q", r.err.Error.Type)
	}
	all, err := e.store.ListSTSSessions(context.Background(), storeFilterAll)
	if err != nil || len(all) != 0 {
		t.Fatalf("sessions after a failed audit write: %v, %v", all, err)
	}
	if strings.Contains(string(r.body), "disk full") {
		t.Fatal("the cause leaked to the client")
	}
	wantError(t, e.do(&devCreds, form("GetCallerIdentity")), http.StatusInternalServerError, CodeInternalFailure, "")
}

// TestSessionPolicies: Policy is validated, reported in PackedPolicySize
// and restricts what the session may do.
func TestSessionPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	long := "arn:aws:iam::123456789012:role/Long"
	short := "arn:aws:iam::123456789012:role/Short"
	t.Run("malformed", func(t *testing.T) {
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", long, "RoleSessionName", "s1", "Policy", `{"Statement":[{"Effect":"Allow"}]}`))
		wantError(t, r, 400, CodeMalformedPolicyDocument, "")
	})
	t.Run("no PackedPolicySize without policy or tags", func(t *testing.T) {
		res, _ := e.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "s1")
		if res.PackedPolicySize != nil {
			t.Fatalf("PackedPolicySize = %d", *res.PackedPolicySize)
		}
	})
	onlyLong := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + long + `"}]}`
	res, s := e.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "s1", "Policy", onlyLong)
	if res.PackedPolicySize == nil || *res.PackedPolicySize <= 0 || *res.PackedPolicySize > 100 {
		t.Fatalf("PackedPolicySize = %v", res.PackedPolicySize)
	}
	t.Run("session policy allows", func(t *testing.T) {
		e.assumeRole(s, "RoleArn", long, "RoleSessionName", "s2")
	})
	t.Run("session policy does not allow", func(t *testing.T) {
		r := e.do(&s, form("AssumeRole", "RoleArn", short, "RoleSessionName", "s2"))
		wantError(t, r, 403, CodeAccessDenied, "User: arn:aws:sts::123456789012:assumed-role/Long/s1 is not authorized to perform: sts:AssumeRole on resource: "+short)
	})
}

// TestClientIP: X-Forwarded-For is believed only from trusted proxies.
func TestClientIP(t *testing.T) {
	t.Parallel()
	svc := &Service{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct client", "203.0.113.7:5555", "198.51.100.1", "203.0.113.7"},
		{"through a trusted proxy", "10.1.2.3:5555", "198.51.100.1", "198.51.100.1"},
		{"spoofed left entry", "10.1.2.3:5555", "192.0.2.66, 198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"garbage entry stops the walk", "10.1.2.3:5555", "198.51.100.1, junk", "10.1.2.3"},
		{"IPv6 peer", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"not host:port", "pipe", "", "pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/sts", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if got := svc.clientIP(r); got != tc.want {
				t.Fatalf("clientIP = %q, want %q", got, tc.want)
			}
		})
	}
}
