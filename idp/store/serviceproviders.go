package store

import (
	"context"
	"time"
)

// ServiceProviderStore keeps the SAML service providers added in the admin
// console; those of the configuration file are not stored.
type ServiceProviderStore interface {
	// CreateServiceProvider stores a new service provider. ErrConflict
	// when its name or its entity ID is taken.
	CreateServiceProvider(ctx context.Context, sp ServiceProvider) error
	// ListServiceProviders returns every stored service provider ordered
	// by name.
	ListServiceProviders(ctx context.Context) ([]ServiceProvider, error)
	// GetServiceProvider finds a service provider by name. ErrNotFound.
	GetServiceProvider(ctx context.Context, name string) (ServiceProvider, error)
	// DeleteServiceProvider removes the service provider called name.
	// ErrNotFound.
	DeleteServiceProvider(ctx context.Context, name string) error
}

// ServiceProvider is a SAML service provider added in the admin console:
// either its metadata (uploaded, or fetched once from MetadataURL), or an
// entity ID with one assertion consumer service URL.
type ServiceProvider struct {
	Name        string // unique; the name people and the CLI use
	EntityID    string // unique
	DisplayName string
	Mapping     string // the name of the attribute mapping
	Sign        string // response, assertion, both, or "" for the default
	// Metadata is the SP's SAML metadata document as received; nil when
	// the provider was added by entity ID and ACSURL.
	Metadata []byte
	// MetadataURL is where Metadata was fetched from; "" for an upload.
	MetadataURL string
	// ACSURL is the assertion consumer service of a provider added
	// without metadata.
	ACSURL    string
	CreatedBy string // the administrator's qualified name
	CreatedAt time.Time
}
