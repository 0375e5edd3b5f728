package web

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address a request comes from (see clientAddrVia), with
// the IdP's trusted proxies.
func (p *IdP) clientAddr(r *http.Request) netip.Addr {
	return clientAddrVia(r, p.opt.TrustedProxies)
}

// clientAddrVia is the address a request comes from: the TCP peer, unless
// the peer is one of the trusted proxies. Then X-Forwarded-For is read from
// the right, skipping trusted proxies; the first other address is the
// client. An unparsable entry stops the walk at the last trusted hop.
func clientAddrVia(r *http.Request, proxies []netip.Prefix) netip.Addr {
	peer := remoteAddr(r.RemoteAddr)
	if !trustedProxy(proxies, peer) {
		return peer
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, part := range strings.Split(h, ",") {
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
		if !trustedProxy(proxies, client) {
			return client
		}
	}
	return client
}

// trustedProxy reports whether a is a valid address within one of proxies.
func trustedProxy(proxies []netip.Prefix, a netip.Addr) bool {
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

// remoteAddr parses http.Request.RemoteAddr ("ip:port"); invalid when it is
// not one (a test's "pipe", a Unix socket).
func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(s)
	return a.Unmap()
}

// addrKey is the rate-limit bucket of a client: its IPv4 address, or the
// /64 of its IPv6 address (one subscriber's prefix).
func addrKey(a netip.Addr) string {
	if !a.IsValid() {
		return "addr:unknown"
	}
	if a.Is6() {
		pr, _ := a.Prefix(64)
		return "addr:" + pr.String()
	}
	return "addr:" + a.String()
}

// addrString is the client address as the audit trail records it.
func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
