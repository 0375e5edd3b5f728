package sts

import (
	"errors"
	"fmt"
	"net/http"

	"idpbridge/idp/store"
)

// Error codes returned by the STS (STS-SPEC §1).
const (
	CodeValidationError            = "ValidationError"
	CodeInvalidParameterValue      = "InvalidParameterValue"
	CodeMalformedPolicyDocument    = "MalformedPolicyDocument"
	CodePackedPolicyTooLarge       = "PackedPolicyTooLarge"
	CodeInvalidIdentityToken       = "InvalidIdentityToken"
	CodeIDPCommunicationError      = "IDPCommunicationError"
	CodeIDPRejectedClaim           = "IDPRejectedClaim"
	CodeExpiredTokenException      = "ExpiredTokenException"
	CodeAccessDenied               = "AccessDenied"
	CodeInvalidClientTokenID       = "InvalidClientTokenId"
	CodeSignatureDoesNotMatch      = "SignatureDoesNotMatch"
	CodeIncompleteSignature        = "IncompleteSignature"
	CodeExpiredToken               = "ExpiredToken"
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	CodeInvalidAction              = "InvalidAction"
	CodeMissingAction              = "MissingAction"
	CodeInternalFailure            = "InternalFailure"
	CodeServiceUnavailable         = "ServiceUnavailable"
	CodeRequestEntityTooLarge      = "RequestEntityTooLarge"
)

// Messages AWS uses verbatim.
const (
	msgInvalidToken        = "The security token included in the request is invalid."
	msgExpiredToken        = "The security token included in the request is expired"
	msgDuplicateTags       = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
	msgTransitiveNotInTags = "The specified transitive tag key must be included in the requested tags."
	msgTransitiveConflict  = "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session."
	msgMaxSessionDuration  = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	msgChainingDuration    = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
	msgInternalFailure     = "An internal error occurred. Try again."
	msgServiceUnavailable  = "The request has failed due to a temporary failure of the server."
)

// Error is an STS error as the client sees it: AWS's code and message, the
// HTTP status, and whether the fault is the sender's (4xx) or the service's
// (5xx, "Receiver"). Cause, when set, is the internal error behind an
// InternalFailure; it is logged, never shown.
type Error struct {
	Code    string
	Message string
	Status  int
	Cause   error
	// Reason says, in terms an administrator can act on, which step
	// refused a call, e.g. "no SAML provider named idpbridge in account
	// 123456789012"; "" when the message says it all. It is logged and
	// shown by the built-in sign-in page, never sent in an API response
	// (whose message is AWS's).
	Reason string
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Message + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// Type is the ErrorResponse Type element: "Receiver" for 5xx, else "Sender".
func (e *Error) Type() string {
	if e.Status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

func newError(code string, status int, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: status}
}

func sender(code, msg string) *Error { return newError(code, http.StatusBadRequest, msg) }

func forbidden(code, msg string) *Error { return newError(code, http.StatusForbidden, msg) }

func validationError(msg string) *Error { return sender(CodeValidationError, msg) }

func invalidParameter(msg string) *Error { return sender(CodeInvalidParameterValue, msg) }

// accessDenied is AssumeRole's denial (STS-SPEC §5).
func accessDenied(callerARN, action, resource string) *Error {
	return forbidden(CodeAccessDenied, fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", callerARN, action, resource))
}

func invalidClientToken() *Error { return forbidden(CodeInvalidClientTokenID, msgInvalidToken) }

func expiredToken() *Error { return forbidden(CodeExpiredToken, msgExpiredToken) }

func invalidIdentityToken(msg string) *Error { return sender(CodeInvalidIdentityToken, msg) }

// internal wraps an unexpected failure: the client sees InternalFailure
// (500, Receiver) and nothing of the cause. A database that did not answer
// in time or could not be reached (store.ErrUnavailable) is a temporary
// failure instead: ServiceUnavailable (503, Receiver), which AWS SDKs retry.
func internal(cause error) *Error {
	if errors.Is(cause, store.ErrUnavailable) {
		return &Error{Code: CodeServiceUnavailable, Message: msgServiceUnavailable, Status: http.StatusServiceUnavailable, Cause: cause}
	}
	return &Error{Code: CodeInternalFailure, Message: msgInternalFailure, Status: http.StatusInternalServerError, Cause: cause}
}
