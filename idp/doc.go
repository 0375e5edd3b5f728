// Package idp holds idpbridge's domain types: who a person is (Identity), the
// deliberate errors users may see (Error), and the small value types every
// other package shares.
//
// It also holds the AWS vocabulary that the issuing side (attributes, sso)
// and the verifying side (sts, policy, audit, store) share: a parsed ARN
// (ParseARN), account IDs (IsAccountID), the session Tag with AWS's key and
// value rules (ValidTagKey, ValidTagValue), the source-identity and
// role-session-name rules, the role and SAML provider ARN rules, the session
// duration bounds, and the names of the SAML attributes AWS reads (AttrRole,
// AttrSourceIdentity, ...).
//
// It imports only the standard library and has no I/O, no clock and no
// randomness.
package idp
