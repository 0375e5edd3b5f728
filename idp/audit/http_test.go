package audit

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// testRecorder stands in for the web layer: the value as JSON with 200,
// an error as its code with 400 for invalid and 500 otherwise.
type testRecorder struct {
	Code int
	Body *strings.Builder
}

func TestEvents(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		logRecords(t, s, 0, 12)
		f := Events(s, func() time.Time { return testNow.Add(time.Hour) })
		get := func(query string) (testRecorder, map[string]json.RawMessage) {
			rec := testRecorder{Body: &strings.Builder{}}
			v, err := f(httptest.NewRequest(http.MethodGet, "/admin/api/events?"+query, nil))
			switch idp.ErrorCode(err) {
			case "":
				rec.Code = http.StatusOK
			case idp.EInvalid:
				rec.Code = http.StatusBadRequest
				v = map[string]string{"error": idp.ErrorMessage(err)}
			default:
				t.Fatalf("GET ?%s: %v", query, err)
			}
			b, _ := json.Marshal(v)
			rec.Body.Write(b)
			var body map[string]json.RawMessage
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("GET ?%s: body is not JSON: %q", query, b)
			}
			return rec, body
		}

		var ids []string
		query := url.Values{"source-identity": {"Alice"}, "since": {"-2h"}, "limit": {"2"}}
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

		rec, body := get("source-identity=Alice&limit=500")
		if rec.Code != http.StatusOK || body["next"] != nil || !strings.HasPrefix(string(body["events"]), `[{"eventVersion":"1.08"`) {
			t.Fatalf("last page: %d %s", rec.Code, rec.Body)
		}
		rec, body = get("source-identity=Nobody")
		if rec.Code != http.StatusOK || string(body["events"]) != "[]" {
			t.Fatalf("no match: %d %s; want an empty list", rec.Code, rec.Body)
		}
		for _, bad := range []string{"limit=0", "since=yesterday", "cursor=%21%21", "sourceIdentity=x", "source_identity=x"} {
			rec, body := get(bad)
			if rec.Code != http.StatusBadRequest || body["error"] == nil {
				t.Errorf("?%s: %d %s; want 400 with an error", bad, rec.Code, rec.Body)
			}
		}
	})
}

// A failing store is an internal error, returned whole for the web layer
// to log.
func TestEventsStoreFailure(t *testing.T) {
	t.Parallel()
	s := openSQLite(t)
	s.Close()
	_, err := Events(s, time.Now)(httptest.NewRequest(http.MethodGet, "/admin/api/events", nil))
	if err == nil || idp.ErrorCode(err) != idp.EInternal {
		t.Fatalf("err = %v; want an internal error", err)
	}
}
