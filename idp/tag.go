package idp

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A Tag is one session tag, or principal tag, as AWS has them: a key and a
// value. Keys compare case-insensitively in AWS; a Tag keeps the key as
// given. In JSON it is {"key": ..., "value": ...}, the form of CloudTrail's
// requestParameters.tags and of the stored STS sessions.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Limits AWS applies to session tags.
const (
	MaxPrincipalTags  = 50
	MaxTagKeyLength   = 128 // characters
	MaxTagValueLength = 256 // characters
)

// ValidTagKey reports whether s may be a session tag key: 1 to 128 characters
// of letters, digits, separators (spaces) and _.:/=+-@, not beginning with
// "aws:" in any case. The error states every rule s breaks.
func ValidTagKey(s string) error {
	var problems []string
	if n := utf8.RuneCountInString(s); n < 1 || n > MaxTagKeyLength {
		problems = append(problems, fmt.Sprintf("must be 1 to %d characters long (it has %d)", MaxTagKeyLength, n))
	}
	if bad := badRunes(s, isTagRune); bad != "" {
		problems = append(problems, "only letters, digits, spaces and _.:/=+-@ are allowed (found "+bad+")")
	}
	if hasAWSPrefix(s) {
		problems = append(problems, `must not begin with "aws:" (reserved by AWS)`)
	}
	return joinRules(problems)
}

// ValidTagValue reports whether s may be a session tag value: at most 256
// characters of letters, digits, separators (spaces) and _.:/=+-@. The empty
// string is a valid value. The error states every rule s breaks.
func ValidTagValue(s string) error {
	var problems []string
	if n := utf8.RuneCountInString(s); n > MaxTagValueLength {
		problems = append(problems, fmt.Sprintf("must be at most %d characters long (it has %d)", MaxTagValueLength, n))
	}
	if bad := badRunes(s, isTagRune); bad != "" {
		problems = append(problems, "only letters, digits, spaces and _.:/=+-@ are allowed (found "+bad+")")
	}
	return joinRules(problems)
}

// isTagRune reports whether r is in [\p{L}\p{Z}\p{N}_.:/=+\-@].
func isTagRune(r rune) bool {
	if r == utf8.RuneError {
		return false
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Z, r) || unicode.IsNumber(r) || strings.ContainsRune("_.:/=+-@", r)
}
