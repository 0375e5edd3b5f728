package sso

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"idpbridge/idp"
	"idpbridge/idp/store"
)

// StoredProviders lists the service providers added in the admin console
// (store.ServiceProviderStore has this method).
type StoredProviders interface {
	ListServiceProviders(ctx context.Context) ([]store.ServiceProvider, error)
}

// storedSet is the catalog's current stored providers.
type storedSet struct {
	sps    []*provider // by name
	byName map[string]*provider
	recs   map[string]store.ServiceProvider
}

// all returns the configured providers, then the stored ones.
func (c *Catalog) all() []*provider {
	set := c.stored.Load()
	if set == nil || len(set.sps) == 0 {
		return c.sps
	}
	out := make([]*provider, 0, len(c.sps)+len(set.sps))
	return append(append(out, c.sps...), set.sps...)
}

// lookup finds a provider by name, configured ones first.
func (c *Catalog) lookup(name string) (*provider, bool) {
	if p, ok := c.byName[name]; ok {
		return p, true
	}
	if set := c.stored.Load(); set != nil {
		p, ok := set.byName[name]
		return p, ok
	}
	return nil, false
}

// LoadStored replaces the catalog's stored service providers with those
// src lists now; call it after a change in the console and periodically,
// so that every replica sees the change. A stored provider that no longer
// fits (its mapping is gone, its name or entity ID is now a configured
// provider's, its metadata is refused) is left out and named in the
// error; the others are used. A failing src leaves the current set.
func (c *Catalog) LoadStored(ctx context.Context, src StoredProviders) error {
	recs, err := src.ListServiceProviders(ctx)
	if err != nil {
		return fmt.Errorf("sso: list stored service providers: %w", err)
	}
	set := &storedSet{byName: map[string]*provider{}, recs: map[string]store.ServiceProvider{}}
	entities := c.configuredEntities()
	var errs []error
	for _, rec := range recs {
		p, err := c.storedProvider(rec)
		if err == nil {
			if other, dup := entities[p.cfg.entityID]; dup {
				err = fmt.Errorf("entity ID %q is already service provider %q's", p.cfg.entityID, other)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("stored service provider %q: %w", rec.Name, err))
			continue
		}
		entities[p.cfg.entityID] = rec.Name
		set.sps = append(set.sps, p)
		set.byName[rec.Name] = p
		set.recs[rec.Name] = rec
	}
	sort.Slice(set.sps, func(i, j int) bool { return set.sps[i].cfg.name < set.sps[j].cfg.name })
	c.stored.Store(set)
	return errors.Join(errs...)
}

// configuredEntities maps the entity IDs of the configured providers
// known without fetching (and those whose metadata is loaded) to their
// names.
func (c *Catalog) configuredEntities() map[string]string {
	out := map[string]string{}
	for _, p := range c.sps {
		if p.cfg.entityID != "" {
			out[p.cfg.entityID] = p.cfg.name
		}
		p.mu.Lock()
		if p.md != nil {
			out[p.md.EntityID] = p.cfg.name
		}
		p.mu.Unlock()
	}
	return out
}

