package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
	"idpbridge/idp/web"
	"idpbridge/templates"
)

// MappingsConfig is the mappings section: named attribute mappings, each
// an attributes.MappingConfig.
//
//	mappings:
//	  - name: aws-default
//	    source_identity: {from: sAMAccountName, transforms: [lowercase], required: true}
//	    role_session_name: {from: mail}
//	    session_duration: 3600
//	    roles:
//	      - group: '^AWS-(\d{12})-(.+)$'
//	        role_arn: 'arn:aws:iam::$1:role/$2'
//	        provider_arn: 'arn:aws:iam::$1:saml-provider/idpbridge'
type MappingsConfig = []attributes.MappingConfig

// ServiceProvidersConfig is the service_providers section, each an
// sso.ServiceProviderConfig:
//
//	service_providers:
//	  - {name: aws, preset: aws, mapping: aws-default}
//	  - {name: wiki, mapping: staff, metadata_url: https://wiki.example.com/saml/metadata, metadata_refresh: 1h}
//
// With no service provider configured, serve offers "aws" (AWS sign-in) and
// "builtin" (the built-in STS) on the mapping "dev" (sso.WithDefaults).
type ServiceProvidersConfig = []sso.ServiceProviderConfig

// ssoConfig returns the service providers and mappings in effect, the
// zero-config ones when none is configured.
func (c *Config) ssoConfig() ([]sso.ServiceProviderConfig, []attributes.MappingConfig) {
	return sso.WithDefaults(c.ServiceProviders, c.Mappings)
}

// validateSSO checks the mappings and service providers in effect, reading
// metadata files.
func (c *Config) validateSSO(p *problems) {
	sps, ms := c.ssoConfig()
	*p = append(*p, sso.ValidateConfig(sps, ms, sso.ValidateOptions{BaseURL: c.Server.BaseURL, ReadFile: os.ReadFile})...)
}

// wireSSO mounts the SAML identity provider on srv (/saml/metadata,
// /saml/sso, /saml/idp-initiated, /saml/slo) over the browser sessions of
// webp, lists its applications on the portal, and mounts
// GET /admin/api/mappings/test behind the admin guard. Assertions and
// mapping failures are recorded through events; an assertion whose record
// cannot be written is not sent. The signing keys are the store's, opened
// with kek.
func (m *Main) wireSSO(ctx context.Context, cfg *Config, srv *web.Server, s store.Store, kek []byte, webp *webParts, events sso.EventLog, log *slog.Logger) (*sso.IdP, error) {
	pages, err := ui.Load(templates.FS, sso.Pages...)
	if err != nil {
		return nil, err
	}
	sps, ms := cfg.ssoConfig()
	p, err := sso.New(ctx, sso.Options{
		BaseURL:          cfg.Server.BaseURL,
		ServiceProviders: sps,
		Mappings:         ms,
		Sessions:         webp.IdP,
		Pages:            pages,
		Events:           events,
		Keys:             &sso.StoreKeys{Store: s, KEK: kek, Now: m.Now},
		Logger:           log,
		Now:              m.Now,
		Rand:             m.Rand,
		TrustedProxies:   webp.Proxies,
	})
	if err != nil {
		return nil, err
	}
	p.Routes(srv)
	webp.IdP.SetApps(p)
	srv.Handle("GET /admin/api/mappings/test", webp.IdP.AdminAPI(sso.MappingTest(p.Catalog(), webp.People)))
	return p, nil
}

// storePeople finds local accounts for mapping tests.
type storePeople struct{ users store.UserStore }

var _ sso.People = storePeople{}

// LookupIdentity implements sso.People with the identity the local
// connector builds at sign-in.
func (sp storePeople) LookupIdentity(ctx context.Context, username string) (idp.Identity, bool, error) {
	u, err := sp.users.GetUser(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return idp.Identity{}, false, nil
	}
	if err != nil {
		return idp.Identity{}, false, err
	}
	return local.Identity(u), true, nil
}
