package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/sessions"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/hkdf"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
)

// AdminGroup is the group whose members pass RequireAdmin.
const AdminGroup = "idpbridge-admins"

// EventLog writes audit records. Log returns nil only once every record is
// stored; an error means none may be assumed written.
type EventLog interface {
	Log(ctx context.Context, recs ...audit.Record) error
}

// RateLimit bounds failed sign-ins within Window: per account name and per
// client address. Once either count reaches its maximum, further attempts
// are refused with 429 without checking the password, until the oldest
// counted failure leaves the window. Zero fields take the defaults (5, 20,
// 15m).
type RateLimit struct {
	MaxFailuresPerUser    int
	MaxFailuresPerAddress int
	Window                time.Duration
}

// IdPOptions configure NewIdP. Store, Connector or Connectors, Pages,
// Events and Secret are required.
type IdPOptions struct {
	// BaseURL is the public URL (server.base_url). POSTs must come from its
	// origin, and cookies are Secure when it is https.
	BaseURL string
	// Secret is the key material the cookie, CSRF and rate-limit keys are
	// derived from (HKDF-SHA256, one label each): the key-encryption key,
	// at least 32 bytes, the same on every replica.
	Secret []byte
	// Store keeps sessions and failed sign-ins.
	Store store.WebSessionStore
	// Connector checks passwords. When it is a connector.Explainer the
	// audit trail records why a sign-in was refused; when it is a
	// connector.AccountChecker, sessions of its accounts end as soon as the
	// account is disabled.
	Connector connector.PasswordConnector
	// ConnectorName is the Connector's name (default "local").
	ConnectorName string
	// Connectors are the named connectors, in the order the login page
	// shows them; set either them or Connector (which is the list of one
	// connector named ConnectorName).
	Connectors []NamedConnector
	// Pages renders the "login", "portal" and "error" pages.
	Pages *ui.Pages
	// Apps lists the portal's applications; nil shows none (see SetApps).
	Apps sso.AppLister
	// Events receives sign-in and sign-out records. A successful sign-in
	// whose record cannot be written fails.
	Events EventLog
	// SessionLifetime ends every session that long after sign-in (default 8h).
	SessionLifetime time.Duration
	// RateLimit bounds failed sign-ins.
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; otherwise the client address is the TCP peer.
	TrustedProxies []netip.Prefix
	// Registry receives the sign-in counter; none when nil.
	Registry prometheus.Registerer
	Logger   *slog.Logger
	Now      func() time.Time
	Rand     io.Reader
}

// IdP is the browser side of the identity provider: sessions, sign-in and
// sign-out, the portal, CSRF protection and the admin guard. It implements
// sso.Sessions.
type IdP struct {
	opt       IdPOptions
	cstates   connectorStates
	log       *slog.Logger
	origin    string
	secure    bool
	cookies   *sessions.CookieStore
	csrfKey   []byte
	rateKey   []byte
	sessName  string
	csrfName  string
	stateName string
	signins   *prometheus.CounterVec
	cmetrics  connectorMetrics
	conns     []NamedConnector

	// flowCookies keep the challenges of redirect sign-ins (flowName).
	flowCookies *sessions.CookieStore
	flowName    string

	mu   sync.RWMutex
	apps sso.AppLister

	// roundTripKey is the key of MAC.
	roundTripKey []byte
}

var _ sso.Sessions = (*IdP)(nil)

// Key derivation labels; changing one signs everyone out.
const (
	labelCookieHMAC = "idpbridge web session cookie hmac v1"
	labelCookieAES  = "idpbridge web session cookie aes v1"
	labelCSRF       = "idpbridge web csrf v1"
	labelRateLimit  = "idpbridge web rate limit keys v1"
	labelRoundTrip  = "idpbridge web round trip mac v1"
)