// storedProvider builds the provider of a stored record, checking it as
// the configuration is checked.
func (c *Catalog) storedProvider(rec store.ServiceProvider) (*provider, error) {
	if !spNameRe.MatchString(rec.Name) {
		return nil, fmt.Errorf("the name %q may have only letters, digits, '.', '_' and '-' (at most 64)", rec.Name)
	}
	if _, ok := c.byName[rec.Name]; ok {
		return nil, fmt.Errorf("%q is the name of a service provider of the configuration file", rec.Name)
	}
	m, ok := c.configMappings[rec.Mapping]
	if !ok {
		return nil, fmt.Errorf("unknown mapping %q (known: %s)", rec.Mapping, strings.Join(c.MappingNames(), ", "))
	}
	cfg := ServiceProviderConfig{Name: rec.Name, DisplayName: rec.DisplayName, Mapping: rec.Mapping, Sign: rec.Sign,
		EntityID: rec.EntityID, ACSURL: rec.ACSURL}
	var md *saml.EntityDescriptor
	if rec.Metadata != nil {
		var err error
		if md, err = ParseSPMetadata(bytes.TrimSpace(rec.Metadata), rec.EntityID); err != nil {
			return nil, err
		}
		// The first ACS stands in for the configuration's acs_url, to be
		// checked like it; the metadata keeps all of them.
		cfg.EntityID, cfg.ACSURL = md.EntityID, md.SPSSODescriptors[0].AssertionConsumerServices[0].Location
	}
	switch {
	case cfg.EntityID == "":
		return nil, errors.New("an entity ID is required")
	case cfg.ACSURL == "":
		return nil, errors.New("an assertion consumer service URL is required")
	}
	r, problems := resolveConfig(cfg, c.baseURL)
	if len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, pr := range problems {
			msgs[i] = pr.Msg
		}
		return nil, errors.New(strings.Join(msgs, "; "))
	}
	if md == nil {
		md = staticMetadata(r.entityID, r.acsURL)
	}
	return &provider{cfg: r, mapping: m, md: md}, nil
}

