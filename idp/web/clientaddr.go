package web

import (
	"net/http"
	"net/netip"

	"idpbridge/idp/internal/clientaddr"
)

// clientAddr is the address a request comes from (see clientAddrVia), with
// the IdP's trusted proxies.
func (p *IdP) clientAddr(r *http.Request) netip.Addr {
	return clientAddrVia(r, p.opt.TrustedProxies)
}

// clientAddrVia is the address a request comes from (clientaddr.Of).
func clientAddrVia(r *http.Request, proxies []netip.Prefix) netip.Addr {
	return clientaddr.Of(r, proxies)
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
