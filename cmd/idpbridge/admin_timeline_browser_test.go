package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/chromedp/chromedp"

	"idpbridge/idp/web/browsertest"
)

// timelineConfig: diego's sAMAccountName, lowercased, is his source
// identity; his group gives him Developer through the "builtin" app, and
// Developer may chain to Chain.
const timelineConfig = `
mappings:
  - name: aws-default
    source_identity: {from: sAMAccountName, transforms: [lowercase], required: true}
    role_session_name: {from: mail}
    roles:
      - group: '^AWS-(\d{12})-(.+)$'
        role_arn: 'arn:aws:iam::$1:role/$2'
        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
service_providers:
  - {name: builtin, preset: builtin, mapping: aws-default, display_name: Built-in STS}
sts:
  demo: off
  accounts:
    - id: "123456789012"
      saml_providers:
        - {name: idpbridge, metadata: self}
      roles:
        - name: Developer
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:saml-provider/idpbridge"}
                Action: [sts:AssumeRoleWithSAML, sts:SetSourceIdentity, sts:TagSession]
          policies:
            - {name: chain, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [sts:AssumeRole, sts:SetSourceIdentity], Resource: "arn:aws:iam::123456789012:role/Chain"}]}}
        - name: Chain
          trust_policy:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Principal: {AWS: "123456789012"}, Action: [sts:AssumeRole, sts:SetSourceIdentity]}
`

// TestAdminTimelineInBrowser is browser flow 2 of the console: diego signs
// in, gets an assertion, redeems it with AssumeRoleWithSAML and chains
// with AssumeRole (the AWS SDK against the served STS); an administrator
// opens diego.ramirez's timeline in a real browser and sees one tree,
// sign-in > assertion > AssumeRoleWithSAML > chained AssumeRole, then
// revokes all of his sessions, after which his credentials are refused.
func TestAdminTimelineInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, timelineConfig))
	addUsers(t, c, path, "correct-horse-battery",
		[]string{"admin", "--group", "idpbridge-admins"},
		[]string{"diego", "--attr", "sAMAccountName=Diego.Ramirez", "--attr", "mail=diego@example.com", "--group", "AWS-123456789012-Developer"})
	const (
		developer = "arn:aws:iam::123456789012:role/Developer"
		chain     = "arn:aws:iam::123456789012:role/Chain"
		provider  = "arn:aws:iam::123456789012:saml-provider/idpbridge"
	)
	serveOnce(t, c, path, func(_, _ string) {
		ctx := context.Background()
		// diego: sign-in and assertion, AssumeRoleWithSAML, chained AssumeRole.
		w := newWebClient(t, base)
		_, assertion := w.openApp("builtin", "diego", "correct-horse-battery", developer)
		client := func(cr *awssts.AssumeRoleOutput, saml *awssts.AssumeRoleWithSAMLOutput) *awssts.Client {
			opt := awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(base + "/sts/"), RetryMaxAttempts: 1}
			var k, s, tok string
			switch {
			case cr != nil:
				k, s, tok = aws.ToString(cr.Credentials.AccessKeyId), aws.ToString(cr.Credentials.SecretAccessKey), aws.ToString(cr.Credentials.SessionToken)
			case saml != nil:
				k, s, tok = aws.ToString(saml.Credentials.AccessKeyId), aws.ToString(saml.Credentials.SecretAccessKey), aws.ToString(saml.Credentials.SessionToken)
			}
			if k != "" {
				opt.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
					return aws.Credentials{AccessKeyID: k, SecretAccessKey: s, SessionToken: tok}, nil
				})
			}
			return awssts.New(opt)
		}
		samlOut, err := client(nil, nil).AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
			RoleArn: aws.String(developer), PrincipalArn: aws.String(provider), SAMLAssertion: aws.String(assertion)})
		if err != nil {
			t.Fatalf("AssumeRoleWithSAML: %v", err)
		}
		if si := aws.ToString(samlOut.SourceIdentity); si != "diego.ramirez" {
			t.Fatalf("source identity %q, want diego.ramirez", si)
		}
		chained, err := client(nil, samlOut).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(chain), RoleSessionName: aws.String("chained")})
		if err != nil {
			t.Fatalf("chained AssumeRole: %v", err)
		}
		if _, err := client(chained, nil).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity with the chained session: %v", err)
		}
		samlKey, chainedKey := aws.ToString(samlOut.Credentials.AccessKeyId), aws.ToString(chained.Credentials.AccessKeyId)

		// The administrator, in a browser.
		bctx := browsertest.New(t)
		err = chromedp.Do(bctx,
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct-horse-battery"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`a.admin-link`)),
			chromedp.Navigate(base+"/admin/audit/timeline?source-identity=diego.ramirez"),
			chromedp.WaitVisible(chromedp.CSS(`li.tl-signin`)),
		)
		if err != nil {
			page, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("open diego's timeline: %v; the page shows:\n%s", err, page)
		}
		// One tree: the chained session under the SAML session, under the
		// assertion, under the sign-in; the chained session's call under it.
		tree := `li.tl-signin li.tl-assertion[data-event="IssueAssertion"] li[data-event="AssumeRoleWithSAML"][data-key="` + samlKey + `"]` +
			` li[data-event="AssumeRole"][data-key="` + chainedKey + `"]`
		for _, sel := range []string{tree, tree + ` li[data-event="GetCallerIdentity"]`} {
			found, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector('`+sel+`') !== null`))
			if err != nil || !found {
				page, _ := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("main")))
				t.Fatalf("the timeline has no %s (%v):\n%s", sel, err, page)
			}
		}
		if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('.tl-state-live').length`)); err != nil || n != 2 {
			t.Errorf("%d live sessions shown (%v), want 2", n, err)
		}
		browsertest.Screenshot(t, bctx, "timeline")

		err = chromedp.Do(bctx,
			chromedp.Click(chromedp.CSS(`#revoke-all`)),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		)
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
		notice, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(`p.notice`)))
		if !strings.Contains(notice, "Revoked 2 live session(s) carrying source identity diego.ramirez.") {
			t.Errorf("notice after the revoke: %q", notice)
		}
		if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('.tl-state-revoked').length`)); err != nil || n != 2 {
			t.Errorf("%d revoked sessions shown (%v), want 2", n, err)
		}
		browsertest.Screenshot(t, bctx, "revoked")

		for name, cl := range map[string]*awssts.Client{"SAML session": client(nil, samlOut), "chained session": client(chained, nil)} {
			_, err := cl.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != "InvalidClientTokenId" {
				t.Errorf("diego's %s after the revoke: %v, want InvalidClientTokenId", name, err)
			}
		}
	})
	out, stderr, code := c.run("", "audit", "lookup", "--event", "AdminSessionsRevoked", "--config", path)
	if code != 0 || !strings.Contains(out, "local:admin") {
		t.Errorf("the revoke is not in the trail as the admin's: %d\n%s%s", code, out, stderr)
	}
}
