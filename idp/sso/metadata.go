package sso

import (
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/crewjam/saml"
)

// ParseSPMetadata reads a service provider's metadata: one EntityDescriptor,
// or an EntitiesDescriptor holding it (the entity whose entityID is
// entityID, or the only one with an SPSSODescriptor when entityID is
// empty). The document is bounded (MaxMetadataBytes, element count, depth),
// must have no DOCTYPE and survive an XML round trip. The entity must have
// an SPSSODescriptor with at least one AssertionConsumerService, and every
// AssertionConsumerService and SingleLogoutService location must be an
// http(s) URL: metadata pointing a browser at javascript: or data: is
// refused (CVE-2023-45683).
func ParseSPMetadata(data []byte, entityID string) (*saml.EntityDescriptor, error) {
	if len(data) > MaxMetadataBytes {
		return nil, fmt.Errorf("metadata larger than %d bytes", MaxMetadataBytes)
	}
	if err := checkXMLShape(data, maxMetadataElements, maxMetadataDepth); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	const mdNS = "urn:oasis:names:tc:SAML:2.0:metadata"
	var ed *saml.EntityDescriptor
	switch root.XMLName {
	case xml.Name{Space: mdNS, Local: "EntityDescriptor"}:
		ed = &saml.EntityDescriptor{}
		if err := xml.Unmarshal(data, ed); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if entityID != "" && ed.EntityID != entityID {
			return nil, fmt.Errorf("metadata is for entity %q, not %q", ed.EntityID, entityID)
		}
	case xml.Name{Space: mdNS, Local: "EntitiesDescriptor"}:
		var all saml.EntitiesDescriptor
		if err := xml.Unmarshal(data, &all); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		var found []*saml.EntityDescriptor
		collectSPEntities(&all, entityID, &found)
		switch {
		case len(found) == 0 && entityID != "":
			return nil, fmt.Errorf("metadata has no service provider entity %q", entityID)
		case len(found) == 0:
			return nil, errors.New("metadata has no entity with an SPSSODescriptor")
		case len(found) > 1:
			return nil, fmt.Errorf("metadata has %d service provider entities; set entity_id to choose one", len(found))
		}
		ed = found[0]
	default:
		return nil, fmt.Errorf("metadata root is %s, not an md:EntityDescriptor or md:EntitiesDescriptor", root.XMLName.Local)
	}
	if err := checkSPEntity(ed); err != nil {
		return nil, err
	}
	return ed, nil
}

func collectSPEntities(all *saml.EntitiesDescriptor, entityID string, out *[]*saml.EntityDescriptor) {
	for i := range all.EntityDescriptors {
		e := &all.EntityDescriptors[i]
		if len(e.SPSSODescriptors) == 0 || (entityID != "" && e.EntityID != entityID) {
			continue
		}
		*out = append(*out, e)
	}
	for i := range all.EntitiesDescriptors {
		collectSPEntities(&all.EntitiesDescriptors[i], entityID, out)
	}
}

// checkSPEntity requires an entity ID, an assertion consumer service, and
// http(s) locations on every endpoint a browser may be sent to.
func checkSPEntity(ed *saml.EntityDescriptor) error {
	if ed.EntityID == "" {
		return errors.New("metadata has no entityID")
	}
	if len(ed.SPSSODescriptors) == 0 {
		return fmt.Errorf("entity %q has no SPSSODescriptor", ed.EntityID)
	}
	acs := 0
	for _, d := range ed.SPSSODescriptors {
		for _, ep := range d.AssertionConsumerServices {
			acs++
			if err := checkHTTPURL(ep.Location); err != nil {
				return fmt.Errorf("assertion consumer service: %w", err)
			}
			if ep.ResponseLocation != nil && *ep.ResponseLocation != "" {
				if err := checkHTTPURL(*ep.ResponseLocation); err != nil {
					return fmt.Errorf("assertion consumer service: %w", err)
				}
			}
		}
		for _, ep := range d.SingleLogoutServices {
			if err := checkHTTPURL(ep.Location); err != nil {
				return fmt.Errorf("single logout service: %w", err)
			}
			if ep.ResponseLocation != "" {
				if err := checkHTTPURL(ep.ResponseLocation); err != nil {
					return fmt.Errorf("single logout service: %w", err)
				}
			}
		}
	}
	if acs == 0 {
		return fmt.Errorf("entity %q has no AssertionConsumerService", ed.EntityID)
	}
	return nil
}

// staticMetadata is the metadata of a provider configured with an entity ID
// and one HTTP-POST assertion consumer service.
func staticMetadata(entityID, acsURL string) *saml.EntityDescriptor {
	yes := true
	return &saml.EntityDescriptor{
		EntityID: entityID,
		SPSSODescriptors: []saml.SPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{
				RoleDescriptor: saml.RoleDescriptor{ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol"},
			},
			AssertionConsumerServices: []saml.IndexedEndpoint{{
				Binding: saml.HTTPPostBinding, Location: acsURL, Index: 0, IsDefault: &yes,
			}},
		}},
	}
}

// loadMetadataFile reads and parses a provider's metadata_file; errors name
// the provider.
func loadMetadataFile(readFile func(string) ([]byte, error), r resolved) (*saml.EntityDescriptor, error) {
	data, err := readFile(r.metadataFile)
	if err != nil {
		return nil, fmt.Errorf("service provider %q: %w", r.name, err)
	}
	ed, err := ParseSPMetadata(data, r.entityID)
	if err != nil {
		return nil, fmt.Errorf("service provider %q: %w", r.name, err)
	}
	return ed, nil
}
