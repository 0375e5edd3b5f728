package web

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"idpbridge/idp/internal/clientaddr"
)

// baseHost keeps browsers on the base URL's host: cookies are bound to a
// host name and the CSRF check compares the Origin with the base URL, so a
// page opened at http://127.0.0.1:8080 when the base URL is
// http://localhost:8080 could never submit a form.
type baseHost struct {
	root    string // the base URL without its trailing slash
	host    string // hostname[:port] of the base URL, lower case, default port dropped
	scheme  string
	proxies []netip.Prefix
}

// RedirectToBaseURL makes the server answer a request whose Host is not
// base's host (and port) with a way to base, so that cookies and the
// Origin of forms always match it:
//
//   - GET and HEAD: 302 Found to the same path and query on base;
//   - other methods: 400 with a plain-text page naming the address to
//     open (a form posted to the wrong host could not pass the CSRF check
//     anyway, and re-posting it elsewhere would only fail there).
//
// Exempt are the probes (/healthz, /readyz, /metrics), which may be
// reached on another address, the IdP metadata (/saml/metadata, read by
// programs, no cookies), and the STS (/sts and everything under /sts/):
// API calls are signed with SigV4 over the Host the client used, and an
// SDK does not follow redirects of signed POSTs; /sts/saml takes no
// cookies and needs no redirect. When the TCP peer is one of proxies
// and sends X-Forwarded-Host, its last value is the host the browser
// used. Call it before serving.
func (s *Server) RedirectToBaseURL(base string, proxies []netip.Prefix) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("web: base URL %q must be an absolute http(s) URL", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("web: the base URL must not have a query or fragment")
	}
	scheme := strings.ToLower(u.Scheme)
	s.base = &baseHost{root: strings.TrimSuffix(base, "/"), host: normalHost(u.Host, scheme), scheme: scheme, proxies: proxies}
	return nil
}

// exemptFromBaseHost lists the paths served on any host.
func exemptFromBaseHost(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/saml/metadata", "/sts":
		return true
	}
	return strings.HasPrefix(path, "/sts/")
}

// requestHost is the host the client addressed.
func (b *baseHost) requestHost(r *http.Request) string {
	if len(b.proxies) > 0 && clientaddr.Trusted(b.proxies, clientaddr.Remote(r.RemoteAddr)) {
		if vals := r.Header.Values("X-Forwarded-Host"); len(vals) > 0 {
			last := vals[len(vals)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if h := strings.TrimSpace(last); h != "" {
				return h
			}
		}
	}
	return r.Host
}

// redirectToBase answers r when it is addressed to another host than the base
// URL's, and reports whether it did.
func (s *Server) redirectToBase(w http.ResponseWriter, r *http.Request) bool {
	b := s.base
	if b == nil || exemptFromBaseHost(r.URL.Path) {
		return false
	}
	got := b.requestHost(r)
	if normalHost(got, b.scheme) == b.host {
		return false
	}
	// The path and query only, always after the base URL's authority: a
	// request-target such as "x:@evil.example" cannot move the host.
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	target := b.root + path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		s.log.Debug("redirect to the base URL", "host", shorten(got, 256), "base_url", b.root, "path", r.URL.Path)
		http.Redirect(w, r, target, http.StatusFound)
		return true
	}
	s.log.Info("request refused: not addressed to the base URL's host", "method", r.Method, "path", r.URL.Path,
		"host", shorten(got, 256), "base_url", b.root)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "Wrong address: this request was sent to host %q, but idpbridge is served at %s (server.base_url).\n"+
		"Open %s/ and try again.\n", shorten(got, 256), b.root, b.root)
	return true
}

// normalHost lowers host[:port] and drops the scheme's default port, so
// that LOCALHOST:80 and localhost compare equal over http. IPv6 literals
// keep their brackets.
func normalHost(hostport, scheme string) string {
	h := strings.ToLower(strings.TrimSpace(hostport))
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		return strings.TrimSuffix(h, ".")
	}
	host = strings.TrimSuffix(host, ".")
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}
