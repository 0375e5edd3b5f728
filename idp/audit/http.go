package audit

import (
	"errors"
	"fmt"
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

// TimelineEvents is GET /admin/api/events/timeline: LoadTimeline over
// HTTP. The query parameters are source-identity (required), since and
// until (as ParseQuery reads them); the value is the Timeline. A bad
// parameter is an idp.EInvalid error naming it. Mount it behind the admin
// check.
func TimelineEvents(s store.AuditStore, sessions SessionLister, now func() time.Time) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		t := now()
		var q TimelineQuery
		var err error
		for k, vs := range r.URL.Query() {
			if len(vs) != 1 {
				return nil, idp.Errorf(idp.EInvalid, "parameter %q given %d times", k, len(vs))
			}
			switch k {
			case "source-identity":
				q.SourceIdentity = vs[0]
			case "since":
				q.Since, err = ParseTime(vs[0], t)
			case "until":
				q.Until, err = ParseTime(vs[0], t)
			default:
				err = fmt.Errorf("%w: unknown parameter %q (the timeline takes source-identity, since and until)", ErrBadQuery, k)
			}
			if err != nil {
				return nil, idp.Errorf(idp.EInvalid, "%s", err.Error())
			}
		}
		if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
			return nil, idp.Errorf(idp.EInvalid, "%s: since must be before until", ErrBadQuery)
		}
		tl, err := LoadTimeline(r.Context(), s, sessions, q, t)
		if errors.Is(err, ErrBadQuery) {
			return nil, idp.Errorf(idp.EInvalid, "%s", err.Error())
		}
		return tl, err
	}
}
