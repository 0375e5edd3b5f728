package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	ready := errors.New("database down")
	s := NewServer(Options{Ready: CheckerFunc(func(context.Context) error { return ready })})
	srv := httptest.NewServer(s)
	defer srv.Close()

	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, `"database":"down"`) {
		t.Errorf("/readyz while not ready = %d %s", code, body)
	}
	ready = nil
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz when ready = %d", code)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, `idpbridge_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`) ||
		!strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d, missing request counter or runtime metrics:\n%.2000s", code, body)
	}
}

func TestRecoverAnswers500WithoutDetail(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	s := NewServer(Options{Logger: testLogger(&logged)})
	s.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret detail") })
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret detail") {
		t.Fatalf("panic answered %d %q", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logged.String(), "secret detail") {
		t.Fatal("panic not logged")
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	s := NewServer(Options{MaxBodyBytes: 1024})
	s.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
	})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("x", 2048))))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body answered %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader("small")))
	if rec.Code != 200 {
		t.Fatalf("small body answered %d", rec.Code)
	}
}
