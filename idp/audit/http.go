package audit

import (
	"errors"
	"net/http"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// Events is GET /admin/api/events: Lookup over HTTP, for the web layer to
// render. The query parameters are those of ParseQuery; the value is
//
//	{"events": [<CloudTrail record>, ...], "next": "<cursor>"}
//
// newest first, with "next" present when another page may follow (pass it
// back as cursor=). A bad parameter is an idp.EInvalid error naming it; a
// failing store is returned as is (an internal error). It does no
// authorisation: mount it behind the admin check.
func Events(s store.AuditStore, now func() time.Time) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		q, err := ParseQuery(r.URL.Query(), now())
		if err == nil {
			var page Page
			page, err = Lookup(r.Context(), s, q)
			if err == nil {
				out := EventsResponse{Events: make([]Record, len(page.Events)), Next: page.Next}
				for i, e := range page.Events {
					out.Events[i] = e.Record
				}
				return out, nil
			}
		}
		if errors.Is(err, ErrBadQuery) {
			return nil, idp.Errorf(idp.EInvalid, "%s", err.Error())
		}
		return nil, err
	}
}

// EventsResponse is the value of Events.
type EventsResponse struct {
	Events []Record `json:"events"`
	Next   string   `json:"next,omitempty"`
}
