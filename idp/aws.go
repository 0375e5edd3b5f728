package idp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The SAML attribute names AWS reads from an assertion. Names are
// case-sensitive. AttrPrefix is reserved: other attributes may not use it.
const (
	AttrPrefix             = "https://aws.amazon.com/SAML/Attributes/"
	AttrRole               = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration    = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrSourceIdentity     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	AttrPrincipalTagPrefix = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	AttrTransitiveTagKeys  = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"
)

// The bounds of a session's duration that AWS accepts, in seconds.
const (
	MinSessionDuration = 900
	MaxSessionDuration = 43200
)

// partitions are the AWS partitions an IAM ARN may name.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// IsAccountID reports whether s is an AWS account ID: exactly twelve ASCII
// digits.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidSourceIdentity reports whether s may be a source identity: 2 to 64
// characters of [A-Za-z0-9_+=,.@-], not beginning with "aws:" in any case. The
// error states every rule s breaks, in words fit for a person.
func ValidSourceIdentity(s string) error {
	problems := sessionNameProblems(s)
	if hasAWSPrefix(s) {
		problems = append(problems, `must not begin with "aws:"`)
	}
	return joinRules(problems)
}

// ValidRoleSessionName reports whether s may be a role session name: 2 to 64
// characters of [A-Za-z0-9_+=,.@-]. The error states every rule s breaks.
func ValidRoleSessionName(s string) error {
	return joinRules(sessionNameProblems(s))
}

func sessionNameProblems(s string) []string {
	var problems []string
	if n := utf8.RuneCountInString(s); n < 2 || n > 64 {
		problems = append(problems, fmt.Sprintf("must be 2 to 64 characters long (it has %d)", n))
	}
	if bad := badRunes(s, isNameRune); bad != "" {
		problems = append(problems, "only letters A-Z and a-z, digits and _+=,.@- are allowed (found "+bad+")")
	}
	return problems
}

// isNameRune reports whether r is in [A-Za-z0-9_+=,.@-], the alphabet of
// source identities and role session names.
func isNameRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("_+=,.@-", r)
}

// ValidRoleARN reports whether s is an IAM role ARN:
// arn:<partition>:iam::<12 digits>:role/<path/>name, where partition is aws,
// aws-cn, aws-us-gov or another AWS partition, the optional path is printable
// ASCII of at most 512 characters and the name is 1 to 64 characters of
// [A-Za-z0-9_+=,.@-]. The error states every rule s breaks.
func ValidRoleARN(s string) error {
	const shape = "a role ARN looks like arn:aws:iam::123456789012:role/name or arn:aws:iam::123456789012:role/path/name"
	resource, err := iamResource(s, shape)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(resource, "role/")
	if !ok {
		return fmt.Errorf("the resource %s is not role/<name>; %s", Quote(resource), shape)
	}
	if len(s) > 2048 {
		return fmt.Errorf("must be at most 2048 characters long (it has %d)", len(s))
	}
	path, name := "/", rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		path, name = "/"+rest[:i+1], rest[i+1:]
	}
	var problems []string
	if n := len(name); n < 1 || n > 64 {
		problems = append(problems, fmt.Sprintf("the role name must be 1 to 64 characters long (it has %d)", utf8.RuneCountInString(name)))
	}
	if bad := badRunes(name, isNameRune); bad != "" {
		problems = append(problems, "the role name may only have letters A-Z and a-z, digits and _+=,.@- (found "+bad+")")
	}
	if len(path) > 512 {
		problems = append(problems, fmt.Sprintf("the role path must be at most 512 characters long (it has %d)", len(path)))
	}
	if bad := badRunes(path, func(r rune) bool { return r >= 0x21 && r <= 0x7e }); bad != "" {
		problems = append(problems, "the role path may only have printable ASCII characters (found "+bad+")")
	}
	return joinRules(problems)
}

// ValidSAMLProviderARN reports whether s is an IAM SAML provider ARN:
// arn:<partition>:iam::<12 digits>:saml-provider/<name>, where the name is 1 to
// 128 characters of [A-Za-z0-9_.-]. The error states every rule s breaks.
func ValidSAMLProviderARN(s string) error {
	const shape = "a SAML provider ARN looks like arn:aws:iam::123456789012:saml-provider/name"
	resource, err := iamResource(s, shape)
	if err != nil {
		return err
	}
	name, ok := strings.CutPrefix(resource, "saml-provider/")
	if !ok {
		return fmt.Errorf("the resource %s is not saml-provider/<name>; %s", Quote(resource), shape)
	}
	var problems []string
	if n := len(name); n < 1 || n > 128 {
		problems = append(problems, fmt.Sprintf("the provider name must be 1 to 128 characters long (it has %d)", utf8.RuneCountInString(name)))
	}
	isProviderRune := func(r rune) bool {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-'
	}
	if bad := badRunes(name, isProviderRune); bad != "" {
		problems = append(problems, "the provider name may only have letters A-Z and a-z, digits and _.- (found "+bad+")")
	}
	return joinRules(problems)
}

// iamResource checks the arn:<partition>:iam::<account>: prefix of an IAM ARN
// and returns what follows it.
func iamResource(s, shape string) (string, error) {
	a, err := splitARN(s)
	if err != nil {
		return "", errors.New("not an ARN; " + shape)
	}
	var problems []string
	known := false
	for _, p := range partitions {
		known = known || a.partition == p
	}
	if !known {
		problems = append(problems, fmt.Sprintf("the partition %s is not one of %s", Quote(a.partition), strings.Join(partitions, ", ")))
	}
	if a.service != "iam" {
		problems = append(problems, fmt.Sprintf("the service %s is not iam", Quote(a.service)))
	}
	if a.region != "" {
		problems = append(problems, fmt.Sprintf("an IAM ARN has no region (found %s)", Quote(a.region)))
	}
	if !IsAccountID(a.account) {
		problems = append(problems, fmt.Sprintf("the account %s is not 12 digits", Quote(a.account)))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; ") + "; " + shape)
	}
	return a.resource, nil
}

func hasAWSPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "aws:")
}
