package audit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/store"
)

func TestEventsHandler(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		logRecords(t, s, 0, 12)
		var logged strings.Builder
		h := EventsHandler(s, func() time.Time { return testNow.Add(time.Hour) }, slogTo(&logged))
		get := func(query string) (*httptest.ResponseRecorder, map[string]json.RawMessage) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/api/events?"+query, nil))
			var body map[string]json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("GET ?%s: body is not JSON: %q", query, rec.Body.String())
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q", ct)
			}
			return rec, body
		}

		var ids []string
		query := url.Values{"source_identity": {"Alice"}, "since": {"-2h"}, "limit": {"2"}}
		for range 5 {
			rec, body := get(query.Encode())
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var events []Record
			if err := json.Unmarshal(body["events"], &events); err != nil {
				t.Fatal(err)
			}
			for _, e := range events {
				ids = append(ids, e.EventID)
			}
			var next string
			json.Unmarshal(body["next"], &next)
			if next == "" {
				break
			}
			query.Set("cursor", next)
		}
		// Alice is 0, 5 and 10; 10 is a sign-in, which has no source identity.
		want := []string{genRecord(5, testNow).EventID, genRecord(0, testNow).EventID}
		if !equalStrings(ids, want) {
			t.Fatalf("events of Alice = %v, want %v", ids, want)
		}

		rec, body := get("source_identity=Alice&limit=500")
		if rec.Code != http.StatusOK || body["next"] != nil || !strings.HasPrefix(string(body["events"]), `[{"eventVersion":"1.08"`) {
			t.Fatalf("last page: %d %s", rec.Code, rec.Body)
		}
		rec, body = get("source_identity=Nobody")
		if rec.Code != http.StatusOK || string(body["events"]) != "[]" {
			t.Fatalf("no match: %d %s; want an empty list", rec.Code, rec.Body)
		}
		for _, bad := range []string{"limit=0", "since=yesterday", "cursor=%21%21", "sourceIdentity=x"} {
			rec, body := get(bad)
			if rec.Code != http.StatusBadRequest || body["error"] == nil {
				t.Errorf("?%s: %d %s; want 400 with an error", bad, rec.Code, rec.Body)
			}
		}
		post := httptest.NewRecorder()
		h.ServeHTTP(post, httptest.NewRequest(http.MethodPost, "/admin/api/events", nil))
		if post.Code != http.StatusMethodNotAllowed || post.Header().Get("Allow") == "" {
			t.Fatalf("POST: %d", post.Code)
		}
	})
}

// A failing store answers 500 without detail and logs the cause.
func TestEventsHandlerStoreFailure(t *testing.T) {
	t.Parallel()
	s := openSQLite(t)
	s.Close()
	var logged strings.Builder
	rec := httptest.NewRecorder()
	EventsHandler(s, time.Now, slogTo(&logged)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/api/events", nil))
	if rec.Code != http.StatusInternalServerError || strings.TrimSpace(rec.Body.String()) != `{"error":"internal error"}` {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logged.String(), "audit lookup failed") {
		t.Fatalf("log = %q", logged.String())
	}
}
