package sso

import (
	"net/http"
	"testing"
)

// TestAssertionRecordNamesConnector: the IssueAssertion record of a
// person of a directory names them user@connector, so that corp-ad's
// alice is never the local alice; the local alice stays plain.
func TestAssertionRecordNamesConnector(t *testing.T) {
	env := newTestEnv(t, nil)
	for _, id := range []struct {
		connector, user, principal string
	}{{"corp-ad", "alice@corp-ad", "corp-ad:alice"}, {"local", "alice", "local:alice"}} {
		who := alice
		who.Connector = id.connector
		before := len(env.events.records())
		w := env.do("GET", "/saml/idp-initiated?sp=aws", nil, env.sessions.signIn(who))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %s", id.connector, w.Code, w.Body)
		}
		recs := env.events.records()[before:]
		if len(recs) != 1 {
			t.Fatalf("%s: %d records", id.connector, len(recs))
		}
		u := recs[0].UserIdentity
		if u.UserName != id.user || u.Connector != id.connector || u.PrincipalID != id.principal {
			t.Errorf("%s: record identity %+v, want user %s principal %s", id.connector, u, id.user, id.principal)
		}
	}
}
