package sso

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crewjam/saml"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/internal/fetch"
)

// Catalog is the configured service providers with their compiled mappings,
// without their metadata: enough to list a person's applications and to test
// mappings. Its providers are fixed; their mappings are the config file's,
// overlaid by the console's (ConsoleMappings). It is safe for concurrent
// use.
type Catalog struct {
	sps    []*provider // configuration order
	byName map[string]*provider
	// configMappings are the config file's mappings by name.
	configMappings map[string]*attributes.Mapping
	// console is the last load of the console's mappings (nil: none).
	console  atomic.Pointer[consoleMappings]
	reloader atomic.Pointer[MappingReloader]

	// The service providers added in the admin console (stored.go): the
	// base URL they are built with, and the current set, replaced as a
	// whole by LoadStored.
	baseURL string
	stored  atomic.Pointer[storedSet]
}

// ErrUnknownServiceProvider: no service provider has that name.
var ErrUnknownServiceProvider = errors.New("sso: unknown service provider")

// NewCatalog checks the configuration (ValidateConfig without reading
// files) and compiles every mapping. baseURL places the builtin preset.
func NewCatalog(sps []ServiceProviderConfig, mappings []attributes.MappingConfig, baseURL string) (*Catalog, error) {
	if problems := ValidateConfig(sps, mappings, ValidateOptions{BaseURL: baseURL}); len(problems) > 0 {
		return nil, fmt.Errorf("sso configuration: %s", joinProblems(problems))
	}
	compiled := map[string]*attributes.Mapping{}
	for _, mc := range mappings {
		m, err := attributes.Compile(mc)
		if err != nil {
			return nil, fmt.Errorf("mapping %q: %w", mc.Name, err)
		}
		compiled[mc.Name] = m
	}
	c := &Catalog{byName: map[string]*provider{}, configMappings: compiled, baseURL: baseURL}
	for _, sc := range sps {
		r, _ := resolveConfig(sc, baseURL)
		p := &provider{cfg: r, mapping: compiled[r.mapping]}
		if isPEM(r.encryptionCert) {
			p.encCert, _ = parseEncryptionCert([]byte(r.encryptionCert))
		}
		if r.metadataFile == "" && r.metadataURL == "" {
			p.md = staticMetadata(r.entityID, r.acsURL)
		}
		c.sps = append(c.sps, p)
		c.byName[r.name] = p
	}
	return c, nil
}

