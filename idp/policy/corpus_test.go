package policy

import (
	"strings"
	"testing"
)

// corpusCase is one condition block evaluated against one request context.
// The block is placed in an Allow statement (want true → allowed, false →
// implicitDeny) and in a Deny statement beside an Allow-all statement
// (want true → explicitDeny, false → allowed).
type corpusCase struct {
	name    string
	version string // "" → 2012-10-17; "none" → no Version element
	block   string // the Condition element
	ctx     Context
	want    bool
}

// one builds a context with single-valued keys: one("k1", "v1", "k2", "v2").
func one(kv ...string) Context {
	c := Context{}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

// many builds a context with one multi-valued key.
func many(key string, values ...string) Context {
	c := Context{}
	c.Set(key, values...)
	return c
}

var corpus = []corpusCase{
	// StringEquals and StringNotEquals.
	{"StringEquals match", "", `{"StringEquals":{"aws:username":"DevUser"}}`, one("aws:username", "DevUser"), true},
	{"StringEquals is case-sensitive", "", `{"StringEquals":{"aws:username":"devuser"}}`, one("aws:username", "DevUser"), false},
	{"StringEquals values are ORed", "", `{"StringEquals":{"aws:username":["Alice","DevUser"]}}`, one("aws:username", "DevUser"), true},
	{"StringEquals keys are ANDed", "", `{"StringEquals":{"aws:username":"DevUser","sts:RoleSessionName":"x"}}`, one("aws:username", "DevUser", "sts:RoleSessionName", "y"), false},
	{"operators are ANDed", "", `{"StringEquals":{"aws:username":"DevUser"},"StringLike":{"sts:RoleSessionName":"x*"}}`, one("aws:username", "DevUser", "sts:RoleSessionName", "y"), false},
	{"StringEquals wildcard is literal", "", `{"StringEquals":{"aws:username":"Dev*"}}`, one("aws:username", "DevUser"), false},
	{"StringEquals absent key", "", `{"StringEquals":{"aws:username":"DevUser"}}`, Context{}, false},
	{"StringEquals key with no values is absent", "", `{"StringEquals":{"aws:username":""}}`, Context{"aws:username": {}}, false},
	{"StringEquals empty string value", "", `{"StringEquals":{"aws:username":""}}`, one("aws:username", ""), true},
	{"StringEquals multi-valued key, plain operator: any value", "", `{"StringEquals":{"saml:groups":"admins"}}`, many("saml:groups", "users", "admins"), true},
	{"StringEqualsIfExists absent", "", `{"StringEqualsIfExists":{"aws:username":"DevUser"}}`, Context{}, true},
	{"StringEqualsIfExists present mismatch", "", `{"StringEqualsIfExists":{"aws:username":"DevUser"}}`, one("aws:username", "Bob"), false},
	{"StringEqualsIfExists present match", "", `{"StringEqualsIfExists":{"aws:username":"DevUser"}}`, one("aws:username", "DevUser"), true},
	{"StringNotEquals equal", "", `{"StringNotEquals":{"aws:username":"DevUser"}}`, one("aws:username", "DevUser"), false},
	{"StringNotEquals different", "", `{"StringNotEquals":{"aws:username":"DevUser"}}`, one("aws:username", "Bob"), true},
	{"StringNotEquals must match none of the values", "", `{"StringNotEquals":{"aws:username":["Alice","Bob"]}}`, one("aws:username", "Bob"), false},
	{"StringNotEquals absent key", "", `{"StringNotEquals":{"aws:username":"DevUser"}}`, Context{}, true},
	{"StringNotEquals multi-valued key, plain operator: negation of any", "", `{"StringNotEquals":{"saml:groups":"admins"}}`, many("saml:groups", "users", "admins"), false},
	{"StringNotEqualsIfExists absent", "", `{"StringNotEqualsIfExists":{"aws:username":"DevUser"}}`, Context{}, true},
	{"StringNotEqualsIfExists present equal", "", `{"StringNotEqualsIfExists":{"aws:username":"DevUser"}}`, one("aws:username", "DevUser"), false},

	// Case-insensitive strings.
	{"StringEqualsIgnoreCase match", "", `{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`, one("aws:username", "JohnDoe"), true},
	{"StringEqualsIgnoreCase mismatch", "", `{"StringEqualsIgnoreCase":{"aws:username":"janedoe"}}`, one("aws:username", "JohnDoe"), false},
	{"StringEqualsIgnoreCase absent", "", `{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`, Context{}, false},
	{"StringEqualsIgnoreCaseIfExists absent", "", `{"StringEqualsIgnoreCaseIfExists":{"aws:username":"johndoe"}}`, Context{}, true},
	{"StringEqualsIgnoreCaseIfExists present", "", `{"StringEqualsIgnoreCaseIfExists":{"aws:username":"johndoe"}}`, one("aws:username", "JOHNDOE"), true},
	{"StringNotEqualsIgnoreCase equal ignoring case", "", `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, one("aws:username", "JohnDoe"), false},
	{"StringNotEqualsIgnoreCase different", "", `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, one("aws:username", "Bob"), true},
	{"StringNotEqualsIgnoreCase absent", "", `{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`, Context{}, true},
	{"StringNotEqualsIgnoreCaseIfExists present equal", "", `{"StringNotEqualsIgnoreCaseIfExists":{"aws:username":"johndoe"}}`, one("aws:username", "JOHNDOE"), false},
	{"StringNotEqualsIgnoreCaseIfExists absent", "", `{"StringNotEqualsIgnoreCaseIfExists":{"aws:username":"johndoe"}}`, Context{}, true},

	// Wildcard strings.
	{"StringLike star", "", `{"StringLike":{"sts:SourceIdentity":"Dev*"}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"StringLike question mark", "", `{"StringLike":{"sts:SourceIdentity":"?evUser"}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"StringLike question mark is exactly one", "", `{"StringLike":{"sts:SourceIdentity":"?DevUser"}}`, one("sts:SourceIdentity", "DevUser"), false},
	{"StringLike is case-sensitive", "", `{"StringLike":{"sts:SourceIdentity":"dev*"}}`, one("sts:SourceIdentity", "DevUser"), false},
	{"StringLike star crosses slashes", "", `{"StringLike":{"s3:prefix":"home/*"}}`, one("s3:prefix", "home/a/b/c"), true},
	{"StringLike seed scenario 5 values", "", `{"StringLike":{"sts:SourceIdentity":["Saanvi","Diego"]}}`, one("sts:SourceIdentity", "Admin"), false},
	{"StringLikeIfExists absent", "", `{"StringLikeIfExists":{"sts:SourceIdentity":"Dev*"}}`, Context{}, true},
	{"StringLikeIfExists present mismatch", "", `{"StringLikeIfExists":{"sts:SourceIdentity":"Dev*"}}`, one("sts:SourceIdentity", "Bob"), false},
	{"StringNotLike matching", "", `{"StringNotLike":{"sts:SourceIdentity":"Dev*"}}`, one("sts:SourceIdentity", "DevUser"), false},
	{"StringNotLike not matching", "", `{"StringNotLike":{"sts:SourceIdentity":"Dev*"}}`, one("sts:SourceIdentity", "Bob"), true},
	{"StringNotLike absent", "", `{"StringNotLike":{"sts:SourceIdentity":"Dev*"}}`, Context{}, true},
	{"StringNotLikeIfExists present matching", "", `{"StringNotLikeIfExists":{"sts:SourceIdentity":"Dev*"}}`, one("sts:SourceIdentity", "DevUser"), false},
	{"StringNotLikeIfExists absent", "", `{"StringNotLikeIfExists":{"sts:SourceIdentity":"Dev*"}}`, Context{}, true},

	// Set operators on strings.
	{"ForAnyValue:StringEquals one matches", "", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["Project"]}}`, many("aws:TagKeys", "CostCenter", "Project"), true},
	{"ForAnyValue:StringEquals none matches", "", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["Project"]}}`, many("aws:TagKeys", "CostCenter"), false},
	{"ForAnyValue:StringEquals absent is false", "", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["Project"]}}`, Context{}, false},
	{"ForAnyValue:StringEqualsIfExists absent", "", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["Project"]}}`, Context{}, true},
	{"ForAllValues:StringEquals subset", "", `{"ForAllValues:StringEquals":{"aws:TagKeys":["Project","Department"]}}`, many("aws:TagKeys", "Project"), true},
	{"ForAllValues:StringEquals one outside", "", `{"ForAllValues:StringEquals":{"aws:TagKeys":["Project","Department"]}}`, many("aws:TagKeys", "Project", "CostCenter"), false},
	{"ForAllValues:StringEquals absent is true", "", `{"ForAllValues:StringEquals":{"aws:TagKeys":["Project"]}}`, Context{}, true},
	{"ForAllValues:StringEqualsIfExists present outside", "", `{"ForAllValues:StringEqualsIfExists":{"aws:TagKeys":["Project"]}}`, many("aws:TagKeys", "CostCenter"), false},
	{"ForAnyValue:StringNotEquals some value outside", "", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["Project"]}}`, many("aws:TagKeys", "Project", "CostCenter"), true},
	{"ForAnyValue:StringNotEquals all inside", "", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["Project"]}}`, many("aws:TagKeys", "Project"), false},
	{"ForAnyValue:StringNotEquals absent is false", "", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["Project"]}}`, Context{}, false},
	{"ForAllValues:StringNotEquals all outside", "", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Project","Owner"]}}`, many("aws:TagKeys", "CostCenter", "Env"), true},
	{"ForAllValues:StringNotEquals one inside", "", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Project","Owner"]}}`, many("aws:TagKeys", "CostCenter", "Owner"), false},
	{"ForAllValues:StringNotEquals absent is true", "", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["Project"]}}`, Context{}, true},
	{"ForAnyValue:StringLike", "", `{"ForAnyValue:StringLike":{"saml:edupersonaffiliation":"staff*"}}`, many("saml:edupersonaffiliation", "student", "staff-it"), true},
	{"ForAllValues:StringLike", "", `{"ForAllValues:StringLike":{"aws:TagKeys":"team-*"}}`, many("aws:TagKeys", "team-a", "other"), false},
	{"ForAllValues:StringNotLike", "", `{"ForAllValues:StringNotLike":{"aws:TagKeys":"aws*"}}`, many("aws:TagKeys", "team", "owner"), true},
	{"ForAnyValue:StringEqualsIgnoreCase", "", `{"ForAnyValue:StringEqualsIgnoreCase":{"saml:groups":"ADMINS"}}`, many("saml:groups", "users", "admins"), true},
	{"ForAllValues:StringNotEqualsIgnoreCase", "", `{"ForAllValues:StringNotEqualsIgnoreCase":{"saml:groups":"ADMINS"}}`, many("saml:groups", "users", "admins"), false},

	// Numbers.
	{"NumericEquals integer", "", `{"NumericEquals":{"aws:MultiFactorAuthAge":10}}`, one("aws:MultiFactorAuthAge", "10"), true},
	{"NumericEquals decimal forms", "", `{"NumericEquals":{"aws:MultiFactorAuthAge":"10.0"}}`, one("aws:MultiFactorAuthAge", "010"), true},
	{"NumericEquals fraction", "", `{"NumericEquals":{"aws:x":".5"}}`, one("aws:x", "0.50"), true},
	{"NumericEquals different", "", `{"NumericEquals":{"aws:MultiFactorAuthAge":10}}`, one("aws:MultiFactorAuthAge", "11"), false},
	{"NumericEquals non-number request", "", `{"NumericEquals":{"aws:MultiFactorAuthAge":10}}`, one("aws:MultiFactorAuthAge", "ten"), false},
	{"NumericEquals absent", "", `{"NumericEquals":{"aws:MultiFactorAuthAge":10}}`, Context{}, false},
	{"NumericEqualsIfExists absent", "", `{"NumericEqualsIfExists":{"aws:MultiFactorAuthAge":10}}`, Context{}, true},
	{"NumericNotEquals equal", "", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":[10,20]}}`, one("aws:MultiFactorAuthAge", "20.00"), false},
	{"NumericNotEquals different", "", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":[10,20]}}`, one("aws:MultiFactorAuthAge", "15"), true},
	{"NumericNotEquals absent", "", `{"NumericNotEquals":{"aws:MultiFactorAuthAge":10}}`, Context{}, true},
	{"NumericNotEqualsIfExists present equal", "", `{"NumericNotEqualsIfExists":{"aws:MultiFactorAuthAge":10}}`, one("aws:MultiFactorAuthAge", "10"), false},
	{"NumericLessThan below", "", `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`, one("aws:MultiFactorAuthAge", "300"), true},
	{"NumericLessThan equal", "", `{"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}`, one("aws:MultiFactorAuthAge", "3600"), false},
	{"NumericLessThan negative", "", `{"NumericLessThan":{"aws:x":"0.5"}}`, one("aws:x", "-1"), true},
	{"NumericLessThan negatives ordered", "", `{"NumericLessThan":{"aws:x":"-1.5"}}`, one("aws:x", "-1.25"), false},
	{"NumericLessThanIfExists absent", "", `{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":3600}}`, Context{}, true},
	{"NumericLessThanEquals equal", "", `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600}}`, one("aws:MultiFactorAuthAge", "3600"), true},
	{"NumericLessThanEquals above", "", `{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600}}`, one("aws:MultiFactorAuthAge", "3600.01"), false},
	{"NumericLessThanEqualsIfExists present above", "", `{"NumericLessThanEqualsIfExists":{"aws:MultiFactorAuthAge":3600}}`, one("aws:MultiFactorAuthAge", "7200"), false},
	{"NumericGreaterThan above", "", `{"NumericGreaterThan":{"aws:x":3600}}`, one("aws:x", "3600.5"), true},
	{"NumericGreaterThan longer integer", "", `{"NumericGreaterThan":{"aws:x":999}}`, one("aws:x", "1000"), true},
	{"NumericGreaterThan equal", "", `{"NumericGreaterThan":{"aws:x":3600}}`, one("aws:x", "3600"), false},
	{"NumericGreaterThanIfExists absent", "", `{"NumericGreaterThanIfExists":{"aws:x":3600}}`, Context{}, true},
	{"NumericGreaterThanEquals equal", "", `{"NumericGreaterThanEquals":{"aws:x":3600}}`, one("aws:x", "3600"), true},
	{"NumericGreaterThanEquals below", "", `{"NumericGreaterThanEquals":{"aws:x":3600}}`, one("aws:x", "-3600"), false},
	{"NumericGreaterThanEqualsIfExists absent", "", `{"NumericGreaterThanEqualsIfExists":{"aws:x":3600}}`, Context{}, true},
	{"ForAnyValue:NumericGreaterThan", "", `{"ForAnyValue:NumericGreaterThan":{"aws:x":5}}`, many("aws:x", "1", "9"), true},
	{"ForAllValues:NumericLessThan", "", `{"ForAllValues:NumericLessThan":{"aws:x":5}}`, many("aws:x", "1", "9"), false},

	// Dates.
	{"DateEquals ISO vs epoch", "", `{"DateEquals":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, one("aws:TokenIssueTime", "1704067200"), true},
	{"DateEquals zone offset", "", `{"DateEquals":{"aws:TokenIssueTime":"2024-01-01T02:00:00+02:00"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), true},
	{"DateEquals different", "", `{"DateEquals":{"aws:TokenIssueTime":"2024-01-01T00:00:00Z"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:01Z"), false},
	{"DateEqualsIfExists absent", "", `{"DateEqualsIfExists":{"aws:TokenIssueTime":"2024-01-01"}}`, Context{}, true},
	{"DateNotEquals equal", "", `{"DateNotEquals":{"aws:TokenIssueTime":"2024-01-01"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), false},
	{"DateNotEquals different", "", `{"DateNotEquals":{"aws:TokenIssueTime":"2024-01-01"}}`, one("aws:TokenIssueTime", "2024-01-02T00:00:00Z"), true},
	{"DateNotEquals absent", "", `{"DateNotEquals":{"aws:TokenIssueTime":"2024-01-01"}}`, Context{}, true},
	{"DateNotEqualsIfExists present equal", "", `{"DateNotEqualsIfExists":{"aws:TokenIssueTime":"2024-01-01"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), false},
	{"DateLessThan before", "", `{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
	{"DateLessThan after", "", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), false},
	{"DateLessThan fractional seconds", "", `{"DateLessThan":{"aws:CurrentTime":"2024-06-01T12:00:00.5Z"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
	{"DateLessThan invalid request value", "", `{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}`, one("aws:CurrentTime", "soon"), false},
	{"DateLessThanIfExists absent", "", `{"DateLessThanIfExists":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}`, Context{}, true},
	{"DateLessThanEquals equal", "", `{"DateLessThanEquals":{"aws:EpochTime":"2024-06-01T12:00:00Z"}}`, one("aws:EpochTime", "1717243200"), true},
	{"DateLessThanEqualsIfExists present after", "", `{"DateLessThanEqualsIfExists":{"aws:EpochTime":1717243200}}`, one("aws:EpochTime", "1717243201"), false},
	{"DateGreaterThan after", "", `{"DateGreaterThan":{"aws:CurrentTime":"2024-01-01"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
	{"DateGreaterThan equal", "", `{"DateGreaterThan":{"aws:CurrentTime":"2024-06-01T12:00:00Z"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), false},
	{"DateGreaterThanIfExists absent", "", `{"DateGreaterThanIfExists":{"aws:CurrentTime":"2024-01-01"}}`, Context{}, true},
	{"DateGreaterThanEquals equal epoch", "", `{"DateGreaterThanEquals":{"aws:CurrentTime":1717243200}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
	{"DateGreaterThanEqualsIfExists present before", "", `{"DateGreaterThanEqualsIfExists":{"aws:CurrentTime":"2025-01-01"}}`, one("aws:CurrentTime", "2024-06-01T12:00:00Z"), false},
	{"ForAnyValue:DateLessThan", "", `{"ForAnyValue:DateLessThan":{"aws:x":"2024-01-01"}}`, many("aws:x", "2025-01-01", "2023-01-01"), true},
	{"ForAllValues:DateGreaterThan", "", `{"ForAllValues:DateGreaterThan":{"aws:x":"2024-01-01"}}`, many("aws:x", "2025-01-01", "2023-01-01"), false},

	// Booleans.
	{"Bool true", "", `{"Bool":{"aws:SecureTransport":true}}`, one("aws:SecureTransport", "true"), true},
	{"Bool is case-insensitive", "", `{"Bool":{"aws:SecureTransport":"True"}}`, one("aws:SecureTransport", "TRUE"), true},
	{"Bool mismatch", "", `{"Bool":{"aws:SecureTransport":"true"}}`, one("aws:SecureTransport", "false"), false},
	{"Bool non-boolean request", "", `{"Bool":{"aws:SecureTransport":"true"}}`, one("aws:SecureTransport", "yes"), false},
	{"Bool absent", "", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, Context{}, false},
	{"BoolIfExists absent", "", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, Context{}, true},
	{"BoolIfExists present", "", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, one("aws:MultiFactorAuthPresent", "true"), false},
	{"ForAnyValue:Bool", "", `{"ForAnyValue:Bool":{"aws:x":true}}`, many("aws:x", "false", "true"), true},

	// Binary.
	{"BinaryEquals", "", `{"BinaryEquals":{"aws:x":"aGVsbG8="}}`, one("aws:x", "aGVsbG8="), true},
	{"BinaryEquals unpadded request", "", `{"BinaryEquals":{"aws:x":"aGVsbG8="}}`, one("aws:x", "aGVsbG8"), true},
	{"BinaryEquals different", "", `{"BinaryEquals":{"aws:x":"aGVsbG8="}}`, one("aws:x", "d29ybGQ="), false},
	{"BinaryEquals invalid request", "", `{"BinaryEquals":{"aws:x":"aGVsbG8="}}`, one("aws:x", "%%"), false},
	{"BinaryEqualsIfExists absent", "", `{"BinaryEqualsIfExists":{"aws:x":"aGVsbG8="}}`, Context{}, true},
	{"ForAnyValue:BinaryEquals", "", `{"ForAnyValue:BinaryEquals":{"aws:x":"aGVsbG8="}}`, many("aws:x", "eA==", "aGVsbG8="), true},

	// IP addresses.
	{"IpAddress in CIDR", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, one("aws:SourceIp", "203.0.113.7"), true},
	{"IpAddress outside CIDR", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, one("aws:SourceIp", "198.51.100.1"), false},
	{"IpAddress plain address", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, one("aws:SourceIp", "203.0.113.7"), true},
	{"IpAddress CIDR with host bits", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.9/24"}}`, one("aws:SourceIp", "203.0.113.7"), true},
	{"IpAddress IPv6", "", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, one("aws:SourceIp", "2001:db8::1"), true},
	{"IpAddress IPv6 outside", "", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, one("aws:SourceIp", "2001:db9::1"), false},
	{"IpAddress IPv4-mapped request", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, one("aws:SourceIp", "::ffff:203.0.113.7"), true},
	{"IpAddress invalid request", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, one("aws:SourceIp", "localhost"), false},
	{"IpAddress absent", "", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, Context{}, false},
	{"IpAddressIfExists absent", "", `{"IpAddressIfExists":{"aws:SourceIp":"203.0.113.0/24"}}`, Context{}, true},
	{"NotIpAddress inside", "", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, one("aws:SourceIp", "203.0.113.7"), false},
	{"NotIpAddress outside", "", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]}}`, one("aws:SourceIp", "198.51.100.1"), true},
	{"NotIpAddress absent", "", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, Context{}, true},
	{"NotIpAddressIfExists inside", "", `{"NotIpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, one("aws:SourceIp", "10.1.2.3"), false},
	{"ForAnyValue:IpAddress", "", `{"ForAnyValue:IpAddress":{"aws:x":"10.0.0.0/8"}}`, many("aws:x", "192.0.2.1", "10.1.2.3"), true},
	{"ForAllValues:NotIpAddress", "", `{"ForAllValues:NotIpAddress":{"aws:x":"10.0.0.0/8"}}`, many("aws:x", "192.0.2.1", "10.1.2.3"), false},

	// ARNs.
	{"ArnEquals exact", "", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Dev"), true},
	{"ArnEquals is case-sensitive", "", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Dev"), false},
	{"ArnEquals takes wildcards like ArnLike (AWS documented)", "", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/Dev*"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Developer"), true},
	{"ArnEqualsIfExists absent", "", `{"ArnEqualsIfExists":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, Context{}, true},
	{"ArnLike per part", "", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/path/Dev"), true},
	{"ArnLike star stays in its part", "", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:x:role/Dev"), false},
	{"ArnLike resource part keeps colons", "", `{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:*:log-group:*"}}`, one("aws:SourceArn", "arn:aws:logs:us-east-1:123456789012:log-group:g:*"), true},
	{"ArnLike question mark", "", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-?:123456789012:topic"}}`, one("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic"), true},
	{"ArnLike request not an ARN", "", `{"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}}`, one("aws:SourceArn", "not-an-arn"), false},
	{"ArnLikeIfExists absent", "", `{"ArnLikeIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`, Context{}, true},
	{"ArnNotEquals equal", "", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Dev"), false},
	{"ArnNotEquals different", "", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Ops"), true},
	{"ArnNotEquals absent", "", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, Context{}, true},
	{"ArnNotEqualsIfExists present equal", "", `{"ArnNotEqualsIfExists":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/Dev"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Dev"), false},
	{"ArnNotLike matching", "", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/AdminX"), false},
	{"ArnNotLike not matching", "", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Dev"), true},
	{"ArnNotLikeIfExists absent", "", `{"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}`, Context{}, true},
	{"ForAnyValue:ArnLike", "", `{"ForAnyValue:ArnLike":{"aws:x":"arn:aws:iam::*:role/A*"}}`, many("aws:x", "arn:aws:iam::1:role/B", "arn:aws:iam::1:role/A1"), true},
	{"ForAllValues:ArnNotLike", "", `{"ForAllValues:ArnNotLike":{"aws:x":"arn:aws:iam::*:role/A*"}}`, many("aws:x", "arn:aws:iam::1:role/B", "arn:aws:iam::1:role/A1"), false},

	// Null.
	{"Null true, absent", "", `{"Null":{"aws:TokenIssueTime":"true"}}`, Context{}, true},
	{"Null true, present", "", `{"Null":{"aws:TokenIssueTime":true}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), false},
	{"Null false, present", "", `{"Null":{"aws:TokenIssueTime":"false"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z"), true},
	{"Null false, absent", "", `{"Null":{"aws:TokenIssueTime":"FALSE"}}`, Context{}, false},
	{"Null true, key without values", "", `{"Null":{"aws:TagKeys":"true"}}`, Context{"aws:tagkeys": nil}, true},

	// Key forms: names fold case, including the tag-key part.
	{"RequestTag key case-folded", "", `{"StringEquals":{"aws:RequestTag/PROJECT":"blue"}}`, one("aws:requesttag/Project", "blue"), true},
	{"RequestTag value case kept", "", `{"StringEquals":{"aws:RequestTag/Project":"Blue"}}`, one("aws:RequestTag/project", "blue"), false},
	{"PrincipalTag key case-folded", "", `{"StringEquals":{"aws:principaltag/Team":"ops"}}`, one("aws:PrincipalTag/TEAM", "ops"), true},
	{"ResourceTag key case-folded", "", `{"StringEquals":{"aws:ResourceTag/Env":"prod"}}`, one("AWS:RESOURCETAG/ENV", "prod"), true},
	{"sts:SourceIdentity", "", `{"StringEquals":{"sts:SourceIdentity":"DevUser"}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"STS:SourceIdentity upper-case prefix", "", `{"StringEquals":{"STS:SOURCEIDENTITY":"DevUser"}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"aws:SourceIdentity", "", `{"StringLike":{"aws:SourceIdentity":["Saanvi","Diego"]}}`, one("aws:SourceIdentity", "Saanvi"), true},
	{"aws:SourceIdentity is not sts:SourceIdentity", "", `{"StringLike":{"aws:SourceIdentity":"Saanvi"}}`, one("sts:SourceIdentity", "Saanvi"), false},
	{"SAML:aud upper case", "", `{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}`, one("saml:aud", "https://signin.aws.amazon.com/saml"), true},
	{"saml:aud against a context map literal in upper case", "", `{"StringEquals":{"saml:aud":"https://signin.aws.amazon.com/saml"}}`, Context{"SAML:AUD": {"https://signin.aws.amazon.com/saml"}}, true},
	{"saml:doc", "", `{"StringEquals":{"saml:doc":"123456789012/MySAMLIdP"}}`, one("saml:doc", "123456789012/MySAMLIdP"), true},
	{"web identity provider key", "", `{"StringEquals":{"accounts.google.com:aud":"ac_oic_client"}}`, one("Accounts.Google.com:AUD", "ac_oic_client"), true},
	{"OIDC provider key with path", "", `{"StringLike":{"oidc.example.com/id/ABC:sub":"system:*"}}`, one("oidc.example.com/id/abc:sub", "system:svc"), true},

	// Policy variables.
	{"variable substituted", "", `{"StringLike":{"sts:SourceIdentity":"${aws:username}"}}`, one("aws:username", "DevUser", "sts:SourceIdentity", "DevUser"), true},
	{"variable key is case-insensitive", "", `{"StringEquals":{"sts:SourceIdentity":"${AWS:UserName}"}}`, one("aws:username", "DevUser", "sts:SourceIdentity", "DevUser"), true},
	{"variable within text", "", `{"StringEquals":{"s3:prefix":"home/${aws:username}/"}}`, one("aws:username", "Bob", "s3:prefix", "home/Bob/"), true},
	{"variable value mismatch", "", `{"StringLike":{"sts:SourceIdentity":"${aws:username}"}}`, one("aws:username", "Bob", "sts:SourceIdentity", "DevUser"), false},
	{"variable unresolved: positive false", "", `{"StringLike":{"sts:SourceIdentity":"${aws:username}"}}`, one("sts:SourceIdentity", "DevUser"), false},
	{"variable unresolved: other values still count", "", `{"StringEquals":{"sts:SourceIdentity":["${aws:username}","DevUser"]}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"variable unresolved: negated true", "", `{"StringNotEquals":{"sts:SourceIdentity":"${aws:username}"}}`, one("sts:SourceIdentity", "DevUser"), true},
	{"variable unresolved: multi-valued key", "", `{"StringEquals":{"sts:SourceIdentity":"${saml:groups}"}}`, Context{"saml:groups": {"a", "b"}, "sts:sourceidentity": {"a"}}, false},
	{"variable default when absent", "", `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team, 'company-wide'}"}}`, one("s3:prefix", "company-wide"), true},
	{"variable default ignored when present", "", `{"StringEquals":{"s3:prefix":"${aws:PrincipalTag/team,'company-wide'}"}}`, one("aws:PrincipalTag/team", "ops", "s3:prefix", "company-wide"), false},
	{"variable empty default", "", `{"StringEquals":{"s3:prefix":"a${aws:x, ''}b"}}`, one("s3:prefix", "ab"), true},
	{"escape ${*} is a literal star", "", `{"StringLike":{"s3:prefix":"a${*}b"}}`, one("s3:prefix", "a*b"), true},
	{"escape ${*} is not a wildcard", "", `{"StringLike":{"s3:prefix":"a${*}b"}}`, one("s3:prefix", "axxb"), false},
	{"escape ${?} is not a wildcard", "", `{"StringLike":{"s3:prefix":"a${?}b"}}`, one("s3:prefix", "axb"), false},
	{"escape ${?} literal", "", `{"StringEquals":{"s3:prefix":"a${?}b"}}`, one("s3:prefix", "a?b"), true},
	{"escape ${$}", "", `{"StringEquals":{"s3:prefix":"${$}{x}"}}`, one("s3:prefix", "${x}"), true},
	{"escapes beside wildcards", "", `{"StringLike":{"s3:prefix":"${*}*"}}`, one("s3:prefix", "*anything"), true},
	{"substituted star is literal in StringLike", "", `{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team}"}}`, one("aws:PrincipalTag/team", "*", "s3:prefix", "everything"), false},
	{"substituted star matches itself", "", `{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team}/*"}}`, one("aws:PrincipalTag/team", "*", "s3:prefix", "*/x"), true},
	{"variable in ArnEquals", "", `{"ArnEquals":{"aws:SourceArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`, one("aws:PrincipalAccount", "123456789012", "aws:SourceArn", "arn:aws:iam::123456789012:role/R"), true},
	{"variable is a whole ARN", "", `{"ArnLike":{"aws:SourceArn":"${aws:PrincipalArn}"}}`, one("aws:PrincipalArn", "arn:aws:iam::123456789012:role/R", "aws:SourceArn", "arn:aws:iam::123456789012:role/R"), true},
	{"variable resolving to a non-ARN", "", `{"ArnLike":{"aws:SourceArn":"${aws:PrincipalArn}"}}`, one("aws:PrincipalArn", "R", "aws:SourceArn", "R"), false},
	{"variable in NumericLessThan", "", `{"NumericLessThan":{"aws:x":"${aws:y}"}}`, one("aws:x", "1", "aws:y", "2"), true},
	{"variable resolving to a non-number", "", `{"NumericLessThan":{"aws:x":"${aws:y}"}}`, one("aws:x", "1", "aws:y", "two"), false},
	{"variable in DateLessThan", "", `{"DateLessThan":{"aws:TokenIssueTime":"${aws:CurrentTime}"}}`, one("aws:TokenIssueTime", "2024-01-01T00:00:00Z", "aws:CurrentTime", "2024-06-01T00:00:00Z"), true},
	{"variable in IpAddress", "", `{"IpAddress":{"aws:SourceIp":"${aws:PrincipalTag/net}"}}`, one("aws:SourceIp", "10.1.1.1", "aws:PrincipalTag/net", "10.0.0.0/8"), true},
	{"variable in Bool", "", `{"Bool":{"aws:x":"${aws:y}"}}`, one("aws:x", "true", "aws:y", "TRUE"), true},
	{"variable in BinaryEquals", "", `{"BinaryEquals":{"aws:x":"${aws:y}"}}`, one("aws:x", "aGk=", "aws:y", "aGk="), true},
	{"variable in StringEqualsIgnoreCase", "", `{"StringEqualsIgnoreCase":{"aws:x":"${aws:y}"}}`, one("aws:x", "ABC", "aws:y", "abc"), true},
	{"no variables under 2008-10-17", "2008-10-17", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, one("aws:username", "Bob", "s3:prefix", "${aws:username}"), true},
	{"no variables without Version", "none", `{"StringEquals":{"s3:prefix":"${aws:username}"}}`, one("aws:username", "Bob", "s3:prefix", "Bob"), false},
	{"no escapes without Version", "none", `{"StringLike":{"s3:prefix":"${*}"}}`, one("s3:prefix", "${anything}"), true},
}

func corpusDocs(tc corpusCase) (allow, deny string) {
	version := `"Version":"2012-10-17",`
	switch tc.version {
	case "none":
		version = ""
	case "":
	default:
		version = `"Version":"` + tc.version + `",`
	}
	allow = `{` + version + `"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":` + tc.block + `}]}`
	deny = `{` + version + `"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":` + tc.block + `}]}`
	return allow, deny
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	for _, tc := range corpus {
		t.Run(tc.name, func(t *testing.T) {
			allowDoc, denyDoc := corpusDocs(tc)
			allow, err := Parse([]byte(allowDoc))
			if err != nil {
				t.Fatal(err)
			}
			deny, err := Parse([]byte(denyDoc))
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/R", Context: tc.ctx}
			wantAllow, wantDeny := NoDecision, Allow
			if tc.want {
				wantAllow, wantDeny = Allow, Deny
			}
			if got := allow.Evaluate(req).Decision; got != wantAllow {
				t.Errorf("in an Allow statement: %v, want %v", got, wantAllow)
			}
			if got := deny.Evaluate(req).Decision; got != wantDeny {
				t.Errorf("in a Deny statement: %v, want %v", got, wantDeny)
			}
		})
	}
}

// TestCorpusCoverage proves the corpus exercises every operator with and
// without IfExists, and the set prefixes on every operator family.
func TestCorpusCoverage(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range corpus {
		allowDoc, _ := corpusDocs(tc)
		p, err := Parse([]byte(allowDoc))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, c := range p.Statements[0].Conditions {
			seen[c.Operator] = true
		}
	}
	for name := range operators {
		if !seen[name] {
			t.Errorf("corpus lacks %s", name)
		}
		if name != "Null" && !seen[name+"IfExists"] {
			t.Errorf("corpus lacks %sIfExists", name)
		}
	}
	families := map[family][2]bool{}
	for op := range seen {
		set := 0
		switch {
		case strings.HasPrefix(op, "ForAnyValue:"):
			op = strings.TrimPrefix(op, "ForAnyValue:")
		case strings.HasPrefix(op, "ForAllValues:"):
			op, set = strings.TrimPrefix(op, "ForAllValues:"), 1
		default:
			continue
		}
		f := operators[strings.TrimSuffix(op, "IfExists")].family
		got := families[f]
		got[set] = true
		families[f] = got
	}
	for _, f := range []family{famString, famStringFold, famStringLike, famNumeric, famDate, famIP, famARN} {
		if got := families[f]; !got[0] || !got[1] {
			t.Errorf("corpus lacks ForAnyValue:/ForAllValues: for %s operators (have %v)", f.valueName(), got)
		}
	}
	for _, f := range []family{famBool, famBinary} {
		if got := families[f]; !got[0] {
			t.Errorf("corpus lacks ForAnyValue: for %s operators", f.valueName())
		}
	}
}
