package local

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DefaultMinPasswordLength is PasswordPolicy.MinLength unless configured
// (login.password_min_length).
const DefaultMinPasswordLength = 12

// MinPasswordLengthFloor is the lowest MinLength a configuration may set.
const MinPasswordLengthFloor = 8

//go:embed commonpasswords.txt
var commonPasswordsFile string

// commonPasswords holds the embedded list, lower case.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsFile, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// PasswordPolicy is what a password set for a local account must meet:
// at least MinLength characters (Unicode code points), at most
// MaxPasswordBytes bytes, and not one of a built-in list of a few hundred
// commonly used passwords, compared case-insensitively.
type PasswordPolicy struct {
	MinLength int
}

// Check returns nil when password meets the policy, or an error naming the
// rule it breaks. The error never contains the password.
func (p PasswordPolicy) Check(password string) error {
	min := p.MinLength
	if min <= 0 {
		min = DefaultMinPasswordLength
	}
	if n := utf8.RuneCountInString(password); n < min {
		return fmt.Errorf("password policy: a password has at least %d characters, this one has %d", min, n)
	}
	if len(password) > MaxPasswordBytes {
		return fmt.Errorf("password policy: a password has at most %d bytes", MaxPasswordBytes)
	}
	if IsCommonPassword(password) {
		return fmt.Errorf("password policy: this password is on the list of commonly used passwords; choose another")
	}
	return nil
}

// IsCommonPassword reports whether password, in any letter case, is on the
// built-in list of commonly used passwords.
func IsCommonPassword(password string) bool {
	return commonPasswords[strings.ToLower(password)]
}

// MaxUsernameBytes bounds a local user name.
const MaxUsernameBytes = 128

// ValidUsername returns nil when name may name a local account: 1 to
// MaxUsernameBytes bytes, with no space or control character; the error
// says what is wrong.
func ValidUsername(name string) error {
	if name == "" || len(name) > MaxUsernameBytes {
		return fmt.Errorf("a user name has 1 to %d characters", MaxUsernameBytes)
	}
	for _, r := range name {
		if r < 0x21 || r == 0x7f {
			return fmt.Errorf("user name %q contains a space or control character", name)
		}
	}
	return nil
}
