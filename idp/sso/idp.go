package sso

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/internal/clientaddr"
	"idpbridge/idp/ui"
)

// Paths of the IdP's endpoints under the base URL.
const (
	MetadataPath     = "/saml/metadata"
	SSOPath          = "/saml/sso"
	IdPInitiatedPath = "/saml/idp-initiated"
	SLOPath          = "/saml/slo"
)

// Pages the IdP renders (templates/<name>.html); the wiring passes them to
// ui.Load as required pages.
var Pages = []string{"saml_post", "role_chooser", "mapping_error", "slo", "error", "open_app"}

// Assertion timing defaults.
const (
	// DefaultAssertionLifetime is how long an assertion may be presented:
	// Conditions NotOnOrAfter and the bearer confirmation's NotOnOrAfter.
	DefaultAssertionLifetime = 5 * time.Minute
	// notBeforeSkew backdates Conditions NotBefore for service providers
	// whose clocks run behind ours.
	notBeforeSkew = time.Minute
)

// Options configure New. BaseURL, Sessions, Pages, Events and Keys are
// required.
type Options struct {
	// BaseURL is idpbridge's public URL (server.base_url); the entity ID is
	// BaseURL + "/saml/metadata".
	BaseURL string
	// ServiceProviders and Mappings are the configuration (see
	// WithDefaults for the zero-config providers).
	ServiceProviders []ServiceProviderConfig
	Mappings         []attributes.MappingConfig
	// Sessions are the browser sessions (idp/web).
	Sessions Sessions
	// Pages renders Pages.
	Pages *ui.Pages
	// Events receives IssueAssertion and MappingFailed records. An
	// assertion whose record cannot be written is not sent.
	Events EventLog
	// Keys gives the signing keys (StoreKeys).
	Keys KeySource
	// Logger receives what people are not shown (default: discard).
	Logger *slog.Logger
	// HTTPClient fetches metadata_url (default: 15-second timeout, no
	// redirects to other schemes than http(s)).
	HTTPClient *http.Client
	// ReadFile reads metadata_file (default os.ReadFile).
	ReadFile func(string) ([]byte, error)
	// Now is the clock (default time.Now); Rand the randomness of assertion
	// and event IDs (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// ClientIP is the client address recorded in audit events (default:
	// the TCP peer, or the client X-Forwarded-For names when the peer is
	// one of TrustedProxies).
	ClientIP func(*http.Request) string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client in audit events; none by default.
	TrustedProxies []netip.Prefix
	// AssertionLifetime defaults to DefaultAssertionLifetime.
	AssertionLifetime time.Duration
}

// IdP is the SAML identity provider. Build it with New and mount it with
// Routes.
type IdP struct {
	reg       *registry
	sessions  Sessions
	pages     *ui.Pages
	events    EventLog
	keys      KeySource
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	clientIP  func(*http.Request) string
	lifetime  time.Duration
	clock     *dsig.Clock
	samlLog   *samlLogger
	entityID  string
	metaURL   url.URL
	ssoURL    url.URL
	sloURL    url.URL
	sessionsA sessionAdapter
	maker     assertionMaker
	writer    responseWriter

	// builtinURL is the built-in STS sign-in, <base_url>/sts/saml.
	builtinURL string
}

var _ AppLister = (*IdP)(nil)

