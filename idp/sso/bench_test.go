package sso

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// BenchmarkIssueAssertion is one IdP-initiated sign-in through our HTTP
// handler: session lookup, mapping, assertion, two RSA-3072 SHA-256
// signatures (Assertion and Response), audit record, page render.
func BenchmarkIssueAssertion(b *testing.B) {
	env := newTestEnv(b, nil)
	cookie := env.sessions.signIn(alice)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/saml/idp-initiated?sp=aws", nil)
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		env.mux.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assertions/s")
}

// bareSessions always returns the same session.
type bareSessions struct{ s *saml.Session }

func (b bareSessions) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	return b.s
}

// bareSPs serves one service provider's metadata.
type bareSPs struct{ md *saml.EntityDescriptor }

func (b bareSPs) GetServiceProvider(*http.Request, string) (*saml.EntityDescriptor, error) {
	return b.md, nil
}

// BenchmarkCrewjamBare is the same sign-in with crewjam's IdentityProvider
// alone (DefaultAssertionMaker, default form, same key and algorithms): the
// reference cost of the library.
func BenchmarkCrewjamBare(b *testing.B) {
	key := fixedKey(b, "idp-active")
	md := staticMetadata(AWSEntityID, AWSACSURL)
	base, _ := url.Parse(testBase)
	sidp := &saml.IdentityProvider{
		Key:                     key.PrivateKey,
		Certificate:             key.Certificate,
		MetadataURL:             *base.JoinPath(MetadataPath),
		SSOURL:                  *base.JoinPath(SSOPath),
		ServiceProviderProvider: bareSPs{md},
		SessionProvider: bareSessions{&saml.Session{ID: "s", CreateTime: testNow, ExpireTime: testNow.Add(8 * 3600e9), Index: "i",
			NameID: "alice", NameIDFormat: string(saml.PersistentNameIDFormat), UserName: "alice", UserEmail: "alice@example.com"}},
		SignatureMethod: dsig.RSASHA256SignatureMethod,
		Clock:           dsig.NewFakeClockAt(testNow),
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/saml/idp-initiated?sp=aws", nil)
		w := httptest.NewRecorder()
		sidp.ServeIDPInitiated(w, r, AWSEntityID, "")
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "assertions/s")
}

// BenchmarkSPInitiatedRefusals is the cost of refusing the hostile
// requests of TestSPInitiatedRefusals that do the most work before they
// are refused: a 50 MiB deflate bomb, deep nesting and many siblings.
func BenchmarkSPInitiatedRefusals(b *testing.B) {
	env := newTestEnv(b, nil)
	for _, bc := range []struct{ name, target string }{
		{"deflate bomb", "/saml/sso?SAMLRequest=" + url.QueryEscape(deflateBomb(50<<20))},
		{"deep nesting", "/saml/sso?" + redirectQuery([]byte(strings.Repeat("<a>", 3000)+strings.Repeat("</a>", 3000)), "")},
		{"many siblings", "/saml/sso?" + redirectQuery([]byte("<a>"+strings.Repeat("<b/>", 1200)+"</a>"), "")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				env.logs.Reset()
				if w := env.do("GET", bc.target, nil, nil); w.Code != http.StatusBadRequest {
					b.Fatalf("status %d, want %d", w.Code, http.StatusBadRequest)
				}
			}
		})
	}
}
