package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
)

// The console's service providers (/admin/providers): every SAML service
// provider with its entity ID, ACS URLs, certificate expiry, sign mode and
// mapping; those of the configuration file read-only, those added here
// (by metadata upload, metadata URL, or entity ID and ACS URL) kept in the
// store and deletable. Every change writes AdminServiceProviderAdded or
// AdminServiceProviderDeleted in the transaction of the change, and every
// replica picks it up at its next reload of the catalog.

// ProviderCatalog is what the pages use of sso.Catalog.
type ProviderCatalog interface {
	Providers() []sso.ProviderInfo
	MappingNames() []string
	CheckServiceProvider(rec *store.ServiceProvider) error
	IsConfigured(name string) bool
	LoadStored(ctx context.Context, src sso.StoredProviders) error
}

var _ ProviderCatalog = (*sso.Catalog)(nil)

// ProviderStore keeps the stored providers and, with Trail, writes a
// change and its audit record in one transaction.
type ProviderStore interface {
	store.ServiceProviderStore
	InTx(ctx context.Context, fn func(tx store.Tx) error) error
}

// TxTrail appends audit records in a transaction (audit.Writer).
type TxTrail interface {
	Append(ctx context.Context, tx store.Tx, recs ...audit.Record) error
}

// ProvidersOptions configure the service provider pages.
type ProvidersOptions struct {
	Catalog ProviderCatalog
	Store   ProviderStore
	Trail   TxTrail
	// HTTPClient fetches metadata URLs (sso.FetchSPMetadata bounds the
	// time and size); nil: http.DefaultClient.
	HTTPClient *http.Client
}

// CertExpiryWarning is how close to its expiry a certificate is flagged.
const CertExpiryWarning = 30 * 24 * time.Hour

// ProvidersPage is the Page of "admin_providers".
type ProvidersPage struct {
	Providers []ProviderRow
	Mappings  []string
}

// ProviderRow is one provider as the table shows it.
type ProviderRow struct {
	sso.ProviderInfo
	Certs []CertRow
}

// CertRow is one certificate with its expiry worded against now.
type CertRow struct {
	Use, Subject string
	Expiry       string // "2027-01-02 (in 395 days)", "expired 2025-01-02"
	Warn         bool   // expired or expiring within CertExpiryWarning
}