// New checks opt, compiles the mappings, reads every metadata file and
// fetches every metadata URL once (a URL that fails is logged and retried
// when the provider is used; a file that fails is an error).
func New(ctx context.Context, opt Options) (*IdP, error) {
	var missing []string
	for name, v := range map[string]bool{"Sessions": opt.Sessions == nil, "Pages": opt.Pages == nil, "Events": opt.Events == nil, "Keys": opt.Keys == nil} {
		if v {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("sso: options missing: %s", strings.Join(missing, ", "))
	}
	base, err := url.Parse(strings.TrimSuffix(opt.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("sso: base URL %q must be an absolute http(s) URL", opt.BaseURL)
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
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if opt.ClientIP == nil {
		proxies := opt.TrustedProxies
		opt.ClientIP = func(r *http.Request) string { return clientaddr.String(r, proxies) }
	}
	if opt.AssertionLifetime <= 0 {
		opt.AssertionLifetime = DefaultAssertionLifetime
	}
	cat, err := NewCatalog(opt.ServiceProviders, opt.Mappings, base.String())
	if err != nil {
		return nil, err
	}
	p := &IdP{
		sessions: opt.Sessions,
		pages:    opt.Pages,
		events:   opt.Events,
		keys:     opt.Keys,
		log:      opt.Logger,
		now:      opt.Now,
		rand:     opt.Rand,
		clientIP: opt.ClientIP,
		lifetime: opt.AssertionLifetime,
		clock:    dsig.NewFakeClock(nowClock{Clock: clockwork.NewRealClock(), now: opt.Now}),
		samlLog:  &samlLogger{log: opt.Logger},
	}
	p.reg = &registry{Catalog: cat, client: opt.HTTPClient, readFile: opt.ReadFile, now: opt.Now, log: opt.Logger}
	p.metaURL, p.ssoURL, p.sloURL = *base.JoinPath(MetadataPath), *base.JoinPath(SSOPath), *base.JoinPath(SLOPath)
	p.entityID = p.metaURL.String()
	p.builtinURL = base.JoinPath(BuiltinPath).String()
	p.sessionsA, p.maker, p.writer = sessionAdapter{p}, assertionMaker{p}, responseWriter{p}
	if err := p.reg.load(ctx); err != nil {
		return nil, fmt.Errorf("sso: %w", err)
	}
	return p, nil
}

// nowClock is a clockwork.Clock whose Now is the injected clock.
type nowClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c nowClock) Now() time.Time { return c.now() }

// samlLogger adapts crewjam's logger to slog at debug level: what it logs
// is also reported through OnError or our own handlers.
type samlLogger struct{ log *slog.Logger }

func (l *samlLogger) Printf(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l *samlLogger) Print(v ...any)                 { l.log.Debug(fmt.Sprint(v...)) }
func (l *samlLogger) Println(v ...any)               { l.log.Debug(fmt.Sprint(v...)) }
func (l *samlLogger) Fatal(v ...any)                 { l.log.Error(fmt.Sprint(v...)) }
func (l *samlLogger) Fatalf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *samlLogger) Fatalln(v ...any)               { l.log.Error(fmt.Sprint(v...)) }
func (l *samlLogger) Panic(v ...any)                 { l.log.Error(fmt.Sprint(v...)) }
func (l *samlLogger) Panicf(format string, v ...any) { l.log.Error(fmt.Sprintf(format, v...)) }
func (l *samlLogger) Panicln(v ...any)               { l.log.Error(fmt.Sprint(v...)) }

// EntityID is the IdP's SAML entity ID, <base_url>/saml/metadata.
func (p *IdP) EntityID() string { return p.entityID }

// Catalog returns the configured service providers and mappings.
func (p *IdP) Catalog() *Catalog { return p.reg.Catalog }

// Apps implements AppLister (see Catalog.Apps).
func (p *IdP) Apps(id idp.Identity) []App { return p.reg.Apps(id) }

// Mux is where Routes mounts the endpoints (web.Server, http.ServeMux).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Routes mounts GET /saml/metadata, GET|POST /saml/sso,
// GET|POST /saml/idp-initiated (POST: the portal's and the confirm page's
// form for apps that issue credentials, and the role chooser's answer) and
// GET|POST /saml/slo.
func (p *IdP) Routes(mux Mux) {
	mux.Handle("GET "+MetadataPath, http.HandlerFunc(p.serveMetadata))
	mux.Handle("GET "+SSOPath, http.HandlerFunc(p.serveSSO))
	mux.Handle("POST "+SSOPath, http.HandlerFunc(p.serveSSO))
	mux.Handle("GET "+IdPInitiatedPath, http.HandlerFunc(p.serveIdPInitiated))
	mux.Handle("POST "+IdPInitiatedPath, http.HandlerFunc(p.serveIdPInitiated))
	mux.Handle("GET "+SLOPath, http.HandlerFunc(p.serveSLO))
	mux.Handle("POST "+SLOPath, http.HandlerFunc(p.serveSLO))
}

// samlIDP returns a crewjam IdentityProvider for one request, with the
// current keys: signing with RSA-SHA256 and SHA-256 digests, publishing the
// next certificates, answering with our session adapter, assertion maker,
// response writer and error pages.
func (p *IdP) samlIDP(ctx context.Context) (*saml.IdentityProvider, error) {
	ks, err := p.keys.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	return &saml.IdentityProvider{
		Key:                     ks.Active.PrivateKey,
		Certificate:             ks.Active.Certificate,
		ExtraCertificates:       ks.Next,
		Logger:                  p.samlLog,
		MetadataURL:             p.metaURL,
		SSOURL:                  p.ssoURL,
		LogoutURL:               p.sloURL,
		ServiceProviderProvider: p.reg,
		SessionProvider:         p.sessionsA,
		AssertionMaker:          p.maker,
		ResponseWriter:          p.writer,
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
		Clock:                   p.clock,
		OnError:                 p.onError,
		NameIDFormats:           []saml.NameIDFormat{saml.PersistentNameIDFormat},
		LogoutBindings:          []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding},
		RejectSHA1Signatures:    true,
		AssertionEncrypter:      assertionEncrypter(),
		ResponseFormTemplate:    logoutFormTemplate,
	}, nil
}