func joinProblems(ps []string) string {
	sort.Strings(ps)
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

// provider is one service provider: its configuration, its mapping and its
// current metadata.
type provider struct {
	cfg     resolved
	mapping *attributes.Mapping
	// encCert is encryption_cert, once read.
	encCert *x509.Certificate

	mu     sync.Mutex
	md     *saml.EntityDescriptor                 // of a metadata_file or built in; nil until loaded
	remote *fetch.Fetcher[*saml.EntityDescriptor] // of a metadata_url; set by registry.load
}

// metadata returns the provider's metadata, nil with the last error when it
// has none yet.
func (p *provider) metadata() (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	md, remote := p.md, p.remote
	p.mu.Unlock()
	if remote != nil {
		md, err := remote.Current()
		if errors.Is(err, fetch.ErrNotFetched) {
			return nil, fmt.Errorf("service provider %q: metadata not loaded yet", p.cfg.name)
		}
		return md, err
	}
	if md == nil {
		return nil, fmt.Errorf("service provider %q: metadata not loaded yet", p.cfg.name)
	}
	return md, nil
}

// Names returns the service providers' names in configuration order, then
// those added in the console by name.
func (c *Catalog) Names() []string {
	all := c.all()
	out := make([]string, len(all))
	for i, p := range all {
		out[i] = p.cfg.name
	}
	return out
}

// MappingReport is the outcome of applying a service provider's mapping to a
// person: the attributes an assertion would carry, or the problems.
type MappingReport struct {
	ServiceProvider string `json:"serviceProvider"`
	// EntityID is the provider's entity ID when it is known without
	// fetching metadata.
	EntityID     string `json:"entityId,omitempty"`
	Mapping      string `json:"mapping"`
	User         string `json:"user"`
	OK           bool   `json:"ok"`
	NameID       string `json:"nameId,omitempty"`
	NameIDFormat string `json:"nameIdFormat,omitempty"`
	// SingleRole reports that the provider takes one role, chosen by the
	// person when the mapping yields several.
	SingleRole bool              `json:"singleRole"`
	Attributes []ReportAttribute `json:"attributes,omitempty"`
	Problems   []ReportProblem   `json:"problems,omitempty"`
}

// ReportAttribute is one SAML attribute of a MappingReport.
type ReportAttribute struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// ReportProblem is one attributes.Problem of a MappingReport, whose
// Message is the problem's AdminMessage: the report is for administrators.
type ReportProblem struct {
	Field     string `json:"field"`
	Attribute string `json:"attribute,omitempty"`
	Value     string `json:"value,omitempty"`
	Message   string `json:"message"`
}

// Test applies the mapping in effect of service provider spName to id. An
// unknown provider is ErrUnknownServiceProvider; a person the mapping
// cannot map is a report with OK false and the problems, not an error.
func (c *Catalog) Test(spName string, id idp.Identity) (*MappingReport, error) {
	return c.TestContext(context.Background(), spName, id)
}

// TestContext is Test with the context of the request (for reloading the
// console's mappings when due).
func (c *Catalog) TestContext(ctx context.Context, spName string, id idp.Identity) (*MappingReport, error) {
	p, ok := c.lookup(spName)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownServiceProvider, spName)
	}
	m := c.mapping(ctx, p)
	rep := &MappingReport{
		ServiceProvider: p.cfg.name,
		EntityID:        p.cfg.entityID,
		Mapping:         m.Name(),
		User:            id.QualifiedName(),
		SingleRole:      p.cfg.singleRole,
	}
	if err := fillReport(rep, m, id); err != nil {
		return nil, err
	}
	return rep, nil
}

// nameIDOf is the persistent NameID of a person (see the package doc).
func nameIDOf(id idp.Identity) string { return id.Username }

// Apps implements AppLister: the service providers whose mapping gives the
// person at least one role. A provider whose mapping fails for the person
// on anything but the roles is listed too, so that opening it shows what is
// wrong.
func (c *Catalog) Apps(id idp.Identity) []App {
	var out []App
	for _, p := range c.all() {
		_, err := c.mapping(context.Background(), p).Apply(id)
		var me *attributes.MappingError
		if errors.As(err, &me) {
			noRole := false
			for _, pr := range me.Problems {
				if pr.Field == "roles" {
					noRole = true
				}
			}
			if noRole {
				continue
			}
		} else if err != nil {
			continue
		}
		out = append(out, App{
			Name:        p.cfg.name,
			DisplayName: p.cfg.displayName,
			Description: p.cfg.description,
			URL:         IdPInitiatedPath + "?sp=" + url.QueryEscape(p.cfg.name),
			Post:        p.cfg.issuesCredentials,
		})
	}
	return out
}

// registry adds metadata loading and refreshing to a Catalog, and looks
// providers up by entity ID for crewjam/saml.
type registry struct {
	*Catalog
	client   *http.Client
	readFile func(string) ([]byte, error)
	now      func() time.Time
	log      *slog.Logger
}

// retryAfterFailure is how long a failed metadata fetch is not retried,
// and metadataFetchTimeout bounds one fetch.
const (
	retryAfterFailure    = time.Minute
	metadataFetchTimeout = 15 * time.Second
)

