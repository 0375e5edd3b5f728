package sso

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"idpbridge/idp"
)

// fakePeople is a People over a map; Err fails every lookup.
type fakePeople struct {
	people map[string]idp.Identity
	err    error
}

func (f fakePeople) LookupIdentity(_ context.Context, username string) (idp.Identity, bool, error) {
	if f.err != nil {
		return idp.Identity{}, false, f.err
	}
	id, ok := f.people[username]
	return id, ok, nil
}

var bob = idp.Identity{Username: "bob", Groups: []string{"staff"}, Connector: "local"}

func TestMappingTest(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	people := fakePeople{people: map[string]idp.Identity{"alice": alice, "bob": bob}}
	tests := []struct {
		name, query string
		people      People
		status      int
		check       func(t *testing.T, body []byte)
	}{
		{name: "mapped", query: "sp=aws&user=alice", people: people, status: 200, check: func(t *testing.T, body []byte) {
			var rep MappingReport
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.NameID != "alice" || rep.Mapping != "aws-map" || rep.EntityID != AWSEntityID || len(rep.Problems) != 0 {
				t.Fatalf("report %+v", rep)
			}
			want := aliceAWSAttributes()
			if len(rep.Attributes) != len(want) {
				t.Fatalf("attributes %+v", rep.Attributes)
			}
			for i, a := range want {
				if rep.Attributes[i].Name != a.Name || strings.Join(rep.Attributes[i].Values, "|") != strings.Join(a.Values, "|") {
					t.Errorf("attribute %d = %+v, want %+v", i, rep.Attributes[i], a)
				}
			}
			if !strings.Contains(string(body), `"name": "https://aws.amazon.com/SAML/Attributes/SourceIdentity"`) {
				t.Errorf("JSON field names: %s", body)
			}
		}},
		{name: "not mapped", query: "sp=aws&user=bob", people: people, status: 200, check: func(t *testing.T, body []byte) {
			var rep MappingReport
			json.Unmarshal(body, &rep)
			if rep.OK || len(rep.Attributes) != 0 || len(rep.Problems) != 2 || rep.Problems[0].Field != "role_session_name" ||
				rep.Problems[1].Field != "roles" || !strings.Contains(rep.Problems[1].Message, "no AWS role is mapped") {
				t.Fatalf("report %+v", rep)
			}
		}},
		{name: "unknown user", query: "sp=aws&user=carol", people: people, status: 404},
		{name: "unknown sp", query: "sp=gcp&user=alice", people: people, status: 404},
		{name: "missing user", query: "sp=aws", people: people, status: 400},
		{name: "missing sp", query: "user=alice", people: people, status: 400},
		{name: "directory down", query: "sp=aws&user=alice", people: fakePeople{err: errors.New("ldap down")}, status: 500, check: func(t *testing.T, body []byte) {
			if strings.Contains(string(body), "ldap down") {
				t.Error("the internal error is shown")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := MappingTest(env.idp.Catalog(), tc.people)(httptest.NewRequest("GET", "/admin/api/mappings/test?"+tc.query, nil))
			// The statuses web.Error gives these codes.
			status := map[string]int{"": 200, idp.EInvalid: 400, idp.ENotFound: 404, idp.EInternal: 500}[idp.ErrorCode(err)]
			if status != tc.status {
				t.Fatalf("error %v (status %d), want %d", err, status, tc.status)
			}
			body, _ := json.MarshalIndent(v, "", "  ")
			if err != nil {
				body = []byte(idp.ErrorMessage(err))
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}

func TestApps(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, nil)
	names := func(apps []App) string {
		var n []string
		for _, a := range apps {
			n = append(n, a.Name)
		}
		return strings.Join(n, ",")
	}
	// strict fails for alice on her attributes, not her roles: it is
	// listed, so that opening it shows what is wrong.
	if got := names(env.idp.Apps(alice)); got != "aws,app,sts,one,strict" {
		t.Errorf("alice's apps %s", got)
	}
	// bob has no AWS group: aws-map gives him no role.
	if got := names(env.idp.Apps(bob)); got != "one,strict" {
		t.Errorf("bob's apps %s", got)
	}
	apps := env.idp.Apps(alice)
	if apps[0].DisplayName != "AWS" || apps[1].DisplayName != "Test app" || apps[2].DisplayName != "idpbridge STS" || apps[3].URL != "/saml/idp-initiated?sp=one" {
		t.Errorf("apps %+v", apps)
	}
}

func TestCatalogTest(t *testing.T) {
	t.Parallel()
	c, err := NewCatalog([]ServiceProviderConfig{{Name: "aws", Preset: PresetAWS, Mapping: "strict"}}, testMappings(), testBase)
	if err != nil {
		t.Fatal(err)
	}
	id := idp.Identity{Username: "jg", DisplayName: "José García", Attributes: map[string][]string{"employeeID": {"aws:root"}}}
	rep, err := c.Test("aws", id)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Problems) != 2 {
		t.Fatalf("report %+v", rep)
	}
	var fields []string
	for _, p := range rep.Problems {
		fields = append(fields, p.Field)
	}
	if strings.Join(fields, ",") != "source_identity,role_session_name" {
		t.Errorf("problems about %v", fields)
	}
	if _, err := c.Test("nope", id); !errors.Is(err, ErrUnknownServiceProvider) {
		t.Errorf("unknown provider: %v", err)
	}
	if _, err := NewCatalog([]ServiceProviderConfig{{Name: "x", Preset: PresetAWS, Mapping: "missing"}}, testMappings(), testBase); err == nil || !strings.Contains(err.Error(), `service_providers[0].mapping: unknown mapping "missing"`) {
		t.Errorf("NewCatalog with a bad config: %v", err)
	}
}

func TestNewRequiresOptions(t *testing.T) {
	t.Parallel()
	_, err := New(context.Background(), Options{BaseURL: testBase})
	if err == nil || !strings.Contains(err.Error(), "Events") || !strings.Contains(err.Error(), "Keys") {
		t.Fatalf("err %v", err)
	}
	env := newTestEnv(t, nil)
	_, err = New(context.Background(), Options{BaseURL: "ftp://x", Sessions: env.sessions, Pages: env.idp.pages, Events: env.events, Keys: staticKeys{}})
	if err == nil {
		t.Fatal("a non-http base URL is accepted")
	}
	// A metadata file that cannot be read stops New.
	_, err = New(context.Background(), Options{BaseURL: testBase, Sessions: env.sessions, Pages: env.idp.pages, Events: env.events, Keys: staticKeys{},
		ServiceProviders: []ServiceProviderConfig{{Name: "x", Mapping: "one-role", MetadataFile: "/nonexistent.xml"}}, Mappings: testMappings()})
	if err == nil || !strings.Contains(err.Error(), `service provider "x"`) {
		t.Fatalf("missing metadata file: %v", err)
	}
}