// Metadata returns the IdP metadata: entity ID <base_url>/saml/metadata,
// the active signing certificate and every next one, the SSO endpoint with
// the HTTP-Redirect and HTTP-POST bindings, the SLO endpoint with both, and
// the persistent NameID format. It lists no encryption key: the IdP
// decrypts nothing.
func (p *IdP) Metadata(ctx context.Context) ([]byte, error) {
	sidp, err := p.samlIDP(ctx)
	if err != nil {
		return nil, err
	}
	ed := sidp.Metadata()
	for i := range ed.IDPSSODescriptors {
		d := &ed.IDPSSODescriptors[i]
		kept := d.KeyDescriptors[:0]
		for _, kd := range d.KeyDescriptors {
			if kd.Use == "signing" {
				kept = append(kept, kd)
			}
		}
		d.KeyDescriptors = kept
	}
	out, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

func (p *IdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	buf, err := p.Metadata(r.Context())
	if err != nil {
		p.log.Error("saml metadata", "err", err)
		http.Error(w, "metadata unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(buf)
}

// logoutFormTemplate posts a LogoutResponse to a service provider's
// HTTP-POST SingleLogoutService (crewjam executes it with an
// IdpAuthnRequestForm). Its only script is the static autosubmit.js, so it
// works under the CSP default-src 'self'.
var logoutFormTemplate = template.Must(template.New("logout-form").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signing out · idpbridge</title><link rel="stylesheet" href="/static/style.css"></head>
<body><main id="main"><section class="card"><h1>Signing out</h1>
<form method="post" action="{{.URL}}" data-autosubmit>
<input type="hidden" name="SAMLResponse" value="{{.SAMLResponse}}">
{{with .RelayState}}<input type="hidden" name="RelayState" value="{{.}}">{{end}}
<p>If nothing happens, press Continue.</p>
<button type="submit">Continue</button>
</form></section></main>
<script src="/static/autosubmit.js"></script>
</body></html>
`))

// errAudit marks a failure to write an audit record.
var errAudit = errors.New("sso: audit trail unavailable")

// page is the data every page of this package shares.
type page struct {
	User string
}

// fail renders the error page for a deliberate refusal; err is logged, the
// person sees title and message only.
func (p *IdP) fail(w http.ResponseWriter, r *http.Request, status int, title, message string, err error) {
	if err != nil {
		level := slog.LevelWarn
		if status >= 500 {
			level = slog.LevelError
		}
		p.log.Log(r.Context(), level, "saml: "+title, "path", r.URL.Path, "status", status, "err", err)
	}
	if rerr := p.pages.Error(w, status, ui.ErrorPage{User: p.userName(r), Title: title, Message: message}); rerr != nil {
		p.log.Error("render error page", "err", rerr)
	}
}

// userName is the signed-in person's name for page headers, "" when none.
func (p *IdP) userName(r *http.Request) string {
	s, ok, err := p.sessions.Current(r)
	if err != nil || !ok {
		return ""
	}
	return s.Identity.Username
}

// onError is crewjam's OnError: every failure it reports becomes a page that
// says little, and a log line that says all.
func (p *IdP) onError(w http.ResponseWriter, r *http.Request, status int, err error) {
	switch {
	case errors.Is(err, errAudit):
		p.fail(w, r, http.StatusServiceUnavailable, "Sign-in could not be recorded",
			"idpbridge records every sign-in it sends to an application, and the record could not be written, so nothing was sent. Try again in a moment.", err)
	case errors.Is(err, saml.ErrUnknownServiceProvider):
		p.fail(w, r, http.StatusForbidden, "Unknown application",
			"The application that sent you here is not registered with idpbridge. Ask an administrator to register it.", err)
	case errors.Is(err, saml.ErrUnknownAssertionConsumerService):
		p.fail(w, r, http.StatusBadRequest, "Sign-in request refused",
			"The application asked for your sign-in to be sent to an address that is not registered for it.", err)
	case errors.Is(err, saml.ErrExpired):
		p.fail(w, r, http.StatusBadRequest, "Sign-in request expired",
			"The application's sign-in request expired before it could be answered. Go back to the application and sign in again.", err)
	case errors.Is(err, ErrNoActiveKey):
		p.fail(w, r, http.StatusServiceUnavailable, "Sign-in unavailable", "idpbridge has no signing key. Ask an administrator to run: idpbridge keys list.", err)
	case status >= 400 && status < 500:
		p.fail(w, r, http.StatusBadRequest, "Sign-in request refused",
			"The sign-in request from the application is not valid.", err)
	default:
		p.fail(w, r, http.StatusInternalServerError, "Sign-in failed", "internal error", err)
	}
}
