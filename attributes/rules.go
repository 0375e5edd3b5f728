package attributes

import "idpbridge/idp"

// The AWS vocabulary lives in package idp. These forwarders remain only for
// idp/sts and idp/web, which still name them through this package; new code
// uses the idp names.

// Deprecated: use idp.AttrRole.
const AttrRole = idp.AttrRole

// Deprecated: use idp.AttrRoleSessionName.
const AttrRoleSessionName = idp.AttrRoleSessionName

// Deprecated: use idp.AttrSessionDuration.
const AttrSessionDuration = idp.AttrSessionDuration

// Deprecated: use idp.AttrSourceIdentity.
const AttrSourceIdentity = idp.AttrSourceIdentity

// Deprecated: use idp.AttrPrincipalTagPrefix.
const AttrPrincipalTagPrefix = idp.AttrPrincipalTagPrefix

// Deprecated: use idp.AttrTransitiveTagKeys.
const AttrTransitiveTagKeys = idp.AttrTransitiveTagKeys

// Deprecated: use idp.MinSessionDuration.
const MinSessionDuration = idp.MinSessionDuration

// Deprecated: use idp.MaxSessionDuration.
const MaxSessionDuration = idp.MaxSessionDuration

// Deprecated: use idp.MaxPrincipalTags.
const MaxPrincipalTags = idp.MaxPrincipalTags

// Deprecated: use idp.ValidSourceIdentity.
func ValidSourceIdentity(s string) error { return idp.ValidSourceIdentity(s) }

// Deprecated: use idp.ValidRoleSessionName.
func ValidRoleSessionName(s string) error { return idp.ValidRoleSessionName(s) }

// Deprecated: use idp.ValidTagKey.
func ValidTagKey(s string) error { return idp.ValidTagKey(s) }

// Deprecated: use idp.ValidTagValue.
func ValidTagValue(s string) error { return idp.ValidTagValue(s) }

// Deprecated: use idp.ValidRoleARN.
func ValidRoleARN(s string) error { return idp.ValidRoleARN(s) }

// Deprecated: use idp.ValidSAMLProviderARN.
func ValidSAMLProviderARN(s string) error { return idp.ValidSAMLProviderARN(s) }
