package sso

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// fakeStored is a StoredProviders.
type fakeStored struct {
	ListFunc func(ctx context.Context) ([]store.ServiceProvider, error)
}

func (f fakeStored) ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error) {
	return f.ListFunc(ctx)
}

func storedList(sps ...store.ServiceProvider) fakeStored {
	return fakeStored{ListFunc: func(context.Context) ([]store.ServiceProvider, error) { return sps, nil }}
}

// withoutApp is newTestEnv's configuration without "app", the test SP's
// metadata file, so that the test SP can be added as a stored provider.
func withoutApp(o *Options) {
	o.ServiceProviders = slices.DeleteFunc(o.ServiceProviders, func(sp ServiceProviderConfig) bool { return sp.Name == "app" })
}

// TestStoredProviderSignsIn: a service provider added in the console (its
// metadata stored) is listed, mapped and signed in to beside the
// configured ones, and one taken away is gone at the next load.
func TestStoredProviderSignsIn(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withoutApp)
	cat := env.idp.Catalog()
	rec := store.ServiceProvider{Name: "wiki", DisplayName: "Wiki", Mapping: "aws-map", Metadata: env.sp.metadataXML(t), CreatedBy: "local:root", CreatedAt: testNow}
	if err := cat.CheckServiceProvider(&rec); err != nil {
		t.Fatalf("CheckServiceProvider: %v", err)
	}
	if rec.EntityID != spEntityID {
		t.Fatalf("entity ID %q, want the metadata's %q", rec.EntityID, spEntityID)
	}
	if err := cat.LoadStored(context.Background(), storedList(rec)); err != nil {
		t.Fatal(err)
	}
	if names := cat.Names(); !slices.Equal(names, []string{"aws", "sts", "one", "strict", "wiki"}) {
		t.Errorf("Names = %v", names)
	}
	if rep, err := cat.Test("wiki", alice); err != nil || rep.Mapping != "aws-map" {
		t.Errorf("Test(wiki) = %+v, %v", rep, err)
	}
	w := env.do("GET", "/saml/idp-initiated?sp=wiki", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusOK {
		t.Fatalf("IdP-initiated sign-in to the stored provider: %d %s", w.Code, w.Body)
	}
	form := parsePostForm(t, w.Body.String())
	if form.Action != spACS {
		t.Fatalf("posted to %q, want the stored metadata's ACS %q", form.Action, spACS)
	}
	verifyCrewjam(t, env, spEntityID, spACS, form.SAMLResponse, nil)

	info := cat.Providers()
	last := info[len(info)-1]
	if !last.Stored || last.Name != "wiki" || last.Source != "console: metadata upload" || last.EntityID != spEntityID ||
		!slices.Equal(last.ACSURLs, []string{spACS}) || last.Sign != SignBoth || len(last.Certificates) == 0 || last.Certificates[0].NotAfter.Year() != 2099 {
		t.Errorf("Providers()[last] = %+v", last)
	}
	if info[0].Stored || info[0].Source != "configuration: preset aws" {
		t.Errorf("Providers()[0] = %+v", info[0])
	}

	if err := cat.LoadStored(context.Background(), storedList()); err != nil {
		t.Fatal(err)
	}
	if w := env.do("GET", "/saml/idp-initiated?sp=wiki", nil, env.sessions.signIn(alice)); w.Code == http.StatusOK {
		t.Errorf("a deleted stored provider still signs in: %d", w.Code)
	}
}

