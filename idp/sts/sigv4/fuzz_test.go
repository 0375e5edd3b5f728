package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary methods, query strings, hosts, Authorization and
// X-Amz-Date values, one extra header and a body to Parse and, when it
// succeeds, to Verify. Neither may panic; every error must be an *Error with
// a status; a parsed request must have host among its signed headers.
func FuzzParse(f *testing.F) {
	sr := sdkSign(f, "POST", stsURL, formBody, testToken, "sts", "us-east-1", signedAt)
	f.Add("POST", "", "sts.example.com", sr.r.Header.Get("Authorization"), sr.r.Header.Get("X-Amz-Date"),
		"X-Amz-Security-Token", testToken, []byte(formBody))
	ps := sdkPresign(f, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", testToken, time.Minute, signedAt)
	f.Add("GET", ps.r.URL.RawQuery, "sts.example.com", "", "", "", "", []byte(nil))

	f.Fuzz(func(t *testing.T, method, rawQuery, host, authz, amzDate, hdrName, hdrValue string, body []byte) {
		r := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: "/sts/", RawQuery: rawQuery},
			Host:          host,
			Header:        http.Header{},
			ContentLength: int64(len(body)),
		}
		if authz != "" {
			r.Header["Authorization"] = strings.Split(authz, "\n")
		}
		if amzDate != "" {
			r.Header["X-Amz-Date"] = []string{amzDate}
		}
		if hdrName != "" {
			r.Header[hdrName] = []string{hdrValue}
		}
		s, err := Parse(r, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code == "" || e.Message == "" || (e.Status != 400 && e.Status != 403) {
				t.Fatalf("Parse error %#v is not a complete *Error", err)
			}
			return
		}
		hasHost := false
		for _, h := range s.SignedHeaders {
			hasHost = hasHost || h == "host"
		}
		if !hasHost || s.AccessKeyID == "" {
			t.Fatalf("Parse accepted %+v", s)
		}
		if err := s.Verify(testSecret, signedAt); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeSignatureDoesNotMatch || e.Status != 403 {
				t.Fatalf("Verify error %#v", err)
			}
		}
	})
}