// NewIdP checks opt, applies its defaults and derives the keys.
func NewIdP(opt IdPOptions) (*IdP, error) {
	var missing []string
	if opt.Store == nil {
		missing = append(missing, "Store")
	}
	if opt.Connector == nil && len(opt.Connectors) == 0 {
		missing = append(missing, "Connector")
	}
	if opt.Pages == nil {
		missing = append(missing, "Pages")
	}
	if opt.Events == nil {
		missing = append(missing, "Events")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("web: IdP options missing: %s", strings.Join(missing, ", "))
	}
	if len(opt.Secret) < 32 {
		return nil, errors.New("web: the secret must have at least 32 bytes")
	}
	base, err := url.Parse(opt.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("web: base URL %q must be an absolute http(s) URL", opt.BaseURL)
	}
	if opt.ConnectorName == "" {
		opt.ConnectorName = "local"
	}
	if opt.Connector != nil && len(opt.Connectors) > 0 {
		return nil, errors.New("web: set Connector or Connectors, not both")
	}
	conns := opt.Connectors
	if opt.Connector != nil {
		conns = []NamedConnector{{Name: opt.ConnectorName, Password: opt.Connector}}
	}
	conns, err = checkConnectors(conns)
	if err != nil {
		return nil, err
	}
	if opt.SessionLifetime <= 0 {
		opt.SessionLifetime = 8 * time.Hour
	}
	if opt.RateLimit.MaxFailuresPerUser <= 0 {
		opt.RateLimit.MaxFailuresPerUser = 5
	}
	if opt.RateLimit.MaxFailuresPerAddress <= 0 {
		opt.RateLimit.MaxFailuresPerAddress = 20
	}
	if opt.RateLimit.Window <= 0 {
		opt.RateLimit.Window = 15 * time.Minute
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	p := &IdP{
		opt:     opt,
		log:     opt.Logger,
		origin:  origin(base),
		secure:  base.Scheme == "https",
		csrfKey: deriveKey(opt.Secret, labelCSRF, 32),
		rateKey: deriveKey(opt.Secret, labelRateLimit, 32),
		apps:    opt.Apps,
		conns:   conns,
	}
	p.roundTripKey = deriveKey(opt.Secret, labelRoundTrip, 32)
	p.sessName, p.csrfName, p.stateName = "idpbridge_session", "idpbridge_csrf", "idpbridge_state"
	p.flowName = "idpbridge_signin_flow"
	if p.secure {
		// __Host- cookies are Secure, host-only and Path=/: a sibling
		// subdomain cannot plant them.
		p.sessName, p.csrfName, p.stateName = "__Host-"+p.sessName, "__Host-"+p.csrfName, "__Host-"+p.stateName
		p.flowName = "__Host-" + p.flowName
	}
	p.flowCookies = newFlowCookies(opt.Secret)
	lifetime := int(opt.SessionLifetime / time.Second)
	p.cookies = sessions.NewCookieStore(deriveKey(opt.Secret, labelCookieHMAC, 64), deriveKey(opt.Secret, labelCookieAES, 32))
	// The codecs refuse cookies signed longer ago than the lifetime (plus a
	// minute for clocks of replicas that differ); the browser keeps them
	// for the lifetime. The server-side record decides in any case.
	p.cookies.MaxAge(lifetime + 60)
	p.cookies.Options = p.cookieOptions(lifetime)

	p.signins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpbridge_signins_total",
		Help: "Sign-in attempts at the IdP's login form, by result.",
	}, []string{"result"})
	p.cmetrics = newConnectorMetrics()
	if opt.Registry != nil {
		for _, c := range []prometheus.Collector{p.signins, p.cmetrics.logins, p.cmetrics.latency} {
			if err := opt.Registry.Register(c); err != nil {
				return nil, fmt.Errorf("web: register metrics: %w", err)
			}
		}
	}
	return p, nil
}

// SetApps replaces the portal's application list. Call it before serving
// when the lister is built after the IdP (it needs the IdP's sessions).
func (p *IdP) SetApps(a sso.AppLister) {
	p.mu.Lock()
	p.apps = a
	p.mu.Unlock()
}

func (p *IdP) appLister() sso.AppLister {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.apps
}

// Mount adds the IdP's routes to s: GET and POST /login, the redirect
// sign-ins' GET /login/oidc/{name} and GET /login/callback/{name}, POST
// /logout, the portal at GET /, GET /static/, and the admin API document
// at GET /admin/api/openapi.json (admins). /readyz lists the
// connectors' states.
func (p *IdP) Mount(s *Server) {
	s.HandleFunc("GET /login", p.loginForm)
	s.HandleFunc("POST /login", p.login)
	s.HandleFunc("GET "+RedirectStartPath+"{name}", p.redirectStart)
	s.HandleFunc("GET "+RedirectCallbackPath+"{name}", p.redirectCallback)
	s.SetConnectorStates(p.ConnectorStates)
	s.HandleFunc("POST /logout", p.logout)
	s.HandleFunc("GET /{$}", p.portal)
	s.Handle("GET /admin/api/openapi.json", p.RequireAdmin(http.HandlerFunc(serveOpenAPI)))
	s.Handle("GET /static/", http.StripPrefix("/static", noListing(p.opt.Pages.Static())))
}

// Prune deletes sessions that expired or were revoked, and failed sign-ins
// older than the rate-limit window. Run it now and then from one or more
// replicas; it is idempotent.
func (p *IdP) Prune(ctx context.Context) error {
	now := p.opt.Now()
	if _, err := p.opt.Store.DeleteBrowserSessions(ctx, now); err != nil {
		return err
	}
	_, err := p.opt.Store.DeleteLoginFailures(ctx, now.Add(-p.opt.RateLimit.Window))
	return err
}

// deriveKey derives n bytes from secret for one purpose.
func deriveKey(secret []byte, label string, n int) []byte {
	k := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(label)), k); err != nil {
		// HKDF-SHA256 yields up to 8160 bytes; n is far below.
		panic(fmt.Sprintf("hkdf: %v", err))
	}
	return k
}

func mac(key []byte, parts ...string) []byte {
	h := hmac.New(sha256.New, key)
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// origin is scheme://host[:port] of u, lower-case, without a default port,
// as browsers send it in the Origin header.
func origin(u *url.URL) string {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	return scheme + "://" + host
}

// noListing answers 404 for directory paths instead of listing them.
func noListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}
