package ui

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"idpbridge/templates"
)

func TestEmbeddedPagesLoad(t *testing.T) {
	t.Parallel()
	p, err := Load(templates.FS, "error")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := p.Error(rec, 400, ErrorPage{Title: "Cannot sign you in", Message: "<script>alert(1)</script>"}); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Code != 400 || !strings.Contains(body, "Cannot sign you in") || strings.Contains(body, "<script>alert") {
		t.Fatalf("error page %d:\n%s", rec.Code, body)
	}
	if rec.Header().Get("Referrer-Policy") != "same-origin" {
		t.Errorf("Referrer-Policy = %q, want same-origin", rec.Header().Get("Referrer-Policy"))
	}
	if rec.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatal("missing framing protection headers")
	}
	rec = httptest.NewRecorder()
	p.Static().ServeHTTP(rec, httptest.NewRequest("GET", "/style.css", nil))
	if rec.Code != 200 {
		t.Fatalf("static style.css = %d", rec.Code)
	}
}

func TestMissingRequiredPage(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"layout.html": {Data: []byte(`{{define "layout"}}x{{end}}`)}}
	if _, err := Load(fsys, "login"); err == nil || !strings.Contains(err.Error(), "login.html") {
		t.Fatalf("Load = %v, want an error naming login.html", err)
	}
}

func TestRenderErrorLeavesNoHalfPage(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"layout.html": {Data: []byte(`{{define "layout"}}<p>start</p>{{template "content" .}}{{end}}`)},
		"bad.html":    {Data: []byte(`{{define "content"}}{{.Missing.Field}}{{end}}`)},
	}
	p, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := p.Render(rec, 200, "bad", struct{ Missing *struct{ Field string } }{}); err == nil {
		t.Fatal("no error from a failing template")
	}
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "start") {
		t.Fatalf("half page written: %d %q", rec.Code, rec.Body.String())
	}
}

// TestIsAdmin: the header's Admin link follows an IsAdmin method or an
// Admin field of the page's data, and nothing else.
func TestIsAdmin(t *testing.T) {
	t.Parallel()
	type field struct{ Admin bool }
	type notBool struct{ Admin string }
	for _, tc := range []struct {
		data any
		want bool
	}{
		{field{Admin: true}, true},
		{&field{Admin: true}, true},
		{field{}, false},
		{(*field)(nil), false},
		{notBool{Admin: "yes"}, false},
		{ErrorPage{User: "alice"}, false},
		{adminMethod(true), true},
		{adminMethod(false), false},
		{nil, false},
		{"admin", false},
	} {
		if got := isAdmin(tc.data); got != tc.want {
			t.Errorf("isAdmin(%#v) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

type adminMethod bool

func (a adminMethod) IsAdmin() bool { return bool(a) }
