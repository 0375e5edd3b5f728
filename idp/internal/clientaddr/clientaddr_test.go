package clientaddr

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestOf(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"untrusted peer ignores header", "203.0.113.9:1234", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer, no header", "10.0.0.1:1234", nil, "10.0.0.1"},
		{"trusted peer names client", "10.0.0.1:1234", []string{"198.51.100.1"}, "198.51.100.1"},
		{"skips trusted hops from the right", "10.0.0.1:1234", []string{"198.51.100.7, 198.51.100.1, 10.1.1.1"}, "198.51.100.1"},
		{"several header lines", "10.0.0.1:1234", []string{"198.51.100.7", "198.51.100.2, 10.2.2.2"}, "198.51.100.2"},
		{"unparsable stops at last trusted hop", "10.0.0.1:1234", []string{"198.51.100.1, junk, 10.3.3.3"}, "10.3.3.3"},
		{"all trusted", "10.0.0.1:1234", []string{"10.4.4.4"}, "10.4.4.4"},
		{"ipv4-mapped unmapped", "[::ffff:10.0.0.1]:1234", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"ipv6 proxy", "[2001:db8::1]:443", []string{"2001:db8:ffff::1, 2001:db8::2"}, "2001:db8:ffff::1"},
		{"bare ip remote", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"non-ip remote is invalid", "pipe", []string{"198.51.100.1"}, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := Of(r, proxies).String(); got != tc.want {
				t.Errorf("Of = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestOfNoProxies(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	if got := Of(r, nil).String(); got != "10.0.0.1" {
		t.Errorf("Of = %s, want the peer 10.0.0.1", got)
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for remote, want := range map[string]string{
		"10.0.0.1:1234":  "198.51.100.1",
		"pipe":           "pipe",
		"unix-host:8080": "unix-host",
		"[::1]:80":       "::1",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		if got := String(r, proxies); got != want {
			t.Errorf("String(RemoteAddr %q) = %q, want %q", remote, got, want)
		}
	}
}
