package idp

import (
	"errors"
	"fmt"
)

// Error codes a user may see. Anything that is not an *Error is shown to
// users as "internal error" and logged in full.
const (
	EInvalid      = "invalid"      // the request or the data is not acceptable
	ENotFound     = "not_found"    // the named thing does not exist
	EConflict     = "conflict"     // the thing already exists or changed meanwhile
	EUnauthorized = "unauthorized" // who you are is not established
	EForbidden    = "forbidden"    // who you are may not do this
	ETooMany      = "too_many"     // rate limited
	EUnavailable  = "unavailable"  // a dependency is down; try again later
	EInternal     = "internal"     // a bug or an unexpected failure
)

// Error codes about the HTTP request itself, for HTTP APIs.
const (
	ETooLarge         = "too_large"              // the body is over the size limit
	EUnsupportedMedia = "unsupported_media_type" // the body is not of an accepted type
	EMethodNotAllowed = "method_not_allowed"     // the route exists for other methods
)

// Error is a deliberate error: its Message is written for the person who
// sees it and never contains secrets or internal detail.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of the first *Error in err's chain, and
// "internal error" for any other non-nil error.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
