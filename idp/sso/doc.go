// Package sso is idpbridge's SAML identity provider, built on
// github.com/crewjam/saml. It owns:
//
//   - the registry of service providers (ServiceProviderConfig): presets
//     (aws, builtin), metadata from a file, a URL refreshed on a schedule, or
//     an entity ID with an assertion consumer service URL; metadata whose
//     endpoints are not http(s) URLs is refused when it is loaded;
//   - the HTTP endpoints /saml/metadata, /saml/sso (HTTP-Redirect and
//     HTTP-POST bindings), /saml/idp-initiated and /saml/slo (IdP.Routes);
//   - the adapter from the browser session (Sessions, implemented by
//     idp/web) to crewjam's SessionProvider, which carries an AuthnRequest
//     across the sign-in;
//   - assertions made from an attributes.Mapping, exactly the mapped
//     attributes, signed with RSA-SHA256 and SHA-256 digests, and their audit
//     records (IssueAssertion, MappingFailed) written before anything is
//     sent;
//   - the role chooser, for service providers that take one role;
//   - ForceAuthn (the password asked again, the assertion carrying the new
//     sign-in's AuthnInstant) and IsPassive (a NoPassive Response rather
//     than any page), see reauth.go;
//   - for service providers whose sign-in issues credentials (the builtin
//     preset), IdP-initiated SSO only on a POST with the CSRF token: a GET
//     shows a page asking to confirm;
//   - mapping tests (Catalog.Test, MappingTest) and previews of a mapping
//     not yet saved (PreviewMapping);
//   - the console's mappings (consolemappings.go): versions kept in the
//     database override the config file's mapping of the same name, and
//     every replica reloads them when the store's stamp changes, checking
//     at most every DefaultMappingRefresh (Catalog.ConsoleMappings);
//   - the signing keys' life cycle on top of idp/signing: the key ring that
//     signs and publishes (StoreKeys) and rotate, activate and retire.
//
// Signing keys: exactly one key is "active" and signs; every "next" key is
// published in the metadata beside it, so service providers learn a key
// before it signs (rotate adds one) and keep trusting the previous signer
// after activate (the old active key becomes "next"); retire removes a
// "next" key from the metadata.
//
// NameID: persistent format, the person's username as the connector spells
// it, qualified with the IdP's and the service provider's entity IDs. It is
// readable and survives key and secret rotation; the source identity, not
// the NameID, is what says who acted.
//
// Time comes from Options.Now (crewjam's IdentityProvider.Clock is set from
// it); crewjam's package globals are never changed outside tests.
package sso
