// Package sigv4 verifies AWS Signature Version 4 on requests sent to
// idpbridge's built-in STS: header authentication (the Authorization header)
// and presigned query-string authentication (X-Amz-Algorithm, X-Amz-Credential,
// X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature, X-Amz-Expires,
// X-Amz-Security-Token).
//
// It owns the canonical request exactly as the AWS SDK for Go v2 signer builds
// it for STS (path escaped once more per segment, query names and values
// percent-encoded and sorted after encoding, header values trimmed with inner
// spaces collapsed), the string to sign, the signing-key derivation, the
// credential-scope checks, the 15-minute clock-skew window and the AWS error
// codes and messages for all of these.
//
// Verification is split in two: Parse reads the request and builds the
// canonical request without any secret; the caller then looks up the secret for
// Signed.AccessKeyID (and checks Signed.SecurityToken for temporary
// credentials) and calls Signed.Verify with the current time. The package
// reads no clock, does no I/O and uses only the standard library.
package sigv4
