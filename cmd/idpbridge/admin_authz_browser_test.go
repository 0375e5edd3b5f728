package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"idpbridge/idp/web"
	"idpbridge/idp/web/browsertest"
)

// TestAdminAuthzInBrowser is browser flow 4 of the console: in a real
// browser, an anonymous visitor of /admin/ lands on the login page and
// gets 401 from every /admin/api/ route; a signed-in person outside
// idpbridge-admins gets the 403 page on /admin/ and on every console page
// route, and 403 with the JSON error body from every /admin/api/ route.
// The routes come from the server's own table, so that a new one cannot
// skip the guard. The 403 page is saved as a screenshot.
func TestAdminAuthzInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	addUsers(t, c, path, "correct-horse-battery", []string{"alice"})
	serveMain(t, c, path, func(m *Main, base string) {
		var pages, apis []string
		for _, r := range m.server.Routes() {
			method, p, ok := strings.Cut(r, " ")
			switch {
			case r == web.AdminAPIFallback:
				apis = append(apis, "GET "+r+"no-such-route")
			case !ok && strings.HasPrefix(r, "/admin/"):
				pages = append(pages, r+"no-such-page")
			case !ok:
			case strings.HasPrefix(p, "/admin/api/"):
				apis = append(apis, method+" "+concretePath(p))
			case method == http.MethodGet && (p == "/admin" || strings.HasPrefix(p, "/admin/")):
				pages = append(pages, concretePath(p))
			}
		}
		if len(pages) < 4 || len(apis) < 4 {
			t.Fatalf("too few console routes: pages %v, API %v", pages, apis)
		}
		ctx := browsertest.New(t)

		// Anonymous: the login page, with the console as where to go next.
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#username"))); err != nil {
			t.Fatalf("anonymous /admin/: %v", err)
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/login?next="+url.QueryEscape("/admin/") {
			t.Errorf("anonymous /admin/ ends at %s, want the login page", loc)
		}
		for _, route := range apis {
			if status, code := browserFetch(t, ctx, route); status != http.StatusUnauthorized || code != "unauthorized" {
				t.Errorf("anonymous %s: %d %q, want 401 unauthorized", route, status, code)
			}
		}

		// A signed-in non-administrator.
		err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct-horse-battery"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("section.error h1")),
		)
		if err != nil {
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("sign in as alice and come back to /admin/: %v\n%s", err, page)
		}
		browsertest.Screenshot(t, ctx, "403")
		for _, p := range pages {
			resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+p))
			if err != nil {
				t.Errorf("GET %s: %v", p, err)
				continue
			}
			h1, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
			text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".who")))
			if resp.Status != http.StatusForbidden || h1 != "Forbidden" || !strings.Contains(text, "Only administrators may do this.") || !strings.Contains(who, "alice") {
				t.Errorf("non-admin GET %s: %d %q %q %q; want the 403 page", p, resp.Status, h1, text, who)
			}
			if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('a[href^="/admin"]').length`)); n != 0 {
				t.Errorf("the 403 page of %s links the console", p)
			}
		}
		for _, route := range apis {
			if status, code := browserFetch(t, ctx, route); status != http.StatusForbidden || code != "forbidden" {
				t.Errorf("non-admin %s: %d %q, want 403 forbidden", route, status, code)
			}
		}
	})
}

// concretePath fills a route's wildcards.
func concretePath(p string) string {
	return pathWildcard.ReplaceAllString(strings.ReplaceAll(p, "{$}", ""), "x")
}

// browserFetch sends route ("METHOD /path") from the page with the
// browser's cookies, as a script of the site would, and returns the
// status and the JSON error body's code.
func browserFetch(t *testing.T, ctx context.Context, route string) (int, string) {
	t.Helper()
	method, p, _ := strings.Cut(route, " ")
	init := map[string]any{"method": method, "credentials": "same-origin"}
	if method != http.MethodGet && method != http.MethodHead {
		init["headers"] = map[string]string{"Content-Type": "application/json"}
		init["body"] = "{}"
	}
	js, _ := json.Marshal(init)
	pj, _ := json.Marshal(p)
	script := `fetch(` + string(pj) + `, ` + string(js) + `).then(async r => { let code = ""; try { code = (await r.json()).error.code } catch (e) {} return {status: r.status, code} })`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
		Status int    `json:"status"`
		Code   string `json:"code"`
	}](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Errorf("fetch %s: %v", route, err)
		return 0, ""
	}
	return res.Status, res.Code
}

// TestAdminConsoleInBrowser: an administrator opens /admin/, signs in and
// lands on the console's home page; from the nav, adds a person on the
// People page (the notice confirms it), and finds their session on the
// Sessions page. Each page is saved as a screenshot.
func TestAdminConsoleInBrowser(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	addr := freeAddr(t)
	base := "http://" + addr
	path := writeRawConfig(t, fmt.Sprintf("server:\n  listen: %s\n  base_url: %s\nlog: {level: warn}\n", addr, base))
	addUsers(t, c, path, "correct-horse-battery", []string{"root", "--group", "idpbridge-admins"})
	serveMain(t, c, path, func(m *Main, base string) {
		ctx := browsertest.New(t)
		fail := func(step string, err error) {
			t.Helper()
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\n%s", step, err, page)
		}
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/admin/"),
			chromedp.WaitVisible(chromedp.CSS("#username")),
			chromedp.SendKeys(chromedp.CSS("#username"), "root"),
			chromedp.SendKeys(chromedp.CSS("#password"), "correct-horse-battery"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(".admin-stats")),
		)
		if err != nil {
			fail("sign in to /admin/", err)
		}
		if link, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("header .admin-link"))); link != "Admin" {
			t.Errorf("the header's admin link says %q", link)
		}
		browsertest.Screenshot(t, ctx, "home")

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`.adminnav a[href="/admin/people"]`)),
			chromedp.WaitVisible(chromedp.CSS("#add")),
			chromedp.SendKeys(chromedp.CSS("#username"), "diego"),
			chromedp.SendKeys(chromedp.CSS("#password"), "diego-password-1"),
			chromedp.SendKeys(chromedp.CSS("#password2"), "diego-password-1"),
			chromedp.SendKeys(chromedp.CSS("#groups"), "AWS-Dev"),
			chromedp.SendKeys(chromedp.CSS("#attributes"), "mail=diego.ramirez@example.com"),
			chromedp.Submit(chromedp.CSS("#attributes")),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		)
		if err != nil {
			fail("add diego", err)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".notice"))); n != "Added diego." {
			t.Errorf("notice %q", n)
		}
		if cur, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.adminnav a[aria-current="page"]`))); cur != "People" {
			t.Errorf("the nav marks %q current on a person's page", cur)
		}
		browsertest.Screenshot(t, ctx, "person")

		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`.adminnav a[href="/admin/sessions"]`)),
			chromedp.WaitVisible(chromedp.CSS("h1")),
		)
		if err != nil {
			fail("open sessions", err)
		}
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if !strings.Contains(text, "Browser sessions") || !strings.Contains(text, "root") || !strings.Contains(text, "STS sessions") {
			t.Errorf("the sessions page shows:\n%s", text)
		}
		browsertest.Screenshot(t, ctx, "sessions")
	})
}