// MappingNames lists the mappings a service provider may use, by name.
func (c *Catalog) MappingNames() []string {
	out := make([]string, 0, len(c.configMappings))
	for name := range c.configMappings {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// CheckServiceProvider checks a service provider the console is about to
// store, against the configured and stored ones: a valid name free among
// both, a known mapping, a sign mode, and either metadata that
// ParseSPMetadata accepts (rec.EntityID is then set from it) or an entity
// ID with an http(s) assertion consumer service URL (no javascript: or
// data:, CVE-2023-45683). Every refusal is an *idp.Error with code
// invalid naming the problem, or conflict for a taken name or entity ID.
func (c *Catalog) CheckServiceProvider(rec *store.ServiceProvider) error {
	if rec.Name == "" {
		return idp.Errorf(idp.EInvalid, "name: required")
	}
	if rec.Sign != "" && !validSign(rec.Sign) {
		return idp.Errorf(idp.EInvalid, "sign: %q is not one of response, assertion, both", rec.Sign)
	}
	if rec.Metadata != nil && rec.ACSURL != "" {
		return idp.Errorf(idp.EInvalid, "acs_url: give metadata or an entity ID with an ACS URL, not both")
	}
	if rec.Metadata == nil && rec.ACSURL != "" {
		if err := checkHTTPURL(rec.ACSURL); err != nil {
			return idp.Errorf(idp.EInvalid, "acs_url: %v", err)
		}
	}
	p, err := c.storedProvider(*rec)
	if err != nil {
		return idp.Errorf(idp.EInvalid, "%v", err)
	}
	rec.EntityID = p.cfg.entityID
	if set := c.stored.Load(); set != nil {
		if _, dup := set.byName[rec.Name]; dup {
			return idp.Errorf(idp.EConflict, "a service provider called %q already exists", rec.Name)
		}
	}
	for _, other := range c.all() {
		if other.cfg.entityID == rec.EntityID {
			return idp.Errorf(idp.EConflict, "entity ID %q is already service provider %q's", rec.EntityID, other.cfg.name)
		}
		if md, err := other.metadata(); err == nil && md.EntityID == rec.EntityID {
			return idp.Errorf(idp.EConflict, "entity ID %q is already service provider %q's", rec.EntityID, other.cfg.name)
		}
	}
	return nil
}

// IsConfigured reports whether name is a service provider of the
// configuration file (read-only in the console).
func (c *Catalog) IsConfigured(name string) bool {
	_, ok := c.byName[name]
	return ok
}

// FetchSPMetadata GETs a service provider's metadata from url for the
// console to store: an http(s) URL, answered with 2xx within the client's
// timeout (and at most 15 seconds), at most MaxMetadataBytes. Refusals are
// *idp.Error invalid naming the problem.
func FetchSPMetadata(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if err := checkHTTPURL(url); err != nil {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: %v", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml;q=0.9, */*;q=0.1")
	resp, err := client.Do(req)
	if err != nil {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: fetching %s failed: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: %s answered %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxMetadataBytes+1))
	if err != nil {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: reading %s failed: %v", url, err)
	}
	if len(data) > MaxMetadataBytes {
		return nil, idp.Errorf(idp.EInvalid, "metadata_url: %s sent more than %d bytes", url, MaxMetadataBytes)
	}
	return bytes.TrimSpace(data), nil
}

// ProviderInfo describes one service provider for the console.
type ProviderInfo struct {
	Name        string
	DisplayName string
	EntityID    string   // "" while a metadata URL has not been fetched
	ACSURLs     []string // distinct, in metadata order
	Mapping     string
	Sign        string // response, assertion or both
	// Stored: added in the console (deletable); otherwise from the
	// configuration file (read-only), with Source saying where.
	Stored bool
	Source string // "metadata_file /etc/...", "metadata_url https://...", "entity_id and acs_url", "preset aws", "console: metadata upload", ...
	// Certificates are the SP's certificates in its metadata.
	Certificates []CertInfo
	// MetadataError says why the metadata is not available.
	MetadataError string
	CreatedBy     string
	CreatedAt     time.Time
}

// CertInfo is one certificate of a provider's metadata.
type CertInfo struct {
	Use      string // signing, encryption or "" (both)
	Subject  string
	NotAfter time.Time
	Err      string // the certificate could not be read
}

// Providers describes every service provider: the configured ones in
// configuration order, then the stored ones by name.
func (c *Catalog) Providers() []ProviderInfo {
	set := c.stored.Load()
	var out []ProviderInfo
	for _, p := range c.all() {
		info := ProviderInfo{
			Name: p.cfg.name, DisplayName: p.cfg.displayName, EntityID: p.cfg.entityID,
			Mapping: p.cfg.mapping, Sign: p.cfg.sign,
		}
		if rec, ok := storedRecord(set, p.cfg.name); ok && !c.IsConfigured(p.cfg.name) {
			info.Stored, info.CreatedBy, info.CreatedAt = true, rec.CreatedBy, rec.CreatedAt
			switch {
			case rec.MetadataURL != "":
				info.Source = "console: metadata from " + rec.MetadataURL
			case rec.Metadata != nil:
				info.Source = "console: metadata upload"
			default:
				info.Source = "console: entity ID and ACS URL"
			}
		} else {
			switch {
			case p.cfg.metadataFile != "":
				info.Source = "configuration: metadata_file " + p.cfg.metadataFile
			case p.cfg.metadataURL != "":
				info.Source = "configuration: metadata_url " + p.cfg.metadataURL
			case p.cfg.preset != "":
				info.Source = "configuration: preset " + p.cfg.preset
			default:
				info.Source = "configuration: entity_id and acs_url"
			}
		}
		md, err := p.metadata()
		if err != nil {
			info.MetadataError = err.Error()
		} else {
			info.EntityID = md.EntityID
			for _, d := range md.SPSSODescriptors {
				for _, ep := range d.AssertionConsumerServices {
					if !slices.Contains(info.ACSURLs, ep.Location) {
						info.ACSURLs = append(info.ACSURLs, ep.Location)
					}
				}
				for _, kd := range d.KeyDescriptors {
					for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
						info.Certificates = append(info.Certificates, certInfo(kd.Use, xc.Data))
					}
				}
			}
		}
		out = append(out, info)
	}
	return out
}

func storedRecord(set *storedSet, name string) (store.ServiceProvider, bool) {
	if set == nil {
		return store.ServiceProvider{}, false
	}
	rec, ok := set.recs[name]
	return rec, ok
}

// certInfo reads a base64 DER certificate of metadata.
func certInfo(use, data string) CertInfo {
	ci := CertInfo{Use: use}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(data), ""))
	if err != nil {
		ci.Err = "not base64: " + err.Error()
		return ci
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		ci.Err = err.Error()
		return ci
	}
	ci.Subject, ci.NotAfter = cert.Subject.String(), cert.NotAfter.UTC()
	return ci
}
