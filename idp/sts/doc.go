// Package sts is idpbridge's built-in Security Token Service: the AWS Query
// API on /sts (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity,
// GetCallerIdentity) with the behaviour STS-SPEC.md describes.
//
// It owns:
//   - the directory of accounts, IAM users, roles, SAML and OpenID Connect
//     providers built from configuration (Config, Build, Directory), with
//     stable user and role IDs derived from their names;
//   - the Query protocol: parameter parsing, AWS's model validation and its
//     error texts, the XML responses and ErrorResponse;
//   - authentication of signed calls (SigV4 through package sigv4) with
//     long-term keys from configuration or session credentials this service
//     issued;
//   - the decision procedures of AssumeRole* as one pipeline
//     (pipeline.go): each action is a source that says only how its
//     principal is established (the SigV4 caller, a verified SAML
//     assertion, a verified OIDC token), where its session tags come from
//     and how its duration may be shortened; the shared core runs model
//     validation, tag semantics, the session policy, the request context
//     keys, every required action against trust, identity and session
//     policies (through package policy), the duration, the packed size,
//     the grant and the audit records;
//   - typed results for in-process callers (Session, SAMLSession,
//     Credentials, AssumedRole); XML is made only at the Query API edge;
//   - revocation of sessions, by access key ID with every session chained
//     from it, or by source identity (Revoker);
//   - session credentials: ASIA access key IDs whose secret travels sealed
//     (AES-GCM under a key derived from the key-encryption key) inside the
//     session token, so any replica can verify them, plus a store record
//     per session so that revocation and expiry hold on every replica;
//   - the audit records of every call, written through a Trail in the same
//     store transaction as the credentials they describe;
//   - the SAML replay cache over the store.
//
// Time and randomness are injected (Options.Now, Options.Rand).
package sts
