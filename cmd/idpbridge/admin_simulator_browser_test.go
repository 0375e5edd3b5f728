package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"idpbridge/idp/web/browsertest"
)

// adminSimulatorSTS is a role whose trust policy admits only assertions
// made for AWS sign-in: an assertion for idpbridge's own STS sign-in
// (<base_url>/sts/saml) is denied by its SAML:aud condition.
const adminSimulatorSTS = `
sts:
  accounts:
    - id: "123456789012"
      saml_providers:
        - {name: idpbridge, metadata: self}
      roles:
        - name: Developer
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Sid: SignIn
                Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/idpbridge"}
                Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity]
                Condition:
                  StringEquals: {SAML:aud: "https://signin.aws.amazon.com/saml"}
                  StringLike: {sts:SourceIdentity: "?*"}
`

// TestAdminSimulatorInBrowser is browser flow 3 of the console: an
// administrator opens a role's trust policy in the STS directory (the
// editor checks it as it is typed), takes it to the policy simulator,
// adds the request's SAML:aud, and reads which condition denied it.
func TestAdminSimulatorInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, adminSimulatorSTS))
	addUsers(t, c, path, "correct-horse-battery", []string{"root", "--group", "idpbridge-admins"})
	serveMain(t, c, path, func(_ *Main, base string) {
		ctx := browsertest.New(t)
		page := func() string {
			s, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			return s
		}
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login?next=/admin/sts"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "root"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct-horse-battery"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/admin/sts/roles/123456789012/Developer"]`)),
			chromedp.Click(chromedp.CSS(`a[href="/admin/sts/roles/123456789012/Developer"]`)),
			chromedp.WaitVisible(chromedp.CSS("#policy-trust")),
			// policyeditor.js checks the configured policy on load.
			chromedp.Poll[chromedp.Void](`document.querySelector("#policy-trust-status").textContent === "Valid policy."`),
		)
		if err != nil {
			t.Fatalf("open the role's trust policy: %v; the page shows:\n%s", err, page())
		}
		shot(t, ctx, "trust-policy-editor")
		// A typing mistake is named with its line as it is typed.
		err = chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#policy-trust"), "}"),
			chromedp.Poll[chromedp.Void](`document.querySelector("#policy-trust-status").textContent.startsWith("Line ")`),
		)
		if err != nil {
			t.Fatalf("the editor does not flag a broken document: %v; the page shows:\n%s", err, page())
		}
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#policy-trust-status")))
		if !strings.Contains(status, "invalid JSON") {
			t.Errorf("the editor says %q for a trailing brace", status)
		}
		// Back to the configured text, then to the simulator with it.
		err = chromedp.Do(ctx,
			chromedp.Navigate(base+"/admin/sts/roles/123456789012/Developer"),
			chromedp.WaitVisible(chromedp.CSS("#policy-trust")),
			chromedp.Click(chromedp.CSS(`#policy-trust ~ button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#sim-context")),
			chromedp.SendKeys(chromedp.CSS("#sim-context"), "SAML:aud="+base+"/sts/saml\nsts:SourceIdentity=diego.ramirez"),
			chromedp.Click(chromedp.CSS(`form.simulator button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#sim-decision")),
		)
		if err != nil {
			t.Fatalf("simulate the trust policy: %v; the page shows:\n%s", err, page())
		}
		if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(".sim-result"))); err != nil {
			t.Fatalf("scroll to the explanation: %v", err)
		}
		shot(t, ctx, "simulator-explanation")
		result, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".sim-result")))
		for _, want := range []string{
			"Denied implicitly (no statement allows the request)",
			`statement #0 (SignIn) Allow does not apply: condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" is not met`,
			`condition StringEquals SAML:aud is not met: request value "` + base + `/sts/saml" is not "https://signin.aws.amazon.com/saml"`,
			`condition StringLike sts:SourceIdentity is met: request value "diego.ramirez" matches "?*"`,
		} {
			if !strings.Contains(result, want) {
				t.Errorf("the simulator's explanation lacks %q:\n%s", want, result)
			}
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/admin/simulator" {
			t.Errorf("the result is at %s", loc)
		}
	})
}

// shot is browsertest.Screenshot bounded in time: a capture that chromium
// does not answer (seen on a loaded machine) fails the test instead of
// holding it until the test binary's deadline.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	browsertest.Screenshot(t, ctx, name)
}
