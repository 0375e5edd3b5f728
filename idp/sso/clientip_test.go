package sso

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"idpbridge/idp"
)

// TestEventSourceIPBehindTrustedProxy: an audit event records the client
// X-Forwarded-For names when the peer is a trusted proxy, and the peer
// otherwise.
func TestEventSourceIPBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, func(o *Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	})
	for remote, want := range map[string]string{
		"192.0.2.10:5555":  "198.51.100.7",
		"203.0.113.5:5555": "203.0.113.5",
	} {
		r := httptest.NewRequest("GET", "/saml/sso", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "198.51.100.7, 192.0.2.20")
		c, err := env.idp.call(r, idp.Identity{Username: "alice"}, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if c.SourceIP != want {
			t.Errorf("from %s: SourceIP %q, want %q", remote, c.SourceIP, want)
		}
	}
}
