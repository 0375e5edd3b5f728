package oidc

import (
	"testing"
	"time"

	"idpbridge/idp/connector/oidc/oidctest"
)

// t0 is the fixed time of every test: tokens are issued at t0 and the
// connector's clock reads t0.
var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const (
	testClientID = "idpbridge"
	testSecret   = "s3cret-of-the-client"
	testRedirect = "https://idp.example.com/oidc/callback"
)

// newFakeProvider starts a test provider for the test client, issuing
// tokens at t0.
func newFakeProvider(t testing.TB) *oidctest.Provider {
	p := oidctest.New(t, testClientID, testSecret, testRedirect)
	p.Now = t0
	return p
}

// testConfig is a valid configuration for fp.
func testConfig(fp *oidctest.Provider) Config {
	return Config{
		Issuer:       fp.Issuer(),
		ClientID:     testClientID,
		ClientSecret: testSecret,
		RedirectURL:  testRedirect,
		Scopes:       []string{"openid", "profile", "email", "groups"},
	}
}
