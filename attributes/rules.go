package attributes

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"idpbridge/idp"
)

// The SAML attribute names AWS reads from an assertion. Names are case-sensitive.
const (
	AttrRole               = "https://aws.amazon.com/SAML/Attributes/Role"
	AttrRoleSessionName    = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
	AttrSessionDuration    = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
	AttrSourceIdentity     = "https://aws.amazon.com/SAML/Attributes/SourceIdentity"
	AttrPrincipalTagPrefix = "https://aws.amazon.com/SAML/Attributes/PrincipalTag:"
	AttrTransitiveTagKeys  = "https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"

	// awsAttrPrefix is reserved: extra attributes may not use it.
	awsAttrPrefix = "https://aws.amazon.com/SAML/Attributes/"
)

// Limits AWS applies to the values an assertion carries.
const (
	MinSessionDuration = 900   // seconds
	MaxSessionDuration = 43200 // seconds
	MaxPrincipalTags   = 50
	MaxTagKeyLength    = 128 // characters
	MaxTagValueLength  = 256 // characters
)

// partitions are the AWS partitions an ARN may name.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

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

// ValidTagKey reports whether s may be a session tag key: 1 to 128 characters
// of letters, digits, separators (spaces) and _.:/=+-@, not beginning with
// "aws:" in any case.
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
// string is a valid value.
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

// ValidRoleARN reports whether s is an IAM role ARN:
// arn:<partition>:iam::<12 digits>:role/<path/>name, where partition is aws,
// aws-cn, aws-us-gov or another AWS partition, the optional path is printable
// ASCII of at most 512 characters and the name is 1 to 64 characters of
// [A-Za-z0-9_+=,.@-].
func ValidRoleARN(s string) error {
	const shape = "a role ARN looks like arn:aws:iam::123456789012:role/name or arn:aws:iam::123456789012:role/path/name"
	resource, err := iamResource(s, shape)
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(resource, "role/")
	if !ok {
		return fmt.Errorf("the resource %s is not role/<name>; %s", quote(resource), shape)
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
// 128 characters of [A-Za-z0-9_.-].
func ValidSAMLProviderARN(s string) error {
	const shape = "a SAML provider ARN looks like arn:aws:iam::123456789012:saml-provider/name"
	resource, err := iamResource(s, shape)
	if err != nil {
		return err
	}
	name, ok := strings.CutPrefix(resource, "saml-provider/")
	if !ok {
		return fmt.Errorf("the resource %s is not saml-provider/<name>; %s", quote(resource), shape)
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
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", errors.New("not an ARN; " + shape)
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	var problems []string
	known := false
	for _, p := range partitions {
		known = known || partition == p
	}
	if !known {
		problems = append(problems, fmt.Sprintf("the partition %s is not one of %s", quote(partition), strings.Join(partitions, ", ")))
	}
	if service != "iam" {
		problems = append(problems, fmt.Sprintf("the service %s is not iam", quote(service)))
	}
	if region != "" {
		problems = append(problems, fmt.Sprintf("an IAM ARN has no region (found %s)", quote(region)))
	}
	if !idp.IsAccountID(account) {
		problems = append(problems, fmt.Sprintf("the account %s is not 12 digits", quote(account)))
	}
	if len(problems) > 0 {
		return "", errors.New(strings.Join(problems, "; ") + "; " + shape)
	}
	return resource, nil
}

func hasAWSPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "aws:")
}

// badRunes lists, quoted and without repeats, the first few runes of s that ok
// rejects; "" when there are none.
func badRunes(s string, ok func(rune) bool) string {
	const max = 5
	var seen []rune
	more := false
	for _, r := range s {
		if ok(r) || containsRune(seen, r) {
			continue
		}
		if len(seen) == max {
			more = true
			break
		}
		seen = append(seen, r)
	}
	if len(seen) == 0 {
		return ""
	}
	var b strings.Builder
	for i, r := range seen {
		if i > 0 {
			b.WriteString(", ")
		}
		switch r {
		case ' ':
			b.WriteString("a space")
		case utf8.RuneError:
			b.WriteString("invalid UTF-8")
		default:
			fmt.Fprintf(&b, "%q", r)
		}
	}
	if more {
		b.WriteString(", ...")
	}
	return b.String()
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func joinRules(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}

// quote shows a value in a message: in single quotes when it is printable and
// has none, else Go-quoted; values longer than 100 characters are cut, with
// their length said.
func quote(s string) string {
	const max = 100
	suffix := ""
	if n := utf8.RuneCountInString(s); n > max {
		cut := 0
		for i := range s {
			if cut == max {
				s = s[:i]
				break
			}
			cut++
		}
		suffix = fmt.Sprintf("... (%d characters)", n)
	}
	plain := utf8.ValidString(s) && !strings.ContainsRune(s, '\'')
	for _, r := range s {
		if !unicode.IsPrint(r) {
			plain = false
			break
		}
	}
	if plain {
		return "'" + s + "'" + suffix
	}
	return fmt.Sprintf("%q", s) + suffix
}
