package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"idpbridge/idp/sts"
)

// TestServeRedirectsToBaseURL: with the default pair listen 127.0.0.1:P and
// base_url http://localhost:P, a browser that opens http://127.0.0.1:P is
// sent to localhost before it gets a cookie, and signs in there; the
// banner names the URL to open; probes answer on the listen address.
func TestServeRedirectsToBaseURL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	base := "http://localhost:" + port
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	serveOnce(t, c, path, func(listen, stdout string) {
		if !strings.Contains(stdout, "Open "+base+" (server.base_url)") {
			t.Errorf("the banner does not name the URL to open:\n%s", stdout)
		}
		m := passwordLine.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no admin password in the banner:\n%s", stdout)
		}
		direct := newWebClient(t, "http://"+addr)
		code, body, loc := direct.form("GET", "/login?next=%2F", nil)
		if code != http.StatusFound || loc != base+"/login?next=%2F" {
			t.Fatalf("GET http://%s/login = %d %q, want 302 to %s/login?next=%%2F:\n%s", addr, code, loc, base, body)
		}
		u, _ := url.Parse("http://" + addr)
		if cookies := direct.client.Jar.Cookies(u); len(cookies) > 0 {
			t.Errorf("the redirect set cookies on %s: %v", addr, cookies)
		}
		for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
			if code, body := get(t, "http://"+addr+p); code != 200 {
				t.Errorf("%s on the listen address = %d %s", p, code, body)
			}
		}
		// The STS API answers on the listen address: an SDK pointed at
		// it gets the STS's own refusal of a bad assertion, not a redirect.
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr + "/sts/"), RetryMaxAttempts: 1})
		_, err := client.AssumeRoleWithSAML(context.Background(), &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(sts.DemoRoleARN), PrincipalArn: aws.String(sts.DemoProviderARN), SAMLAssertion: aws.String("bm90IFNBTUw="),
		})
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() == "" {
			t.Errorf("AssumeRoleWithSAML on the listen address: %v, want an STS error", err)
		}
		// Where the redirect leads, sign-in works.
		b := newWebClient(t, base)
		b.signIn("admin", m[1])
		if code, body, _ := b.form("GET", "/", nil); code != 200 || !strings.Contains(body, "<strong>admin</strong>") {
			t.Fatalf("portal on %s = %d:\n%s", base, code, body)
		}
	})
}
