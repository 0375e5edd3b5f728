package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"idpbridge/idp"
	"idpbridge/idp/ui"
	"idpbridge/idp/web/browsertest"
	"idpbridge/templates"
)

// fakeSessions is a SessionReader with a fixed answer.
type fakeSessions struct {
	user string
	err  error
}

func (f fakeSessions) Current(*http.Request) (idp.Session, bool, error) {
	if f.err != nil || f.user == "" {
		return idp.Session{}, false, f.err
	}
	return idp.Session{Identity: idp.Identity{Username: f.user}}, true, nil
}

// signinWith is the env's endpoint with other Region and Sessions.
func (e *signinEnv) signinWith(t *testing.T, region string, sessions SessionReader) *STSSignIn {
	t.Helper()
	pages, err := ui.Load(templates.FS, "error", "sts_roles", "sts_session")
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewSTSSignIn(STSSignInOptions{STS: e.sts, Pages: pages, Secret: testSecret, BaseURL: signinBase,
		Logger: testLogger(e.logs), Now: e.h.opt.Now, Region: region, Sessions: sessions})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func postTo(h http.Handler, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, STSSignInPath, strings.NewReader(form.Encode()))
	r.RemoteAddr = "192.0.2.10:40000"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestSTSSessionPageCommands: the page's commands work as pasted: the
// exports set the STS's region, the profile has one in ~/.aws/config and
// a command uses it; the header says who is signed in and the page links
// back to the portal.
func TestSTSSessionPageCommands(t *testing.T) {
	e := newSigninEnv(t)
	h := e.signinWith(t, "eu-west-1", fakeSessions{user: "saanvi"})
	w := postTo(h, url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}})}})
	if w.Code != http.StatusOK {
		t.Fatalf("status %d:\n%s", w.Code, page(w))
	}
	sessionCreds(t, w)
	body := page(w)
	for _, want := range []string{
		"\nexport AWS_REGION=eu-west-1</pre>",
		"<pre>[profile idpbridge]\nregion = eu-west-1</pre>",
		"aws sts get-caller-identity --endpoint-url https://idp.example.com/sts/</pre>",
		"aws sts get-caller-identity --profile idpbridge --endpoint-url https://idp.example.com/sts/</pre>",
		`<span class="who">Signed in as <strong>saanvi</strong></span>`,
		`<a href="/">Back to your applications</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("session page lacks %q:\n%s", want, body)
		}
	}

	// The chooser says who is signed in too.
	w = postTo(h, url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole), pair(signinOpsRole)}})}})
	if w.Code != http.StatusOK || !strings.Contains(page(w), "Signed in as <strong>saanvi</strong>") {
		t.Errorf("chooser: status %d, no header naming saanvi:\n%s", w.Code, page(w))
	}

	// Without an IdP session (or when it cannot be read) nobody is named;
	// the default region is us-east-1.
	for name, s := range map[string]SessionReader{"none": nil, "signed out": fakeSessions{},
		"unreadable": fakeSessions{err: errors.New("database down")}} {
		h := e.signinWith(t, "", s)
		w := postTo(h, url.Values{"SAMLResponse": {signinResponse(t, signinSpec{Roles: []string{pair(signinDevRole)}})}})
		body := page(w)
		if w.Code != http.StatusOK || strings.Contains(body, "Signed in as") || !strings.Contains(body, "export AWS_REGION=us-east-1") {
			t.Errorf("%s: status %d:\n%s", name, w.Code, body)
		}
	}
	if !strings.Contains(e.logs.String(), "read the IdP session") {
		t.Errorf("an unreadable session is not logged:\n%s", e.logs.String())
	}
}

// TestBrowserSTSSessionPageFits renders the session page with real-sized
// credentials in a browser, on a desktop and a phone width, and checks
// that no command, code or credential runs past the card or needs a
// scroll bar.
func TestBrowserSTSSessionPageFits(t *testing.T) {
	pages, err := ui.Load(templates.FS, "error", "sts_roles", "sts_session")
	if err != nil {
		t.Fatal(err)
	}
	data := stsSessionPage{
		User:            "saanvi",
		RoleARN:         "arn:aws:iam::123456789012:role/platform/engineering/Developer-With-A-Long-Name",
		RoleName:        "Developer-With-A-Long-Name",
		AssumedRoleARN:  "arn:aws:sts::123456789012:assumed-role/Developer-With-A-Long-Name/saanvi.ramanathan@example.com",
		SourceIdentity:  "saanvi.ramanathan@example.com",
		SessionName:     "saanvi.ramanathan@example.com",
		Expiration:      "2026-03-01T13:00:00Z",
		ExpiresIn:       "in 1 hour",
		RequestID:       "0d2f6b1e-6c2a-4f0e-9a57-3c1f1d1a9b7e",
		AccessKeyID:     "ASIAQWERTYUIOPASDFGH",
		SecretAccessKey: strings.Repeat("wJalrXUtnFEMIK7MDENGbPxRfiCY", 2)[:40],
		SessionToken:    strings.Repeat("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ", 12),
		Profile:         STSSignInProfile,
		Endpoint:        "https://idp.example.com:8443/sts/",
		Region:          "ap-southeast-2",
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static", pages.Static()))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if err := pages.Render(w, http.StatusOK, "sts_session", data); err != nil {
			t.Error(err)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browsertest.New(t)
	// Every pre, code and the card's own box: what sticks out of the card,
	// and what scrolls inside it.
	const check = `(() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const card = document.querySelector('section.card').getBoundingClientRect();
  const out = [];
  document.querySelectorAll('section.card pre, section.card code').forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.right > card.right + 0.5) out.push(el.tagName + ' runs ' + Math.round(r.right - card.right) + 'px past the card: ' + el.textContent.slice(0, 60));
    if (el.tagName === 'PRE' && el.scrollWidth > el.clientWidth + 1) out.push('PRE scrolls sideways: ' + el.textContent.slice(0, 60));
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('the page scrolls sideways');
  return out;
})()`
	for _, width := range []int64{1280, 390} {
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(chromedp.CSS("#example-profile-command")),
		)
		if err != nil {
			t.Fatalf("open the page at width %d: %v", width, err)
		}
		bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](check))
		if err != nil {
			t.Fatalf("measure at width %d: %v", width, err)
		}
		for _, b := range bad {
			t.Errorf("width %d: %s", width, b)
		}
	}
}
