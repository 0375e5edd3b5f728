package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/chromedp/chromedp"

	"idpbridge/idp/web/browsertest"
)

// TestDemoInBrowser is the newcomer's walk through the zero-config demo in
// a real browser: sign in as the first-start admin, open "builtin" on the
// portal, and land on the STS session page showing the role Developer with
// admin as source identity. The revealed credentials work with the AWS SDK
// against the served STS, and `audit lookup --source-identity admin` finds
// both the assertion and the STS call.
func TestDemoInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	serveOnce(t, c, path, func(_, stdout string) {
		if !strings.Contains(stdout, "audit lookup --source-identity admin") || !strings.Contains(stdout, `Open "Built-in STS"`) || !strings.Contains(stdout, "account 123456789012 with the role Developer") {
			t.Errorf("the banner does not explain the demo:\n%s", stdout)
		}
		m := passwordLine.FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no admin password in the banner:\n%s", stdout)
		}

		ctx := browsertest.New(t)

		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
			chromedp.SendKeys(chromedp.CSS("#password"), m[1]),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`button.app[value="builtin"]`)),
		)
		if err != nil {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("sign in and find the builtin app: %v; the page shows:\n%s", err, page)
		}
		if name, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`button.app[value="builtin"]`))); strings.TrimSpace(name) != "Built-in STS" {
			t.Errorf("the portal names the builtin app %q, want the banner's \"Built-in STS\"", name)
		}
		// One click: the portal's form POSTs the IdP-initiated request with
		// its CSRF token, the SAMLResponse is auto-submitted to /sts/saml,
		// and the session page shows.
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`button.app[value="builtin"]`)),
			chromedp.WaitVisible(chromedp.CSS("details summary")),
		)
		page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatalf("open builtin: %v; the page shows:\n%s", err, page)
		}
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		if loc != base+"/sts/saml" {
			t.Errorf("the session page is at %q, want %s/sts/saml", loc, base)
		}
		if who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who"))); strings.TrimSpace(who) != "Signed in as admin" {
			t.Errorf("the session page's header says %q, want \"Signed in as admin\"", who)
		}
		for _, want := range []string{"arn:aws:iam::123456789012:role/Developer", "arn:aws:sts::123456789012:assumed-role/Developer/admin",
			"<dt>Source identity</dt><dd><code>admin</code></dd>", `<a href="/">Back to your applications</a>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the session page lacks %q:\n%s", want, page)
			}
		}
		secret := regexp.MustCompile(`export AWS_SECRET_ACCESS_KEY=(\S+)`)
		if shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main"))); secret.MatchString(shown) {
			t.Error("the credentials are visible before the reveal")
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("details summary")), chromedp.WaitVisible(chromedp.CSS("details pre"))); err != nil {
			t.Fatalf("reveal the credentials: %v", err)
		}
		shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		key := regexp.MustCompile(`export AWS_ACCESS_KEY_ID=(ASIA\S+)`).FindStringSubmatch(shown)
		sec := secret.FindStringSubmatch(shown)
		tok := regexp.MustCompile(`export AWS_SESSION_TOKEN=(\S+)`).FindStringSubmatch(shown)
		if key == nil || sec == nil || tok == nil || !strings.Contains(shown, "[idpbridge]") || !strings.Contains(shown, "export AWS_REGION=us-east-1") {
			t.Fatalf("revealed credentials:\n%s", shown)
		}

		// The credentials are a live session of the served STS.
		client := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key[1], SecretAccessKey: sec[1], SessionToken: tok[1]}, nil
			})})
		who, err := client.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity with the page's credentials: %v", err)
		}
		if got := aws.ToString(who.Arn); got != "arn:aws:sts::123456789012:assumed-role/Developer/admin" {
			t.Errorf("caller = %q", got)
		}
	})
	out, stderr, code := c.run("", "audit", "lookup", "--source-identity", "admin", "--config", path)
	if code != 0 || !regexp.MustCompile(`(?m)AssumeRoleWithSAML\s+admin\s+admin\s+arn:aws:iam::123456789012:role/Developer\s+ok$`).MatchString(out) ||
		!strings.Contains(out, "IssueAssertion") {
		t.Errorf("audit lookup --source-identity admin = %d:\n%s%s", code, out, stderr)
	}
}
