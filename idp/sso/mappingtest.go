package sso

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"idpbridge/idp"
)

// People finds a person by name without a password, as the connector would
// at sign-in, for mapping tests.
type People interface {
	// LookupIdentity returns the identity of username; ok=false when there
	// is no such person.
	LookupIdentity(ctx context.Context, username string) (id idp.Identity, ok bool, err error)
}

// MappingTestHandler answers GET /admin/api/mappings/test?sp=NAME&user=NAME
// with the MappingReport as JSON: 200 whether or not the mapping succeeds
// (see MappingReport.OK), 400 without sp or user, 404 for an unknown
// provider or person ({"error": {"code": "not_found", "message": "..."}}),
// 500 when the directory fails. Mount it behind the admin guard: it shows a
// person's attributes.
func MappingTestHandler(c *Catalog, people People) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		spName, user := q.Get("sp"), q.Get("user")
		if spName == "" || user == "" {
			writeJSONError(w, http.StatusBadRequest, idp.EInvalid, "sp and user are required")
			return
		}
		id, ok, err := people.LookupIdentity(r.Context(), user)
		if err != nil {
			writeJSONError(w, http.StatusInternalServerError, idp.EInternal, "internal error")
			return
		}
		if !ok {
			writeJSONError(w, http.StatusNotFound, idp.ENotFound, "no user "+quoteName(user))
			return
		}
		rep, err := c.Test(spName, id)
		switch {
		case errors.Is(err, ErrUnknownServiceProvider):
			writeJSONError(w, http.StatusNotFound, idp.ENotFound, "no service provider "+quoteName(spName))
			return
		case err != nil:
			writeJSONError(w, http.StatusInternalServerError, idp.EInternal, "internal error")
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
}

func quoteName(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}
