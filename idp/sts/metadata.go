package sts

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"idpbridge/idp/internal/fetch"
)

const mdNS = "urn:oasis:names:tc:SAML:2.0:metadata"

// ParseSAMLMetadata reads an IdP's SAML metadata (one EntityDescriptor with
// an IDPSSODescriptor) and returns its entityID and the certificates of its
// signing keys (KeyDescriptor use="signing" or without use). A DOCTYPE is
// refused.
func ParseSAMLMetadata(raw []byte) (SAMLMetadata, error) {
	if bytes.Contains(raw, []byte("<!DOCTYPE")) || bytes.Contains(raw, []byte("<!ENTITY")) {
		return SAMLMetadata{}, errors.New("saml metadata: a DOCTYPE is not allowed")
	}
	var ed struct {
		XMLName  xml.Name
		EntityID string `xml:"entityID,attr"`
		IDP      []struct {
			Keys []struct {
				Use   string   `xml:"use,attr"`
				Certs []string `xml:"http://www.w3.org/2000/09/xmldsig# KeyInfo>X509Data>X509Certificate"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:metadata KeyDescriptor"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:metadata IDPSSODescriptor"`
	}
	if err := xml.Unmarshal(raw, &ed); err != nil {
		return SAMLMetadata{}, fmt.Errorf("saml metadata: %w", err)
	}
	if ed.XMLName.Space != mdNS || ed.XMLName.Local != "EntityDescriptor" {
		return SAMLMetadata{}, fmt.Errorf("saml metadata: the root element is %s, want an md:EntityDescriptor", ed.XMLName.Local)
	}
	if ed.EntityID == "" {
		return SAMLMetadata{}, errors.New("saml metadata: the EntityDescriptor has no entityID")
	}
	if len(ed.IDP) == 0 {
		return SAMLMetadata{}, errors.New("saml metadata: no IDPSSODescriptor")
	}
	md := SAMLMetadata{EntityID: ed.EntityID}
	for _, idp := range ed.IDP {
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.Certs {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
				if err != nil {
					return SAMLMetadata{}, fmt.Errorf("saml metadata: X509Certificate: %w", err)
				}
				cert, err := x509.ParseCertificate(der)
				if err != nil {
					return SAMLMetadata{}, fmt.Errorf("saml metadata: X509Certificate: %w", err)
				}
				md.Certs = append(md.Certs, cert)
			}
		}
	}
	if len(md.Certs) == 0 {
		return SAMLMetadata{}, errors.New("saml metadata: no signing certificate")
	}
	return md, nil
}

// MetadataURL fetches an IdP's metadata over HTTP and keeps it for TTL
// (default 1 hour). When a fetch fails the last good copy is used until it
// is older than MaxStale (default 24 hours), and no fetch is made for
// DefaultKeysRetryAfter. Simultaneous callers share one fetch
// (idp/internal/fetch).
type MetadataURL struct {
	URL      string
	Client   *http.Client
	Now      func() time.Time
	TTL      time.Duration
	MaxStale time.Duration

	once    sync.Once
	fetcher *fetch.Fetcher[SAMLMetadata]
}

// Metadata returns the current metadata, fetching it when needed.
func (m *MetadataURL) Metadata(ctx context.Context) (SAMLMetadata, error) {
	m.once.Do(func() {
		ttl, stale := orDefault(m.TTL, time.Hour), orDefault(m.MaxStale, 24*time.Hour)
		m.fetcher = &fetch.Fetcher[SAMLMetadata]{
			URL: m.URL, Parse: ParseSAMLMetadata, Client: m.Client, Now: m.Now,
			TTL: ttl, MinRefresh: ttl, RetryAfter: DefaultKeysRetryAfter,
			// MaxStale counts from the fetch here, past the TTL there.
			MaxStale: max(stale-ttl, 0),
			Timeout:  DefaultKeysTimeout, MaxBytes: maxDocument,
		}
	})
	return m.fetcher.Get(ctx, false)
}
