// Package samlverify owns the verification of a SAML Response posted to
// the built-in STS (AssumeRoleWithSAML and the browser sign-in endpoint
// POST /sts/saml): Verify takes the base64 SAMLResponse, the SAML provider
// the request names (entityID and signing certificates pinned from its
// metadata) and the STS's options, and returns what the signature covered
// or an *Error with AWS's code and message. It enforces SECURITY.md's
// strict verification profile with its own reader: the bytes are read
// once, into one tree, and the signatures are checked on and the values
// read from that same tree. It does no HTTP, reads no clock
// (Options.Now) and keeps no state (the replay cache is the store's).
//
// The previous verifier, the same profile enforced on top of
// github.com/crewjam/saml v0.6.3 and goxmldsig (which tokenized a response
// five times: prescan, round-trip validator, etree, crewjam's unmarshal,
// the re-parse of the verified bytes), is kept in the tests as the oracle
// (oracle_*_test.go): FuzzDifferential checks that whatever Verify accepts
// the oracle accepts with identical values, and that the canonical bytes
// Verify digests and signs are goxmldsig's; xmlsec1 verifies Verify's
// canonical form of the documents it accepts.
//
// # Steps
//
//  1. Size and shape before parsing: 4 to 100,000 base64 characters (line
//     breaks ignored), at most 75,000 bytes decoded, never inflated. The
//     reader (reader.go), in one pass, rejects non-UTF-8,
//     any DOCTYPE, ENTITY or other directive, processing instructions
//     (but the XML declaration), undeclared entities, duplicate
//     attributes, more than one root, more than 1,000 elements, nesting
//     deeper than 16, more than 32 attributes on an element or 32
//     namespace declarations in scope. Names are ASCII NCNames with at most
//     one colon, so x::Root, ::foo="bar" and xmlns:="y" (CVE-2020-29509/
//     29510/29511) are malformed; attribute values hold no literal tab or
//     line break (XML processors normalize them differently); an element's
//     prefixed attributes are all in one namespace.
//  2. While reading, every element is checked against a whitelist of the
//     SAML and XML-DSig elements a response to AWS has (shape.go), and
//     only those are kept in the tree: one
//     samlp:Response root with at most one Issuer and Signature, one
//     Status and exactly one saml:Assertion or one saml:EncryptedAssertion
//     (step 2b); no Extensions, Advice, ds:Object, KeyName,
//     unknown conditions or any element or attribute not listed, each
//     singleton at most once and in schema order; namespace-qualified
//     attributes only where the schema allows them; prefixes start with
//     a lower-case letter (encoding/xml would read xmlns:Name="..." as an
//     attribute Name); IDs unique and NCName-like; times UTC
//     xs:dateTime. Every signature-wrapping layout (XSW1-8, wrappers,
//     same-ID clones, a second assertion) fails here.
//     2b. An EncryptedAssertion (encrypted.go) is refused unless the
//     provider has DecryptionKeys; a plain Assertion is refused when it
//     has RequireEncryption. A signed Response is verified first, over the
//     EncryptedAssertion as sent. Content encryption must be AES-GCM (CBC
//     is refused before any key is used: no padding oracle) and key
//     transport RSA-OAEP (PKCS#1 v1.5 is refused likewise); the key is
//     only one of DecryptionKeys, never one a KeyInfo carries, and a
//     RetrievalMethod may only name the EncryptedKey beside the
//     EncryptedData. Every failure of the decryption itself gives one
//     identical error. The plaintext is read by the same reader, as the
//     Assertion, in the EncryptedAssertion's place and within the
//     response's element and depth bounds; steps 3 to 6 then apply to it
//     as to a plain one, so an EncryptedAssertion encrypted to our key by
//     anyone proves nothing unless its Assertion (or the Response around
//     it) carries a pinned key's signature.
//  3. Each Signature (a direct child of the Response and/or the
//     Assertion): exclusive c14n without comments; RSA-SHA256/384/512 or
//     ECDSA-SHA256/384/512; exactly one Reference, "#" + the ID of the
//     element it sits in; transforms exactly enveloped-signature then
//     exclusive c14n (InclusiveNamespaces allowed); digest SHA-256, SHA-384
//     or SHA-512. KeyInfo may hold one X509Certificate or an RSAKeyValue, and
//     only to choose among the pinned certificates: one that is not
//     pinned is a rejection. Pinned certificates are usable if their key
//     is RSA of 2048 to 8192 bits or ECDSA on P-256/384/521 and now is
//     within their validity (we check it: an expired pinned certificate
//     is a configuration to fix, and metadata carries its successor).
//  4. Each signature is verified on the tree (c14n.go, fastverify.go):
//     exclusive c14n of the signed element without its Signature (with
//     the transform's InclusiveNamespaces PrefixList), its digest, then
//     exclusive c14n of SignedInfo and the signature against the
//     candidate pinned certificates only (ECDSA in r||s or DER form). A
//     PrefixList on the CanonicalizationMethod is accepted only where it
//     does not change the canonical SignedInfo (goxmldsig ignores it).
//     What crewjam refused on time grounds stays refused: against a clock
//     of Now held back to at most 90 s after the earliest IssueInstant, no
//     IssueInstant is older than 90 s or newer than 180 s, and the
//     Conditions and confirmation hold with 180 s of skew.
//  5. The strict profile on what the signature covered (semantics.go),
//     in the order of STS-SPEC §5: Response Version 2.0, Status Success,
//     Issuer (Response, if present, and Assertion) equal to the provider's
//     entityID, Destination (required when the Response is signed) an
//     accepted recipient; Subject with a NameID (else AccessDenied,
//     checked before the confirmation because that is about the subject);
//     exactly one SubjectConfirmation, bearer, with SubjectConfirmationData
//     naming an accepted Recipient and a NotOnOrAfter; Conditions with
//     NotBefore and NotOnOrAfter; at least one AudienceRestriction and
//     every one naming an accepted audience; exactly one AuthnStatement;
//     no time (IssueInstant, NotBefore, AuthnInstant) after Now + MaxSkew;
//     expired from NotOnOrAfter + MaxSkew on (NotOnOrAfter is exclusive);
//     NotOnOrAfter - IssueInstant at most MaxLifetime; attribute Names
//     unique.
//  6. Replay, last: (Issuer, Assertion ID) is remembered until the later
//     NotOnOrAfter + MaxSkew; a second use is rejected.
//
// Values are only ever read from the nodes whose canonical form was
// digested: a comment inserted into a signed value
// (victim@corp.test<!---->.evil.test) is dropped by exclusive c14n and the
// value is read whole, never truncated. Attribute values are returned as
// sent; checking Role, RoleSessionName and SourceIdentity is the STS's.
//
// # Errors
//
// InvalidIdentityToken "Response signature invalid" for anything about
// size, shape, XML, keys, algorithms, signatures, Version, SubjectConfirmation
// or Conditions structure; "Invalid base64 SAMLResponse" for undecodable
// input; "Issuer not present in specified provider"; "Response does not
// contain the required audience." for Recipient, Destination and Audience;
// "Response is not yet valid"; "Response validity period is too long";
// "Response status is not Success"; "Assertion has already been used".
// ExpiredTokenException "Response has expired". AccessDenied "Not
// authorized to perform sts:AssumeRoleWithSAML" for a missing Subject or
// NameID (STS-SPEC §5 step 7). ValidationError for a parameter outside 4
// to 100,000 characters, as AWS's model validation words it. Reason says
// precisely why, for logs and audit only. Bad Options and a failing
// replay cache are plain errors (the STS's internal error), never *Error.
// A panic is recovered into InvalidIdentityToken with the panic in Reason.
//
// # What crewjam v0.6.3 (the oracle's library) does with SECURITY.md's items
//
// Measured by TestCrewjamBaseline (every attack-table row through a
// plainly configured ServiceProvider; the test fails if this changes) and
// TestGoxmldsigSiblings:
//
//   - Missing AudienceRestriction: rejected (v0.5.1 accepted it).
//   - No SubjectConfirmation: rejected (v0.5.1 accepted it).
//   - SHA-1 signatures and digests: ACCEPTED unless RejectSHA1Signatures.
//   - 1024-bit IdP key: ACCEPTED (no key-size check).
//   - Unused DOCTYPE (even with entity declarations): ACCEPTED.
//   - IssueInstant 48 h in the future: rejected (at most MaxClockSkew).
//   - ID-less assertion signed with Reference URI="": rejected (it now
//     requires one Reference to "#" + ID).
//   - Replayed response: ACCEPTED unless ReplayCache is set (its cache
//     is keyed on the assertion ID alone, not the issuer).
//   - Signed assertion without Subject or Conditions: rejected, no panic.
//   - goxmldsig v1.6.1 and 1,000+ siblings beside a bogus Signature: an
//     error ("traversal limit reached" or invalid signature), no panic.
//     Its 1,000-node traversal budget also means a signed element of more
//     than about 1,000 elements cannot be verified; hence MaxElements.
//
// goxmldsig (and so crewjam alone) verifies ECDSA only in the ASN.1 DER
// form it signs in, and rejects the r||s form of XML-DSig (RFC 4050, RFC
// 6931) that xmlsec1, Shibboleth and Santuario write: TestXmlsec1Interop.
//
// It also ACCEPTS, where this package rejects: WithComments
// canonicalization or transform, transforms in any order, an XPath
// transform (ignored), ds:Object, KeyName, two X509Certificates, an
// xmlns:="y" attribute, a non-UTF-8 encoding declaration, trailing
// megabytes, a duplicate attribute, two root elements, xmlns:Recipient
// and e:Recipient attributes (it reads the right one), zone offsets in
// times, two assertions in a signed Response (it returns the first), an
// empty NameID, Conditions without NotBefore or NotOnOrAfter, two
// SubjectConfirmations, a future AuthnInstant, any assertion lifetime,
// unknown conditions, duplicate attribute Names and element content in
// AttributeValue.
package samlverify
