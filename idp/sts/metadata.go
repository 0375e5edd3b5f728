package sts

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
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
// is older than MaxStale (default 24 hours).
type MetadataURL struct {
	URL      string
	Client   *http.Client
	Now      func() time.Time
	TTL      time.Duration
	MaxStale time.Duration

	mu      sync.Mutex
	md      SAMLMetadata
	fetched time.Time
}

// Metadata returns the current metadata, fetching it when needed.
func (m *MetadataURL) Metadata(ctx context.Context) (SAMLMetadata, error) {
	ttl, stale := m.TTL, m.MaxStale
	if ttl <= 0 {
		ttl = time.Hour
	}
	if stale <= 0 {
		stale = 24 * time.Hour
	}
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	have := m.md.EntityID != ""
	if have && now.Sub(m.fetched) < ttl {
		return m.md, nil
	}
	md, err := m.fetch(ctx)
	if err != nil {
		if have && now.Sub(m.fetched) < stale {
			return m.md, nil
		}
		return SAMLMetadata{}, err
	}
	m.md, m.fetched = md, now
	return md, nil
}

func (m *MetadataURL) fetch(ctx context.Context) (SAMLMetadata, error) {
	client := m.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.URL, nil)
	if err != nil {
		return SAMLMetadata{}, fmt.Errorf("fetch %s: %w", m.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return SAMLMetadata{}, fmt.Errorf("fetch %s: %w", m.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return SAMLMetadata{}, fmt.Errorf("fetch %s: HTTP %d", m.URL, resp.StatusCode)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return SAMLMetadata{}, fmt.Errorf("fetch %s: %w", m.URL, err)
	}
	if len(raw) > maxDocument {
		return SAMLMetadata{}, fmt.Errorf("fetch %s: larger than %d bytes", m.URL, maxDocument)
	}
	return ParseSAMLMetadata(raw)
}
