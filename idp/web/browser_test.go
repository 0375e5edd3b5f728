package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"idpbridge/idp/web/browsertest"
)

// TestBrowserSignIn drives a real browser through the flow a person sees:
// the portal sends them to the login form, they sign in as admin and land
// on the portal listing their application, then sign out. It proves that
// a browser's own Origin, cookies and redirects pass our checks.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	s := sqliteStore(t)
	seedUsers(t, s)
	ti := newTestIdP(t, s, false)

	ctx := browsertest.New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(ti.url+"/"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatalf("open the portal: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != ti.url+"/login?next=%2F" {
		t.Fatalf("signed out, / led to %q (%v), want the login form", loc, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#password"), adminPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("a.app, section.error, .flash")),
	)
	page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	if err != nil || !strings.Contains(page, `class="app"`) {
		t.Fatalf("sign in: %v; the page shows:\n%s", err, page)
	}
	loc, _ = chromedp.Run(ctx, chromedp.Location())
	app, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("a.app")))
	if err != nil || loc != ti.url+"/" || strings.TrimSpace(app) != "AWS Console" {
		t.Fatalf("after sign-in at %q the portal lists %q (%v), want AWS Console at /", loc, app, err)
	}
	who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
	if !strings.Contains(who, "admin") {
		t.Errorf("header says %q, want the signed-in admin", who)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	var events []string
	for _, r := range ti.events.records() {
		events = append(events, r.EventName+":"+r.UserIdentity.UserName+":"+r.ErrorCode)
	}
	if strings.Join(events, ",") != "SignIn:admin:,SignOut:admin:" {
		t.Fatalf("audit events %v, want a sign-in and a sign-out by admin", events)
	}
}