// load reads every metadata file and fetches every metadata URL once. A file
// that cannot be read or is refused is an error; a URL that cannot be
// fetched is logged and retried on use.
func (g *registry) load(ctx context.Context) error {
	var errs []error
	for _, p := range g.sps {
		if p.cfg.encryptionCert != "" && p.encCert == nil {
			cert, err := loadEncryptionCert(g.readFile, p.cfg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.encCert = cert
		}
		switch {
		case p.cfg.metadataFile != "":
			md, err := loadMetadataFile(g.readFile, p.cfg)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.mu.Lock()
			p.md = md
			p.mu.Unlock()
		case p.cfg.metadataURL != "":
			f := g.remoteMetadata(p.cfg)
			p.mu.Lock()
			p.remote = f
			p.mu.Unlock()
			g.refresh(ctx, p)
		}
	}
	if err := g.checkEntities(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// remoteMetadata is the fetcher of a provider's metadata_url: refreshed
// every metadata_refresh, a failed fetch retried after retryAfterFailure,
// the last good metadata kept while fetches fail or when a fetch changes
// the entity ID.
func (g *registry) remoteMetadata(r resolved) *fetch.Fetcher[*saml.EntityDescriptor] {
	return &fetch.Fetcher[*saml.EntityDescriptor]{
		Load: func(ctx context.Context, get fetch.Getter) (*saml.EntityDescriptor, error) {
			data, err := get(ctx, r.metadataURL)
			if err != nil {
				return nil, fmt.Errorf("service provider %q: %w", r.name, err)
			}
			ed, err := ParseSPMetadata(bytes.TrimSpace(data), r.entityID)
			if err != nil {
				return nil, fmt.Errorf("service provider %q: %s: %w", r.name, r.metadataURL, err)
			}
			return ed, nil
		},
		Check: func(old *saml.EntityDescriptor, had bool, md *saml.EntityDescriptor) error {
			if had && md.EntityID != old.EntityID {
				return fmt.Errorf("service provider %q: metadata changed entity ID from %q to %q; kept the old metadata", r.name, old.EntityID, md.EntityID)
			}
			return nil
		},
		Client:       g.client,
		AcceptHeader: "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1",
		Now:          g.now,
		TTL:          r.refresh,
		RetryAfter:   retryAfterFailure,
		MaxStale:     fetch.Forever,
		Timeout:      metadataFetchTimeout,
		MaxBytes:     MaxMetadataBytes,
		OnFailure: func(err error, _ time.Time) {
			g.log.Warn("service provider metadata", "sp", r.name, "url", r.metadataURL, "err", err)
		},
	}
}

// checkEntities refuses two providers with one entity ID.
func (g *registry) checkEntities() error {
	seen := map[string]string{}
	for _, p := range g.sps {
		md, err := p.metadata()
		if err != nil {
			continue
		}
		if other, dup := seen[md.EntityID]; dup {
			return fmt.Errorf("service providers %q and %q have the same entity ID %q", other, p.cfg.name, md.EntityID)
		}
		seen[md.EntityID] = p.cfg.name
	}
	return nil
}

// refresh fetches p's metadata URL when it is due (fetch.Fetcher): never
// fetched, older than its refresh interval, and not failed within
// retryAfterFailure. One fetch runs at a time per provider; meanwhile
// callers that have metadata use it. A failed fetch keeps the previous
// metadata.
func (g *registry) refresh(ctx context.Context, p *provider) {
	p.mu.Lock()
	remote := p.remote
	p.mu.Unlock()
	if remote != nil {
		remote.Get(ctx, false) // the outcome is read with p.metadata()
	}
}

// byName returns the provider called name, its metadata refreshed when due.
func (g *registry) byName(ctx context.Context, name string) (*provider, bool) {
	p, ok := g.Catalog.lookup(name)
	if ok {
		g.refresh(ctx, p)
	}
	return p, ok
}

// byEntityID returns the provider whose metadata has entityID.
func (g *registry) byEntityID(ctx context.Context, entityID string) (*provider, *saml.EntityDescriptor, bool) {
	for _, p := range g.all() {
		g.refresh(ctx, p)
		if md, err := p.metadata(); err == nil && md.EntityID == entityID {
			return p, md, true
		}
	}
	return nil, nil, false
}

// GetServiceProvider implements saml.ServiceProviderProvider: the metadata
// of the provider with entity ID serviceProviderID, os.ErrNotExist for any
// other.
func (g *registry) GetServiceProvider(r *http.Request, serviceProviderID string) (*saml.EntityDescriptor, error) {
	p, md, ok := g.byEntityID(r.Context(), serviceProviderID)
	if !ok {
		return nil, os.ErrNotExist
	}
	return p.forIdP(md), nil
}

var _ saml.ServiceProviderProvider = (*registry)(nil)
var _ AppLister = (*Catalog)(nil)
