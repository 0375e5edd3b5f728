package audit

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"idpbridge/idp/store"
)

// EventsHandler serves GET /admin/api/events: Lookup over HTTP. The query
// parameters are those of ParseQuery; the answer is
//
//	{"events": [<CloudTrail record>, ...], "next": "<cursor>"}
//
// newest first, with "next" present when another page may follow (pass it
// back as cursor=). A bad parameter answers 400 with {"error": "..."}. The
// handler does no authorisation: mount it behind the admin check.
func EventsHandler(s store.AuditStore, now func() time.Time, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
			return
		}
		q, err := ParseQuery(r.URL.Query(), now())
		if err == nil {
			var page Page
			page, err = Lookup(r.Context(), s, q)
			if err == nil {
				out := eventsResponse{Events: make([]Record, len(page.Events)), Next: page.Next}
				for i, e := range page.Events {
					out.Events[i] = e.Record
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		}
		if errors.Is(err, ErrBadQuery) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		log.ErrorContext(r.Context(), "audit lookup failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
	})
}

type eventsResponse struct {
	Events []Record `json:"events"`
	Next   string   `json:"next,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
