package samlverify

import "fmt"

// AWS error codes Verify returns in Error.Code.
const (
	CodeInvalidIdentityToken = "InvalidIdentityToken"  // HTTP 400
	CodeExpiredToken         = "ExpiredTokenException" // HTTP 400
	CodeAccessDenied         = "AccessDenied"          // HTTP 403
	CodeValidationError      = "ValidationError"       // HTTP 400
)

// Messages Verify returns in Error.Message. They are what the STS API shows
// the caller: short, and never the detail (that is in Error.Reason).
const (
	MsgSignatureInvalid = "Response signature invalid"
	MsgNotBase64        = "Invalid base64 SAMLResponse"
	MsgIssuer           = "Issuer not present in specified provider"
	MsgAudience         = "Response does not contain the required audience."
	MsgExpired          = "Response has expired"
	MsgNotYetValid      = "Response is not yet valid"
	MsgLifetime         = "Response validity period is too long"
	MsgStatus           = "Response status is not Success"
	MsgReplay           = "Assertion has already been used"
	MsgAccessDenied     = "Not authorized to perform sts:AssumeRoleWithSAML"
	MsgTooLong          = "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length less than or equal to 100000"
	MsgTooShort         = "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length greater than or equal to 4"
)

// Error is a rejected SAML response. Code and Message are what the STS API
// returns to the caller (AWS's codes and messages); Reason says precisely
// why, for logs and the audit record only: it may quote the response but
// never holds secrets. Error() returns Code and Message only.
type Error struct {
	Code, Message, Reason string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// reject builds an *Error with a formatted Reason.
func reject(code, msg, format string, args ...any) *Error {
	return &Error{Code: code, Message: msg, Reason: fmt.Sprintf(format, args...)}
}

// invalid is the catch-all rejection: any problem with the shape,
// signature, keys or algorithms of the response.
func invalid(format string, args ...any) *Error {
	return reject(CodeInvalidIdentityToken, MsgSignatureInvalid, format, args...)
}
