package sso

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func spEntityXML(entityID, acs string) string {
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">` +
		`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="1"/>` +
		`</md:SPSSODescriptor></md:EntityDescriptor>`
}

func TestParseSPMetadata(t *testing.T) {
	t.Parallel()
	aggregate := `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` +
		spEntityXML("https://a.test", "https://a.test/acs") + spEntityXML("https://b.test", "https://b.test/acs") + `</md:EntitiesDescriptor>`
	tests := []struct {
		name, doc, entity string
		wantEntity        string
		wantErr           string
	}{
		{name: "entity", doc: spEntityXML("https://a.test", "https://a.test/acs"), wantEntity: "https://a.test"},
		{name: "aggregate picked by entity ID", doc: aggregate, entity: "https://b.test", wantEntity: "https://b.test"},
		{name: "aggregate without choice", doc: aggregate, wantErr: "2 service provider entities"},
		{name: "aggregate without the entity", doc: aggregate, entity: "https://c.test", wantErr: `no service provider entity "https://c.test"`},
		{name: "other entity", doc: spEntityXML("https://a.test", "https://a.test/acs"), entity: "https://b.test", wantErr: "not \"https://b.test\""},
		{name: "javascript ACS with an unknown binding", doc: strings.Replace(spEntityXML("https://a.test", "javascript:alert(1)"), "bindings:HTTP-POST", "bindings:custom", 1), wantErr: "assertion consumer service: \"\" is not an http(s) URL"},
		{name: "relative ACS with an unknown binding", doc: strings.Replace(spEntityXML("https://a.test", "/acs"), "bindings:HTTP-POST", "bindings:custom", 1), wantErr: "is not an http(s) URL"},
		{name: "no ACS", doc: `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`, wantErr: "no AssertionConsumerService"},
		{name: "IdP metadata", doc: `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`, wantErr: "no SPSSODescriptor"},
		{name: "no entity ID", doc: spEntityXML("", "https://a.test/acs"), wantErr: "no entityID"},
		{name: "wrong root", doc: `<x/>`, wantErr: "metadata root is x"},
		{name: "XXE", doc: `<!DOCTYPE md [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + spEntityXML("&e;", "https://a.test/acs"), wantErr: "DOCTYPE"},
		{name: "too large", doc: spEntityXML("https://a.test", "https://a.test/acs") + strings.Repeat(" ", MaxMetadataBytes), wantErr: "larger than"},
		{name: "two roots", doc: spEntityXML("a", "https://a.test/acs") + spEntityXML("b", "https://b.test/acs"), wantErr: "one root element"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ed, err := ParseSPMetadata([]byte(tc.doc), tc.entity)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ed.EntityID != tc.wantEntity {
				t.Errorf("entity %q", ed.EntityID)
			}
		})
	}
}

// TestMetadataURLRefresh: fetched at start, refreshed when the interval has
// passed, the old metadata kept when a fetch fails, a failed fetch retried
// only after a minute.
func TestMetadataURLRefresh(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	doc, status, fetches := spEntityXML("https://remote.test", "https://remote.test/acs1"), 200, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fetches++
		w.WriteHeader(status)
		w.Write([]byte(doc))
	}))
	defer srv.Close()
	set := func(d string, s int) { mu.Lock(); doc, status = d, s; mu.Unlock() }
	count := func() int { mu.Lock(); defer mu.Unlock(); return fetches }

	now := testNow
	c, err := NewCatalog([]ServiceProviderConfig{{Name: "remote", Mapping: "one-role", MetadataURL: srv.URL, MetadataRefresh: Duration(time.Hour)}}, testMappings(), testBase)
	if err != nil {
		t.Fatal(err)
	}
	g := &registry{Catalog: c, client: srv.Client(), readFile: nil, now: func() time.Time { return now }, log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if err := g.load(ctx); err != nil {
		t.Fatal(err)
	}
	acs := func() string {
		_, md, ok := g.byEntityID(ctx, "https://remote.test")
		if !ok {
			return ""
		}
		return md.SPSSODescriptors[0].AssertionConsumerServices[0].Location
	}
	if got := acs(); got != "https://remote.test/acs1" || count() != 1 {
		t.Fatalf("acs %q after %d fetches", got, count())
	}

	set(spEntityXML("https://remote.test", "https://remote.test/acs2"), 200)
	now = now.Add(59 * time.Minute)
	if got := acs(); got != "https://remote.test/acs1" || count() != 1 {
		t.Fatalf("refreshed early: %q after %d fetches", got, count())
	}
	now = now.Add(time.Minute)
	if got := acs(); got != "https://remote.test/acs2" || count() != 2 {
		t.Fatalf("not refreshed: %q after %d fetches", got, count())
	}

	set("", 500)
	now = now.Add(time.Hour)
	if got := acs(); got != "https://remote.test/acs2" || count() != 3 {
		t.Fatalf("failed fetch: %q after %d fetches", got, count())
	}
	now = now.Add(30 * time.Second)
	acs()
	if count() != 3 {
		t.Fatal("a failed fetch is retried at once")
	}

	// A refresh that turns the metadata malicious keeps the old one.
	set(spEntityXML("https://remote.test", "javascript:alert(1)"), 200)
	now = now.Add(time.Minute)
	if got := acs(); got != "https://remote.test/acs2" || count() != 4 {
		t.Fatalf("malicious refresh: %q after %d fetches", got, count())
	}
	// So does one that changes the entity ID.
	set(spEntityXML("https://other.test", "https://other.test/acs"), 200)
	now = now.Add(time.Minute)
	if got := acs(); got != "https://remote.test/acs2" || count() != 5 {
		t.Fatalf("entity change: %q after %d fetches", got, count())
	}
}

// TestMetadataURLUnreachableAtStart: the IdP starts; the provider is
// unavailable until its metadata can be fetched.
func TestMetadataURLUnreachableAtStart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	env := newTestEnv(t, func(o *Options) {
		o.ServiceProviders = append(o.ServiceProviders, ServiceProviderConfig{Name: "remote", Mapping: "one-role", MetadataURL: srv.URL})
		o.HTTPClient = srv.Client()
	})
	w := env.do("GET", "/saml/idp-initiated?sp=remote", nil, env.sessions.signIn(alice))
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", w.Code)
	}
	noAssertion(t, w.Body.String())
}
