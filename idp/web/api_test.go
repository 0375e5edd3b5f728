package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"idpbridge/idp"
)

// TestAPIError: every idp.Error code has its status and the one body
// {"error": {"code", "message"}}; anything else is a 500 "internal error"
// whose detail goes to the log only; a body over the limit is 413.
func TestAPIError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err           error
		status        int
		code, message string
	}{
		{idp.Errorf(idp.EInvalid, "limit must be from 1 to 1000"), 400, "invalid", "limit must be from 1 to 1000"},
		{idp.Errorf(idp.ENotFound, "no user %q", "carol"), 404, "not_found", `no user "carol"`},
		{idp.Errorf(idp.EConflict, "c"), 409, "conflict", "c"},
		{idp.Errorf(idp.EUnauthorized, "u"), 401, "unauthorized", "u"},
		{idp.Errorf(idp.EForbidden, "f"), 403, "forbidden", "f"},
		{idp.Errorf(idp.ETooMany, "t"), 429, "too_many", "t"},
		{idp.Errorf(idp.EUnavailable, "a"), 503, "unavailable", "a"},
		{idp.Errorf(idp.ETooLarge, "l"), 413, "too_large", "l"},
		{idp.Errorf(idp.EUnsupportedMedia, "m"), 415, "unsupported_media_type", "m"},
		{fmt.Errorf("wrapped: %w", idp.Errorf(idp.ENotFound, "gone")), 404, "not_found", "gone"},
		{errors.New("dial tcp 10.0.0.5:5432: password=hunter2 refused"), 500, "internal", "internal error"},
		{&idp.Error{Code: "made_up", Message: "m"}, 500, "internal", "m"},
		{fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 10}), 413, "too_large", "the body is larger than 10 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.code+" "+tc.err.Error(), func(t *testing.T) {
			t.Parallel()
			var logged bytes.Buffer
			h := API(func(*http.Request) (any, error) { return nil, tc.err }, slog.New(slog.NewTextHandler(&logged, nil)))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/admin/api/x", nil))
			if w.Code != tc.status {
				t.Errorf("status %d, want %d", w.Code, tc.status)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body map[string]map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body) != 1 || len(body["error"]) != 2 {
				t.Fatalf("body %s is not {\"error\": {\"code\", \"message\"}}", w.Body)
			}
			if body["error"]["code"] != tc.code || body["error"]["message"] != tc.message {
				t.Errorf("error %v, want %s %q", body["error"], tc.code, tc.message)
			}
			if internal := tc.status == 500 && tc.message == "internal error"; internal != strings.Contains(logged.String(), "hunter2") {
				t.Errorf("log %q: an internal error's detail is logged, and nothing else", logged.String())
			}
		})
	}
}

// TestAPIValue: a value is answered 200 as JSON, not cached, HTML not
// escaped.
func TestAPIValue(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	API(func(r *http.Request) (any, error) { return map[string]string{"q": r.URL.Query().Get("q")}, nil }, nil).
		ServeHTTP(w, httptest.NewRequest("GET", "/admin/api/x?q=%3Ca%3E", nil))
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"q":"<a>"}` || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
}

// TestAdminAPIRoutes: the route table lists what was mounted, and only
// the /admin/api/ routes in AdminAPIRoutes.
func TestAdminAPIRoutes(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{})
	s.Handle("GET /admin/api/a", http.NotFoundHandler())
	s.HandleFunc("POST /admin/api/b/{id}", http.NotFound)
	s.HandleFunc("GET /admin/", http.NotFound)
	got := strings.Join(s.AdminAPIRoutes(), ",")
	if got != "GET /admin/api/a,POST /admin/api/b/{id}" {
		t.Fatalf("AdminAPIRoutes = %s", got)
	}
	if r := s.Routes(); len(r) != 6 || r[0] != "GET /healthz" {
		t.Fatalf("Routes = %v", r)
	}
}

// TestAPINotFound: under /admin/api/, a path no route takes is 404 and a
// method no route takes is 405 with Allow, both in the error body.
func TestAPINotFound(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{})
	s.HandleFunc("GET /admin/api/a", http.NotFound)
	s.HandleFunc("POST /admin/api/a", http.NotFound)
	s.HandleFunc("DELETE /admin/api/b/{id}", http.NotFound)
	s.Handle(AdminAPIFallback, API(apiNotFound(s), nil))
	for _, tc := range []struct{ method, path, code, allow string }{
		{"PUT", "/admin/api/a", "method_not_allowed", "GET, POST"},
		{"GET", "/admin/api/b/7", "method_not_allowed", "DELETE"},
		{"GET", "/admin/api/c", "not_found", ""},
	} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		var body map[string]map[string]string
		json.Unmarshal(w.Body.Bytes(), &body)
		want := map[string]int{"method_not_allowed": 405, "not_found": 404}[tc.code]
		if w.Code != want || body["error"]["code"] != tc.code || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s = %d %s Allow %q; want %d %s Allow %q", tc.method, tc.path, w.Code, w.Body, w.Header().Get("Allow"), want, tc.code, tc.allow)
		}
	}
}
