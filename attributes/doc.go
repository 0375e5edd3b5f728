// Package attributes owns the attribute mapping: the rules that turn a signed-in
// person (idp.Identity) into the SAML attributes AWS expects in an assertion
// (Role, RoleSessionName, SessionDuration, SourceIdentity, PrincipalTag:<Key>,
// TransitiveTagKeys) plus any extra attributes an administrator adds.
//
// The value rules AWS applies to those attributes (idp.ValidSourceIdentity,
// idp.ValidRoleSessionName, idp.ValidRoleARN, idp.ValidSAMLProviderARN,
// idp.ValidTagKey, idp.ValidTagValue), the attribute names and idp.Tag belong
// to the root package idp, which the STS shares.
//
// A mapping is configured as YAML (MappingConfig), checked with Validate, which
// reports every problem with its key path, and compiled once with Compile. Apply
// then maps one person; when the person's directory data cannot be mapped it
// returns a *MappingError listing every problem in words a person and an
// administrator can act on.
//
// The package is pure: no I/O, no clock, no randomness. It imports only the
// standard library, idpbridge/idp and gopkg.in/yaml.v3.
package attributes