// AdminProviderPages returns the handlers of GET /admin/providers, POST
// /admin/providers (add) and POST /admin/providers/{name}/delete.
func (p *IdP) AdminProviderPages(opt ProvidersOptions) (list, add, del http.Handler) {
	if opt.HTTPClient == nil {
		opt.HTTPClient = http.DefaultClient
	}
	list = p.AdminPage("providers", "admin_providers", func(*http.Request, idp.Session) (any, error) {
		now := p.opt.Now()
		page := ProvidersPage{Mappings: opt.Catalog.MappingNames()}
		for _, info := range opt.Catalog.Providers() {
			row := ProviderRow{ProviderInfo: info}
			for _, c := range info.Certificates {
				row.Certs = append(row.Certs, certRow(c, now))
			}
			page.Providers = append(page.Providers, row)
		}
		return page, nil
	})
	add = p.AdminAction(func(w http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
		rec, err := providerFromForm(r, opt.HTTPClient)
		if err != nil {
			return "", err
		}
		rec.CreatedBy, rec.CreatedAt = s.Identity.QualifiedName(), p.opt.Now().UTC().Truncate(time.Microsecond)
		if err := opt.Catalog.CheckServiceProvider(&rec); err != nil {
			return "", err
		}
		ev, err := p.AdminEvent(r, s, audit.AdminServiceProviderAdded, audit.TargetServiceProvider, rec.Name, nil, providerSummary(rec))
		if err != nil {
			return "", err
		}
		err = opt.Store.InTx(r.Context(), func(tx store.Tx) error {
			if err := tx.CreateServiceProvider(r.Context(), rec); err != nil {
				return err
			}
			return opt.Trail.Append(r.Context(), tx, ev)
		})
		switch {
		case errors.Is(err, store.ErrConflict):
			return "", idp.Errorf(idp.EConflict, "A service provider called %q or with entity ID %q already exists.", rec.Name, rec.EntityID)
		case err != nil:
			return "", fmt.Errorf("add service provider %q: %w", rec.Name, err)
		}
		p.reloadProviders(r.Context(), opt)
		return AdminNotice("/admin/providers", fmt.Sprintf("Added service provider %s (entity ID %s).", rec.Name, rec.EntityID)), nil
	})
	del = p.AdminAction(func(w http.ResponseWriter, r *http.Request, s idp.Session) (string, error) {
		name := r.PathValue("name")
		if opt.Catalog.IsConfigured(name) {
			return "", idp.Errorf(idp.EInvalid, "Service provider %q is defined in the configuration file; remove it there.", name)
		}
		var before store.ServiceProvider
		err := opt.Store.InTx(r.Context(), func(tx store.Tx) error {
			var err error
			if before, err = tx.GetServiceProvider(r.Context(), name); err != nil {
				return err
			}
			if err := tx.DeleteServiceProvider(r.Context(), name); err != nil {
				return err
			}
			ev, err := p.AdminEvent(r, s, audit.AdminServiceProviderDeleted, audit.TargetServiceProvider, name, providerSummary(before), nil)
			if err != nil {
				return err
			}
			return opt.Trail.Append(r.Context(), tx, ev)
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return "", idp.Errorf(idp.ENotFound, "There is no stored service provider %q.", name)
		case err != nil:
			return "", fmt.Errorf("delete service provider %q: %w", name, err)
		}
		p.reloadProviders(r.Context(), opt)
		return AdminNotice("/admin/providers", fmt.Sprintf("Deleted service provider %s.", name)), nil
	})
	return list, add, del
}

// ProviderJSON is one service provider in GET /admin/api/service-providers.
type ProviderJSON struct {
	Name          string     `json:"name"`
	DisplayName   string     `json:"displayName"`
	EntityID      string     `json:"entityId"`
	ACSURLs       []string   `json:"acsUrls"`
	Mapping       string     `json:"mapping"`
	Sign          string     `json:"sign"`
	Stored        bool       `json:"stored"`
	Source        string     `json:"source"`
	Certificates  []CertJSON `json:"certificates"`
	MetadataError string     `json:"metadataError,omitempty"`
	CreatedBy     string     `json:"createdBy,omitempty"`
	CreatedAt     *time.Time `json:"createdAt,omitempty"`
}

// CertJSON is one certificate of a provider's metadata.
type CertJSON struct {
	Use      string    `json:"use"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
	// ExpiresSoon: expired, unreadable, or expiring within
	// CertExpiryWarning.
	ExpiresSoon bool   `json:"expiresSoon"`
	Error       string `json:"error,omitempty"`
}

// ServiceProvidersAPI is GET /admin/api/service-providers: every service
// provider as the console's list shows it, {"serviceProviders": [...]}.
func (p *IdP) ServiceProvidersAPI(cat ProviderCatalog) APIFunc {
	return func(*http.Request) (any, error) {
		now := p.opt.Now()
		out := []ProviderJSON{}
		for _, info := range cat.Providers() {
			j := ProviderJSON{Name: info.Name, DisplayName: info.DisplayName, EntityID: info.EntityID, ACSURLs: info.ACSURLs,
				Mapping: info.Mapping, Sign: info.Sign, Stored: info.Stored, Source: info.Source, MetadataError: info.MetadataError,
				CreatedBy: info.CreatedBy, Certificates: []CertJSON{}}
			if j.ACSURLs == nil {
				j.ACSURLs = []string{}
			}
			if !info.CreatedAt.IsZero() {
				at := info.CreatedAt
				j.CreatedAt = &at
			}
			for _, c := range info.Certificates {
				j.Certificates = append(j.Certificates, CertJSON{Use: c.Use, Subject: c.Subject, NotAfter: c.NotAfter,
					ExpiresSoon: certRow(c, now).Warn, Error: c.Err})
			}
			out = append(out, j)
		}
		return map[string]any{"serviceProviders": out}, nil
	}
}

// reloadProviders makes a change visible on this replica at once; the
// others see it at their next periodic reload.
func (p *IdP) reloadProviders(ctx context.Context, opt ProvidersOptions) {
	if err := opt.Catalog.LoadStored(ctx, opt.Store); err != nil {
		p.log.WarnContext(ctx, "reload stored service providers", "err", err)
	}
}

// providerFromForm reads the add form: name, display_name, mapping, sign,
// and by method "upload" the file field metadata, by "url" metadata_url
// (fetched now), by "manual" entity_id and acs_url.
func providerFromForm(r *http.Request, client *http.Client) (store.ServiceProvider, error) {
	field := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	rec := store.ServiceProvider{Name: field("name"), DisplayName: field("display_name"), Mapping: field("mapping"), Sign: field("sign")}
	switch m := field("method"); m {
	case "upload":
		if r.MultipartForm == nil || len(r.MultipartForm.File["metadata"]) == 0 {
			return rec, idp.Errorf(idp.EInvalid, "metadata: choose the service provider's metadata file to upload.")
		}
		f, err := r.MultipartForm.File["metadata"][0].Open()
		if err != nil {
			return rec, idp.Errorf(idp.EInvalid, "metadata: the uploaded file cannot be read: %v", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, sso.MaxMetadataBytes+1))
		if err != nil {
			return rec, idp.Errorf(idp.EInvalid, "metadata: the uploaded file cannot be read: %v", err)
		}
		if len(strings.TrimSpace(string(data))) == 0 {
			return rec, idp.Errorf(idp.EInvalid, "metadata: the uploaded file is empty.")
		}
		rec.Metadata = data
	case "url":
		u := field("metadata_url")
		if u == "" {
			return rec, idp.Errorf(idp.EInvalid, "metadata_url: give the URL of the service provider's metadata.")
		}
		data, err := sso.FetchSPMetadata(r.Context(), client, u)
		if err != nil {
			return rec, err
		}
		rec.Metadata, rec.MetadataURL = data, u
	case "manual":
		rec.EntityID, rec.ACSURL = field("entity_id"), field("acs_url")
	default:
		return rec, idp.Errorf(idp.EInvalid, "method: %q is not upload, url or manual.", m)
	}
	return rec, nil
}

// providerSummary is what the audit record says of a provider: everything
// but the metadata document.
func providerSummary(rec store.ServiceProvider) map[string]string {
	m := map[string]string{"name": rec.Name, "entityId": rec.EntityID, "mapping": rec.Mapping}
	for k, v := range map[string]string{"displayName": rec.DisplayName, "sign": rec.Sign, "metadataUrl": rec.MetadataURL, "acsUrl": rec.ACSURL} {
		if v != "" {
			m[k] = v
		}
	}
	if rec.Metadata != nil {
		m["metadata"] = fmt.Sprintf("%d bytes", len(rec.Metadata))
	}
	return m
}

func certRow(c sso.CertInfo, now time.Time) CertRow {
	row := CertRow{Use: c.Use, Subject: c.Subject}
	if row.Use == "" {
		row.Use = "signing and encryption"
	}
	if c.Err != "" {
		row.Expiry, row.Warn = "unreadable: "+c.Err, true
		return row
	}
	left := c.NotAfter.Sub(now)
	day := c.NotAfter.Format("2006-01-02")
	switch {
	case left <= 0:
		row.Expiry, row.Warn = "expired "+day, true
	default:
		days := int(left / (24 * time.Hour))
		row.Expiry, row.Warn = fmt.Sprintf("%s (in %d days)", day, days), left < CertExpiryWarning
	}
	return row
}