// TestCheckServiceProvider: what the console refuses, each with a message
// naming the problem.
func TestCheckServiceProvider(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, withoutApp)
	cat := env.idp.Catalog()
	if err := cat.LoadStored(context.Background(), storedList(store.ServiceProvider{Name: "crm", EntityID: "urn:crm", ACSURL: "https://crm.test/acs", Mapping: "one-role"})); err != nil {
		t.Fatal(err)
	}
	jsACS := strings.Replace(string(env.sp.metadataXML(t)), spACS, "javascript:alert(1)", 1)
	tests := []struct {
		name string
		rec  store.ServiceProvider
		code string
		want string
	}{
		{"javascript ACS", store.ServiceProvider{Name: "x", EntityID: "urn:x", ACSURL: "javascript:alert(1)", Mapping: "one-role"}, idp.EInvalid, `acs_url: "javascript:alert(1)" is not an http(s) URL`},
		{"data ACS", store.ServiceProvider{Name: "x", EntityID: "urn:x", ACSURL: "data:text/html,hi", Mapping: "one-role"}, idp.EInvalid, `is not an http(s) URL`},
		{"javascript ACS in metadata", store.ServiceProvider{Name: "x", Metadata: []byte(jsACS), Mapping: "one-role"}, idp.EInvalid, `"javascript"`},
		{"DOCTYPE in metadata", store.ServiceProvider{Name: "x", Metadata: []byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`), Mapping: "one-role"}, idp.EInvalid, "DOCTYPE"},
		{"metadata too large", store.ServiceProvider{Name: "x", Metadata: make([]byte, MaxMetadataBytes+1), Mapping: "one-role"}, idp.EInvalid, "metadata larger than"},
		{"no entity ID", store.ServiceProvider{Name: "x", ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EInvalid, "an entity ID is required"},
		{"no ACS", store.ServiceProvider{Name: "x", EntityID: "urn:x", Mapping: "one-role"}, idp.EInvalid, "an assertion consumer service URL is required"},
		{"bad name", store.ServiceProvider{Name: "a b", EntityID: "urn:x", ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EInvalid, `the name "a b" may have only`},
		{"unknown mapping", store.ServiceProvider{Name: "x", EntityID: "urn:x", ACSURL: "https://x.test/acs", Mapping: "nope"}, idp.EInvalid, `unknown mapping "nope" (known: aws-map, one-role, strict)`},
		{"bad sign mode", store.ServiceProvider{Name: "x", EntityID: "urn:x", ACSURL: "https://x.test/acs", Mapping: "one-role", Sign: "none"}, idp.EInvalid, `sign: "none" is not one of`},
		{"configured name", store.ServiceProvider{Name: "aws", EntityID: "urn:x", ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EInvalid, `"aws" is the name of a service provider of the configuration file`},
		{"configured entity ID", store.ServiceProvider{Name: "x", EntityID: AWSEntityID, ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EConflict, `entity ID "urn:amazon:webservices" is already service provider "aws"'s`},
		{"stored name", store.ServiceProvider{Name: "crm", EntityID: "urn:other", ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EConflict, `a service provider called "crm" already exists`},
		{"stored entity ID", store.ServiceProvider{Name: "crm2", EntityID: "urn:crm", ACSURL: "https://x.test/acs", Mapping: "one-role"}, idp.EConflict, `entity ID "urn:crm" is already service provider "crm"'s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.rec
			err := cat.CheckServiceProvider(&rec)
			if idp.ErrorCode(err) != tc.code || !strings.Contains(idp.ErrorMessage(err), tc.want) {
				t.Errorf("CheckServiceProvider = %v (%s), want %s containing %q", err, idp.ErrorCode(err), tc.code, tc.want)
			}
		})
	}
	// A stored record that stopped fitting is left out, named, and the
	// others are kept.
	err := cat.LoadStored(context.Background(), storedList(
		store.ServiceProvider{Name: "crm", EntityID: "urn:crm", ACSURL: "https://crm.test/acs", Mapping: "one-role"},
		store.ServiceProvider{Name: "old", EntityID: "urn:old", ACSURL: "https://old.test/acs", Mapping: "removed"},
	))
	if err == nil || !strings.Contains(err.Error(), `stored service provider "old": unknown mapping "removed"`) {
		t.Errorf("LoadStored = %v", err)
	}
	if names := cat.Names(); !slices.Contains(names, "crm") || slices.Contains(names, "old") {
		t.Errorf("Names = %v", names)
	}
	// A failing store keeps the current set.
	if err := cat.LoadStored(context.Background(), fakeStored{ListFunc: func(context.Context) ([]store.ServiceProvider, error) {
		return nil, errors.New("database down")
	}}); err == nil || !slices.Contains(cat.Names(), "crm") {
		t.Errorf("LoadStored with a failing store = %v, names %v", err, cat.Names())
	}
}

func TestFetchSPMetadata(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("  <md/>\n"))
		case "/big":
			w.Write(make([]byte, MaxMetadataBytes+10))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if b, err := FetchSPMetadata(context.Background(), srv.Client(), srv.URL+"/ok"); err != nil || string(b) != "<md/>" {
		t.Errorf("fetch /ok = %q, %v", b, err)
	}
	for _, tc := range []struct{ url, want string }{
		{srv.URL + "/big", "sent more than 1048576 bytes"},
		{srv.URL + "/missing", "answered 404 Not Found"},
		{"file:///etc/passwd", "is not an http(s) URL"},
	} {
		if _, err := FetchSPMetadata(context.Background(), srv.Client(), tc.url); idp.ErrorCode(err) != idp.EInvalid || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fetch %s = %v, want invalid containing %q", tc.url, err, tc.want)
		}
	}
}
