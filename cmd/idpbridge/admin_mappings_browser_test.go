package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"idpbridge/idp/web/browsertest"
)

// mappingsBrowserConfig has the mapping "aws" (source identity: the
// username) on the AWS sign-in service provider.
const mappingsBrowserConfig = `
mappings:
  - name: aws
    source_identity: {from: username, required: true}
    role_session_name: {from: username}
    session_duration: 3600
    roles:
      - {role_arn: 'arn:aws:iam::123456789012:role/Developer', provider_arn: 'arn:aws:iam::123456789012:saml-provider/idpbridge'}
service_providers:
  - {name: aws, preset: aws, mapping: aws}
`

var sourceIdentityAttr = regexp.MustCompile(`Name="https://aws.amazon.com/SAML/Attributes/SourceIdentity"[^>]*>\s*<saml:AttributeValue[^>]*>([^<]*)<`)

// assertedSourceIdentity signs diego in to the AWS app and returns the
// SourceIdentity attribute of the assertion his browser would post.
func assertedSourceIdentity(t *testing.T, base, password string) string {
	t.Helper()
	diego := newWebClient(t, base)
	_, resp := diego.openApp("aws", "diego", password, "")
	xml, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		t.Fatalf("SAMLResponse: %v", err)
	}
	m := sourceIdentityAttr.FindStringSubmatch(string(xml))
	if m == nil {
		t.Fatalf("no SourceIdentity attribute in the assertion:\n%s", xml)
	}
	return m[1]
}

// noticeSays waits until the page's notice line (the result of the last
// action, on the page the action led to) contains text.
func noticeSays(text string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](fmt.Sprintf(`(function(){var n=document.querySelector("p.notice");return !!n&&n.textContent.indexOf(%q)>=0;})()`, text))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			// A poll begun on the page being left ends with the
			// navigation; poll again on the new page.
			_, err := poll(ctx, t)
			if err == nil || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
		}
	}
}

// TestAdminMappingsInBrowser is the browser flow 1: an admin
// copies the config file's AWS mapping to the console, changes its source
// identity from username to mail with strip_domain, sees the live preview
// for diego (diego.ramirez), and saves. Diego's next sign-in carries
// diego.ramirez; the trail shows the change and the sign-in; a rollback
// restores the username.
func TestAdminMappingsInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n%s", addr, base, mappingsBrowserConfig))
	const password = "correct-horse-battery"
	addUsers(t, c, path, password, []string{"root", "--group", "idpbridge-admins"}, []string{"diego", "--attr", "mail=diego.ramirez@example.com"})
	serveOnce(t, c, path, func(base, _ string) {
		if got := assertedSourceIdentity(t, base, password); got != "diego" {
			t.Fatalf("before the change diego's source identity is %q, want diego", got)
		}
		ctx := browsertest.New(t)
		page := func() string {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			return html
		}
		fail := func(step string, err error) {
			t.Helper()
			t.Fatalf("%s: %v; the page shows:\n%s", step, err, page())
		}

		// The list: the config file's mapping, with its file and line.
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/admin/mappings"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "root"),
			chromedp.SendKeys(chromedp.CSS("#password"), password),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`table.admin a[href="/admin/mappings/aws"]`)),
		)
		if err != nil {
			fail("sign in and open the mapping list", err)
		}
		if list := page(); !strings.Contains(list, path+":") || !strings.Contains(list, "<td>aws</td>") {
			t.Errorf("the list does not show the config file's aws mapping at %s:<line>, used by aws:\n%s", path, list)
		}

		// The editor: read-only until copied to the console.
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`table.admin a[href="/admin/mappings/aws"]`)),
			chromedp.WaitVisible(chromedp.CSS("#copy-to-console")),
			chromedp.Click(chromedp.CSS("#copy-to-console")),
			chromedp.WaitVisible(chromedp.CSS("#si-from")),
		)
		if err != nil {
			fail("copy the mapping to the console", err)
		}
		if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#si-from"))); v != "username" {
			t.Errorf("the source identity field shows %q, want username", v)
		}

		// Change the source identity and watch the live preview.
		err = chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#si-from").value = ""`),
			chromedp.SendKeys(chromedp.CSS("#si-from"), "mail"),
			chromedp.SendKeys(chromedp.CSS("#si-transforms"), "strip_domain"),
			chromedp.SendKeys(chromedp.CSS("#preview-user"), "diego"),
		)
		if err != nil {
			fail("edit the source identity", err)
		}
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function(){var p=document.querySelector("#preview");return !!p&&p.textContent.indexOf("SourceIdentity")>=0&&p.textContent.indexOf("diego.ramirez")>=0;})()`)); err != nil {
			fail("the live preview never showed diego.ramirez", err)
		}
		body, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#mapping-body")))
		if !strings.Contains(body, "source_identity: {from: mail, transforms: [strip_domain], required: true}") {
			t.Errorf("the YAML does not follow the fields:\n%s", body)
		}
		browsertest.Screenshot(t, ctx, "preview")

		// The notice of the page the save lands on names the new version.
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#save-button")), noticeSays("Saved aws as version 2"))
		if err != nil {
			fail("save (no notice \"Saved aws as version 2\")", err)
		}
		browsertest.Screenshot(t, ctx, "saved")

		// Diego's next sign-in carries the new source identity.
		if got := assertedSourceIdentity(t, base, password); got != "diego.ramirez" {
			t.Fatalf("after the save diego's source identity is %q, want diego.ramirez", got)
		}

		// The trail shows the change and the sign-in.
		admin := newWebClient(t, base)
		admin.signIn("root", password)
		status, events := admin.do("GET", "/admin/api/events?event=AdminMappingUpdated", "", "", "")
		if status != 200 || !strings.Contains(events, `"target":"aws"`) || !strings.Contains(events, `strip_domain`) {
			t.Errorf("the trail's AdminMappingUpdated events = %d %s", status, events)
		}
		status, events = admin.do("GET", "/admin/api/events?source-identity="+url.QueryEscape("diego.ramirez"), "", "", "")
		if status != 200 || !strings.Contains(events, `"eventName":"IssueAssertion"`) {
			t.Errorf("the trail has no assertion for diego.ramirez: %d %s", status, events)
		}

		// Roll back to version 1, the copy of the config file's mapping.
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`#versions form input[name="version"][value="1"] ~ button`)),
			noticeSays("Rolled aws back to version 1, saved as version 3"),
			chromedp.WaitVisible(chromedp.CSS("#si-from")),
		)
		if err != nil {
			fail("roll back (no notice \"Rolled aws back to version 1, saved as version 3\")", err)
		}
		if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#si-from"))); v != "username" {
			t.Errorf("after the rollback the source identity field shows %q, want username", v)
		}
		browsertest.Screenshot(t, ctx, "rolled-back")
		if got := assertedSourceIdentity(t, base, password); got != "diego" {
			t.Fatalf("after the rollback diego's source identity is %q, want diego", got)
		}
		status, events = admin.do("GET", "/admin/api/events?event=AdminMappingRolledBack", "", "", "")
		if status != 200 || !strings.Contains(events, `"target":"aws"`) {
			t.Errorf("the trail's AdminMappingRolledBack events = %d %s", status, events)
		}
	})
}
