package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log sink safe for the handler's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReadyzHidesDatabaseDetails: a failing database check answers 503 with
// a fixed body naming only the check; the cause (user, database name,
// address) is logged, never sent to the anonymous caller.
func TestReadyzHidesDatabaseDetails(t *testing.T) {
	t.Parallel()
	cause := errors.New("database: failed to connect to `user=postgres database=reltest`: 127.0.0.1:5432 (127.0.0.1): dial error: connection refused")
	var logged lockedBuffer
	var mu sync.Mutex
	var ready error = cause
	s := NewServer(Options{Logger: testLogger(&logged), Ready: CheckerFunc(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return ready
	})})

	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	body := strings.TrimSpace(rec.Body.String())
	if rec.Code != http.StatusServiceUnavailable || body != `{"status":"unavailable","checks":{"database":"down"}}` {
		t.Fatalf("/readyz while the database is down = %d %s", rec.Code, body)
	}
	for _, leak := range []string{"postgres", "reltest", "127.0.0.1", "5432", "connection refused"} {
		if strings.Contains(rec.Body.String(), leak) {
			t.Errorf("/readyz body tells the caller %q: %s", leak, body)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if !strings.Contains(logged.String(), "reltest") || !strings.Contains(logged.String(), "127.0.0.1:5432") {
		t.Errorf("the cause was not logged: %s", logged.String())
	}

	mu.Lock()
	ready = nil
	mu.Unlock()
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if body := strings.TrimSpace(rec.Body.String()); rec.Code != http.StatusOK || body != `{"status":"ready","checks":{"database":"up"}}` {
		t.Fatalf("/readyz when ready = %d %s", rec.Code, body)
	}
}
