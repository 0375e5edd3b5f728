package sigv4

import "net/http"

// Error codes, as AWS STS returns them.
const (
	// CodeIncompleteSignature: the authentication data is malformed or
	// incomplete. HTTP 400.
	CodeIncompleteSignature = "IncompleteSignature"
	// CodeSignatureDoesNotMatch: the signature, its scope or its time is
	// wrong. HTTP 403.
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeMissingAuthenticationToken: the request carries no authentication
	// at all. HTTP 403.
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	// CodeInvalidParameterValue: the query string cannot be decoded. HTTP 400.
	CodeInvalidParameterValue = "InvalidParameterValue"
)

// Error is an AWS-style error. Code and Message are what the STS error
// response carries (<Code>, <Message>); Status is the HTTP status. Messages
// never contain a secret, a signature or a security token.
type Error struct {
	Code    string
	Message string
	Status  int
}

var _ error = (*Error)(nil)

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func incomplete(msg string) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: msg, Status: http.StatusBadRequest}
}

func mismatch(msg string) *Error {
	return &Error{Code: CodeSignatureDoesNotMatch, Message: msg, Status: http.StatusForbidden}
}

// Messages used verbatim by AWS.
const (
	msgMissingAuth       = "Request is missing Authentication Token"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
)

func missingAuth() *Error {
	return &Error{Code: CodeMissingAuthenticationToken, Message: msgMissingAuth, Status: http.StatusForbidden}
}

// printable returns s for use inside an error message: bytes outside printable
// ASCII become '?', and s is cut to max bytes with "..." appended.
func printable(s string, max int) string {
	cut := false
	if len(s) > max {
		s, cut = s[:max], true
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	if cut {
		return string(b) + "..."
	}
	return string(b)
}
