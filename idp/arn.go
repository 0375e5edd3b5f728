package idp

import (
	"fmt"
	"strings"
)

// An ARN is a parsed Amazon Resource Name,
// arn:partition:service:region:account:resource. It is parsed once, by
// ParseARN, and read through its accessors; String gives back exactly the
// text it was parsed from. ARNs are comparable with ==. The zero ARN is no
// ARN: its String is "".
type ARN struct {
	partition, service, region, account, resource string
}

// ParseARN parses s as arn:partition:service:region:account:resource. The
// partition, the service and the resource must not be empty; the region and
// the account may be (IAM ARNs have no region, S3 ARNs no account). The
// resource is everything after the fifth colon and may itself hold colons.
// ParseARN checks only this general shape: a role ARN is checked by
// ValidRoleARN, a SAML provider ARN by ValidSAMLProviderARN. The error says
// what is wrong with s.
func ParseARN(s string) (ARN, error) {
	a, err := splitARN(s)
	if err != nil {
		return ARN{}, err
	}
	var missing []string
	if a.partition == "" {
		missing = append(missing, "partition")
	}
	if a.service == "" {
		missing = append(missing, "service")
	}
	if a.resource == "" {
		missing = append(missing, "resource")
	}
	if len(missing) > 0 {
		return ARN{}, fmt.Errorf("%s is not an ARN: the %s %s empty; %s", Quote(s), strings.Join(missing, " and the "), plural(len(missing), "is", "are"), arnShape)
	}
	return a, nil
}

const arnShape = "an ARN looks like arn:partition:service:region:account:resource"

// splitARN splits s into its six parts, checking only that it begins with
// "arn:" and has six colon-separated parts.
func splitARN(s string) (ARN, error) {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, fmt.Errorf("%s is not an ARN: it does not begin with \"arn:\"; %s", Quote(s), arnShape)
	}
	p := strings.SplitN(rest, ":", 5)
	if len(p) != 5 {
		return ARN{}, fmt.Errorf("%s is not an ARN: it has %d of the 6 colon-separated parts; %s", Quote(s), len(p)+1, arnShape)
	}
	return ARN{partition: p[0], service: p[1], region: p[2], account: p[3], resource: p[4]}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// String returns the ARN as it was parsed; "" for the zero ARN.
func (a ARN) String() string {
	if a == (ARN{}) {
		return ""
	}
	return "arn:" + a.partition + ":" + a.service + ":" + a.region + ":" + a.account + ":" + a.resource
}

// IsZero reports whether a is the zero ARN.
func (a ARN) IsZero() bool { return a == (ARN{}) }

// Partition returns the partition: "aws", "aws-cn", "aws-us-gov", ...
func (a ARN) Partition() string { return a.partition }

// Service returns the service namespace: "iam", "sts", "s3", ...
func (a ARN) Service() string { return a.service }

// Region returns the region, "" for global services such as IAM and STS.
func (a ARN) Region() string { return a.region }

// Account returns the account ID, "" when the ARN has none. ParseARN does
// not require it to be an account ID; see IsAccountID.
func (a ARN) Account() string { return a.account }

// Resource returns everything after the account: "role/path/Name",
// "assumed-role/Role/Session", "saml-provider/Name", "root", ...
func (a ARN) Resource() string { return a.resource }

// ResourceType returns the resource's type, the text before its first "/":
// "role" for role/path/Name, "assumed-role" for assumed-role/Role/Session,
// "saml-provider", "oidc-provider", "user". It is "" when the resource has no
// "/" (as in "root").
func (a ARN) ResourceType() string {
	typ, _, ok := strings.Cut(a.resource, "/")
	if !ok {
		return ""
	}
	return typ
}

// ResourceID returns what follows the resource type and its "/": "path/Name"
// for role/path/Name, "Role/Session" for assumed-role/Role/Session,
// "accounts.google.com" for oidc-provider/accounts.google.com. It is the whole
// resource when the resource has no "/".
func (a ARN) ResourceID() string {
	_, id, ok := strings.Cut(a.resource, "/")
	if !ok {
		return a.resource
	}
	return id
}

// ResourceName returns the last "/"-separated segment of the resource: the
// role name of role/path/Name, the session name of assumed-role/Role/Session,
// the provider name of saml-provider/Name, the user name of user/path/Name.
// It is the whole resource when the resource has no "/".
func (a ARN) ResourceName() string {
	return a.resource[strings.LastIndexByte(a.resource, '/')+1:]
}
