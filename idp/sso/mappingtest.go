package sso

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// MappingTest is GET /admin/api/mappings/test?sp=NAME&user=NAME, for the
// web layer to render: the MappingReport whether or not the mapping
// succeeds (see MappingReport.OK); an idp.EInvalid error without sp or
// user, idp.ENotFound for an unknown provider or person, and the
// directory's own error (internal) when it fails. Mount it behind the
// admin guard: it shows a person's attributes.
func MappingTest(c *Catalog, people People) func(r *http.Request) (any, error) {
	return func(r *http.Request) (any, error) {
		q := r.URL.Query()
		spName, user := q.Get("sp"), q.Get("user")
		if spName == "" || user == "" {
			return nil, idp.Errorf(idp.EInvalid, "sp and user are required")
		}
		id, ok, err := people.LookupIdentity(r.Context(), user)
		if err != nil {
			return nil, fmt.Errorf("mapping test: look up %s: %w", quoteName(user), err)
		}
		if !ok {
			return nil, idp.Errorf(idp.ENotFound, "no user %s", quoteName(user))
		}
		rep, err := c.TestContext(r.Context(), spName, id)
		switch {
		case errors.Is(err, ErrUnknownServiceProvider):
			return nil, idp.Errorf(idp.ENotFound, "no service provider %s", quoteName(spName))
		case err != nil:
			return nil, fmt.Errorf("mapping test: %w", err)
		}
		return rep, nil
	}
}

func quoteName(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
