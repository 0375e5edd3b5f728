// Package clientaddr finds the address a request comes from, reading
// X-Forwarded-For only from trusted reverse proxies. The web pages, the SAML
// IdP's audit events and the STS (aws:SourceIp) share it.
package clientaddr

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Of is the address request r comes from: the TCP peer, unless the peer is
// one of the trusted proxies. Then X-Forwarded-For is read from the right,
// skipping trusted proxies; the first other address is the client. An
// unparsable entry stops the walk at the last trusted hop. The result is
// invalid only when RemoteAddr is not an IP address (a test's "pipe", a Unix
// socket).
func Of(r *http.Request, proxies []netip.Prefix) netip.Addr {
	peer := Remote(r.RemoteAddr)
	if !Trusted(proxies, peer) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(h, ",") {
			hops = append(hops, strings.TrimSpace(part))
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return client
		}
		client = a.Unmap()
		if !Trusted(proxies, client) {
			return client
		}
	}
	return client
}

// Trusted reports whether a is a valid address within one of proxies.
func Trusted(proxies []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, pr := range proxies {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// Remote parses http.Request.RemoteAddr ("ip:port", or a bare IP); invalid
// when it is neither.
func Remote(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(s)
	return a.Unmap()
}

// String is Of as text for audit records and aws:SourceIp; when RemoteAddr
// is no IP address, its host part (or all of it when it has no port).
func String(r *http.Request, proxies []netip.Prefix) string {
	if a := Of(r, proxies); a.IsValid() {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
