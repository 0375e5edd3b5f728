package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stmt wraps one statement body in a 2012-10-17 policy document.
func stmt(body string) string {
	return `{"Version":"2012-10-17","Statement":[{` + body + `}]}`
}

// cond wraps a Condition block in an Allow statement.
func cond(block string) string {
	return stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":` + block)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	big := `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"` + strings.Repeat("x", MaxDocumentSize) + `"}}`
	deep := `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":` + strings.Repeat("[", 10) + strings.Repeat("]", 10) + `}}`
	tests := []struct {
		name   string
		doc    string
		want   ParseError
		prefix bool // Reason need only start with want.Reason
	}{
		// Document level.
		{"too large", big, ParseError{-1, "", "policy document is larger than 65536 bytes"}, false},
		{"invalid JSON", `{"Statement":`, ParseError{-1, "", "invalid JSON"}, true},
		{"syntax error", `{"Statement" 1}`, ParseError{-1, "", "invalid JSON at byte"}, true},
		{"invalid UTF-8", "{\"Id\":\"\xff\"}", ParseError{-1, "", "document is not valid UTF-8"}, false},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"s3:*"}} {}`, ParseError{-1, "", "unexpected data after the policy document"}, false},
		{"not an object", `[]`, ParseError{-1, "", "policy document must be a JSON object"}, false},
		{"nesting too deep", deep, ParseError{-1, "", "nesting deeper than 8 levels"}, false},
		{"unknown top-level element", `{"Statement":{"Effect":"Allow","Action":"s3:*"},"Foo":1}`, ParseError{-1, "Foo", "unknown element"}, false},
		{"lower-case element name", `{"statement":{"Effect":"Allow","Action":"s3:*"}}`, ParseError{-1, "statement", "unknown element"}, false},
		{"duplicate Version", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, ParseError{-1, "Version", "duplicate element"}, false},
		{"Version not a string", `{"Version":2012,"Statement":{"Effect":"Allow","Action":"s3:*"}}`, ParseError{-1, "Version", "must be a string"}, false},
		{"unknown Version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"s3:*"}}`, ParseError{-1, "Version", `unsupported version "2020-01-01"`}, false},
		{"Id not a string", `{"Id":1,"Statement":{"Effect":"Allow","Action":"s3:*"}}`, ParseError{-1, "Id", "must be a string"}, false},
		{"Statement missing", `{"Version":"2012-10-17"}`, ParseError{-1, "Statement", "missing"}, false},
		{"Statement empty array", `{"Statement":[]}`, ParseError{-1, "Statement", "empty array"}, false},
		{"Statement a string", `{"Statement":"Allow"}`, ParseError{-1, "Statement", "must be an object or an array of objects"}, false},
		{"statement not an object", `{"Statement":[{"Effect":"Allow","Action":"s3:*"},"x"]}`, ParseError{1, "", "statement must be an object"}, false},

		// Statement elements.
		{"unknown statement element", stmt(`"Effect":"Allow","Action":"s3:*","Effects":"Allow"`), ParseError{0, "Effects", "unknown element"}, false},
		{"duplicate Action", stmt(`"Effect":"Allow","Action":"s3:*","Action":"s3:*"`), ParseError{0, "Action", "duplicate element"}, false},
		{"Effect missing", stmt(`"Action":"s3:*"`), ParseError{0, "Effect", "missing"}, false},
		{"Effect wrong case", stmt(`"Effect":"allow","Action":"s3:*"`), ParseError{0, "Effect", `must be "Allow" or "Deny", not "allow"`}, false},
		{"Effect not a string", stmt(`"Effect":true,"Action":"s3:*"`), ParseError{0, "Effect", "must be a string"}, false},
		{"Sid not alphanumeric", stmt(`"Sid":"a-b","Effect":"Allow","Action":"s3:*"`), ParseError{0, "Sid", "must contain only ASCII letters and digits"}, false},
		{"Sid not a string", stmt(`"Sid":1,"Effect":"Allow","Action":"s3:*"`), ParseError{0, "Sid", "must be a string"}, false},
		{"duplicate Sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*"},{"Sid":"A","Effect":"Deny","Action":"s3:*"}]}`, ParseError{1, "Sid", `duplicate Sid "A"`}, false},
		{"Action and NotAction", stmt(`"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*"`), ParseError{0, "NotAction", "cannot be used together with Action"}, false},
		{"neither Action nor NotAction", stmt(`"Effect":"Allow","Resource":"*"`), ParseError{0, "Action", "missing Action or NotAction"}, false},
		{"Resource and NotResource", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"*"`), ParseError{0, "NotResource", "cannot be used together with Resource"}, false},
		{"Principal and NotPrincipal", stmt(`"Effect":"Allow","Action":"s3:*","Principal":"*","NotPrincipal":"*"`), ParseError{0, "NotPrincipal", "cannot be used together with Principal"}, false},
		{"Action empty array", stmt(`"Effect":"Allow","Action":[]`), ParseError{0, "Action", "empty array"}, false},
		{"Action empty string", stmt(`"Effect":"Allow","Action":""`), ParseError{0, "Action", "empty string"}, false},
		{"Action number", stmt(`"Effect":"Allow","Action":1`), ParseError{0, "Action", "must be a string or an array of strings, not number"}, false},
		{"Action array of numbers", stmt(`"Effect":"Allow","Action":[1]`), ParseError{0, "Action", "array items must be strings, not number"}, false},
		{"Action without service", stmt(`"Effect":"Allow","Action":"AssumeRole"`), ParseError{0, "Action", `invalid action "AssumeRole": want "service:action" or "*"`}, false},
		{"Action empty name", stmt(`"Effect":"Allow","Action":"sts:"`), ParseError{0, "Action", `invalid action "sts:": want "service:action" or "*"`}, false},
		{"Action space", stmt(`"Effect":"Allow","Action":"sts:Assume Role"`), ParseError{0, "Action", `invalid action "sts:Assume Role": want "service:action" or "*"`}, false},
		{"NotAction invalid", stmt(`"Effect":"Allow","NotAction":":x"`), ParseError{0, "NotAction", `invalid action ":x": want "service:action" or "*"`}, false},
		{"Resource empty array", stmt(`"Effect":"Allow","Action":"s3:*","Resource":[]`), ParseError{0, "Resource", "empty array"}, false},
		{"Resource not an ARN", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"bucket"`), ParseError{0, "Resource", `invalid resource "bucket": want "*" or an ARN`}, false},
		{"Resource short ARN", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3"`), ParseError{0, "Resource", `invalid resource "arn:aws:s3": want "*" or an ARN`}, false},
		{"NotResource empty string", stmt(`"Effect":"Allow","Action":"s3:*","NotResource":""`), ParseError{0, "NotResource", "empty string"}, false},
		{"Resource unterminated variable", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"`), ParseError{0, "Resource", `"arn:aws:s3:::b/${aws:username": unterminated policy variable`}, false},

		// Principal.
		{"Principal other string", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":"123456789012"`), ParseError{0, "Principal", `a string principal must be "*", not "123456789012"`}, false},
		{"Principal number", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":1`), ParseError{0, "Principal", `must be "*" or an object, not number`}, false},
		{"Principal empty object", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{}`), ParseError{0, "Principal", "empty object"}, false},
		{"Principal unknown type", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"IAM":"*"}`), ParseError{0, "Principal", `unknown principal type "IAM"`}, false},
		{"Principal lower-case type", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"aws":"*"}`), ParseError{0, "Principal", `unknown principal type "aws"`}, false},
		{"Principal duplicate type", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"*","AWS":"*"}`), ParseError{0, "Principal", `duplicate key "AWS"`}, false},
		{"Principal empty array", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":[]}`), ParseError{0, "Principal", "empty array"}, false},
		{"Principal AWS name", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"alice"}`), ParseError{0, "Principal", `AWS principal "alice": want an account ID, or a root, user, role or assumed-role ARN`}, false},
		{"Principal AWS short account", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"12345678901"}`), ParseError{0, "Principal", `AWS principal "12345678901": want an account ID, or a root, user, role or assumed-role ARN`}, false},
		{"Principal AWS group", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::123456789012:group/Admins"}`), ParseError{0, "Principal", `AWS principal "arn:aws:iam::123456789012:group/Admins": want an account ID, or a root, user, role or assumed-role ARN`}, false},
		{"Principal AWS partial wildcard", stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"}`), ParseError{0, "Principal", `AWS principal "arn:aws:iam::123456789012:user/*": wildcards are allowed only as "*" alone`}, false},
		{"Principal Federated wildcard", stmt(`"Effect":"Allow","Action":"sts:AssumeRoleWithSAML","Principal":{"Federated":"arn:aws:iam::123456789012:saml-provider/*"}`), ParseError{0, "Principal", `Federated principal "arn:aws:iam::123456789012:saml-provider/*": wildcards are not allowed`}, false},
		{"NotPrincipal invalid", stmt(`"Effect":"Deny","Action":"sts:AssumeRole","NotPrincipal":{"Service":["ec2.amazonaws.com",1]}`), ParseError{0, "NotPrincipal", "array items must be strings, not number"}, false},

		// Condition block.
		{"Condition not an object", cond(`[]`), ParseError{0, "Condition", "must be an object, not array"}, false},
		{"Condition empty", cond(`{}`), ParseError{0, "Condition", "empty object"}, false},
		{"unknown operator", cond(`{"StringEqualz":{"aws:username":"a"}}`), ParseError{0, "Condition", `unknown operator "StringEqualz"`}, false},
		{"operator wrong case", cond(`{"stringequals":{"aws:username":"a"}}`), ParseError{0, "Condition", `unknown operator "stringequals"`}, false},
		{"unknown set prefix", cond(`{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}`), ParseError{0, "Condition", `unknown operator "ForSomeValues:StringEquals"`}, false},
		{"IfExists twice", cond(`{"StringEqualsIfExistsIfExists":{"aws:username":"a"}}`), ParseError{0, "Condition", `unknown operator "StringEqualsIfExistsIfExists"`}, false},
		{"NullIfExists", cond(`{"NullIfExists":{"aws:username":"true"}}`), ParseError{0, "Condition", `operator "NullIfExists": Null takes neither IfExists nor a set prefix`}, false},
		{"ForAnyValue:Null", cond(`{"ForAnyValue:Null":{"aws:TagKeys":"true"}}`), ParseError{0, "Condition", `operator "ForAnyValue:Null": Null takes neither IfExists nor a set prefix`}, false},
		{"duplicate operator", cond(`{"StringEquals":{"aws:username":"a"},"StringEquals":{"aws:userid":"b"}}`), ParseError{0, "Condition", `duplicate operator "StringEquals"`}, false},
		{"operator value not an object", cond(`{"StringEquals":"a"}`), ParseError{0, "Condition", "StringEquals: must be an object of condition keys, not string"}, false},
		{"operator empty object", cond(`{"StringEquals":{}}`), ParseError{0, "Condition", "StringEquals: empty object"}, false},
		{"duplicate key ignoring case", cond(`{"StringEquals":{"aws:username":"a","AWS:UserName":"b"}}`), ParseError{0, "Condition", `StringEquals: duplicate key "AWS:UserName"`}, false},
		{"key without prefix", cond(`{"StringEquals":{"username":"a"}}`), ParseError{0, "Condition", `StringEquals: invalid condition key "username"`}, false},
		{"key with space", cond(`{"StringEquals":{"aws:user name":"a"}}`), ParseError{0, "Condition", `StringEquals: invalid condition key "aws:user name"`}, false},
		{"null value", cond(`{"StringEquals":{"aws:username":null}}`), ParseError{0, "Condition", `StringEquals "aws:username": value must be a string, number, boolean or an array of them, not null`}, false},
		{"object value", cond(`{"StringEquals":{"aws:username":{}}}`), ParseError{0, "Condition", `StringEquals "aws:username": value must be a string, number, boolean or an array of them, not object`}, false},
		{"empty value array", cond(`{"StringEquals":{"aws:username":[]}}`), ParseError{0, "Condition", `StringEquals "aws:username": empty array`}, false},
		{"nested value array", cond(`{"StringEquals":{"aws:username":[["a"]]}}`), ParseError{0, "Condition", `StringEquals "aws:username": array items must be strings, numbers or booleans, not array`}, false},

		// Values the operator cannot interpret.
		{"NumericEquals word", cond(`{"NumericEquals":{"aws:MultiFactorAuthAge":"abc"}}`), ParseError{0, "Condition", `NumericEquals "aws:MultiFactorAuthAge": invalid number "abc"`}, false},
		{"NumericLessThan exponent", cond(`{"NumericLessThan":{"aws:MultiFactorAuthAge":1e3}}`), ParseError{0, "Condition", `NumericLessThan "aws:MultiFactorAuthAge": invalid number "1e3"`}, false},
		{"DateLessThan word", cond(`{"DateLessThan":{"aws:CurrentTime":"yesterday"}}`), ParseError{0, "Condition", `DateLessThan "aws:CurrentTime": invalid date "yesterday"`}, false},
		{"DateEquals wildcard", cond(`{"DateEquals":{"aws:CurrentTime":"2024-*"}}`), ParseError{0, "Condition", `DateEquals "aws:CurrentTime": invalid date "2024-*"`}, false},
		{"Bool yes", cond(`{"Bool":{"aws:SecureTransport":"yes"}}`), ParseError{0, "Condition", `Bool "aws:SecureTransport": invalid boolean "yes"`}, false},
		{"BinaryEquals not base64", cond(`{"BinaryEquals":{"aws:x":"!!"}}`), ParseError{0, "Condition", `BinaryEquals "aws:x": invalid base64 value "!!"`}, false},
		{"IpAddress bad prefix length", cond(`{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), ParseError{0, "Condition", `IpAddress "aws:SourceIp": invalid IP address or CIDR block "10.0.0.0/33"`}, false},
		{"NotIpAddress host name", cond(`{"NotIpAddress":{"aws:SourceIp":"example.com"}}`), ParseError{0, "Condition", `NotIpAddress "aws:SourceIp": invalid IP address or CIDR block "example.com"`}, false},
		{"ArnLike too few parts", cond(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam"}}`), ParseError{0, "Condition", `ArnLike "aws:PrincipalArn": invalid ARN "arn:aws:iam"`}, false},
		{"Null maybe", cond(`{"Null":{"aws:TokenIssueTime":"maybe"}}`), ParseError{0, "Condition", `Null "aws:TokenIssueTime": invalid Null value "maybe": want true or false`}, false},
		{"unterminated variable", cond(`{"StringLike":{"s3:prefix":"home/${aws:username"}}`), ParseError{0, "Condition", `StringLike "s3:prefix": "home/${aws:username": unterminated policy variable`}, false},
		{"empty variable", cond(`{"StringLike":{"s3:prefix":"${}"}}`), ParseError{0, "Condition", `StringLike "s3:prefix": "${}": empty policy variable`}, false},
		{"unquoted default", cond(`{"StringLike":{"s3:prefix":"${aws:username, x}"}}`), ParseError{0, "Condition", `StringLike "s3:prefix": "${aws:username, x}": policy variable default must be in single quotes`}, false},
		{"second statement named", `{"Statement":[{"Effect":"Allow","Action":"s3:*"},{"Effect":"Allow","Action":"s3:*","Condition":{"StringEqualz":{"a:b":"c"}}}]}`, ParseError{1, "Condition", `unknown operator "StringEqualz"`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted the document: %+v", p)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Statement != tc.want.Statement || pe.Element != tc.want.Element {
				t.Errorf("got Statement=%d Element=%q, want %d %q (%v)", pe.Statement, pe.Element, tc.want.Statement, tc.want.Element, err)
			}
			if tc.prefix && !strings.HasPrefix(pe.Reason, tc.want.Reason) || !tc.prefix && pe.Reason != tc.want.Reason {
				t.Errorf("Reason = %q, want %q", pe.Reason, tc.want.Reason)
			}
		})
	}
}

func TestParseErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  ParseError
		want string
	}{
		{"statement element", ParseError{1, "Condition", `unknown operator "StringEqualz"`}, `Statement[1].Condition: unknown operator "StringEqualz"`},
		{"statement only", ParseError{0, "", "statement must be an object"}, "Statement[0]: statement must be an object"},
		{"top-level element", ParseError{-1, "Version", `unsupported version "1"`}, `Version: unsupported version "1"`},
		{"document", ParseError{-1, "", "invalid JSON"}, "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	doc := `{
	  "Id": "trust",
	  "Statement": [
	    {"Sid": "S1", "Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
	     "Condition": {
	       "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
	       "Bool": {"aws:SecureTransport": true},
	       "NumericEquals": {"aws:x": ["1.50", -2]},
	       "ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a", "b"]}
	     }},
	    {"Effect": "Deny", "NotPrincipal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:root"], "Federated": "accounts.google.com", "Service": "ec2.amazonaws.com", "CanonicalUser": "79a59df900b949e55d96a1e698fbaced"},
	     "NotAction": ["sts:TagSession", "sts:Set*"], "NotResource": "arn:aws:iam::*:role/${x"}
	  ]
	}`
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Policy{
		ID: "trust",
		Statements: []Statement{
			{
				Sid: "S1", Effect: "Allow", Principal: &PrincipalSet{Wildcard: true}, Action: []string{"sts:AssumeRole"}, Index: 0,
				Conditions: []Condition{
					{Operator: "NumericLessThan", Type: "NumericLessThan", Key: "aws:MultiFactorAuthAge", Values: []string{"3600"}},
					{Operator: "Bool", Type: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
					{Operator: "NumericEquals", Type: "NumericEquals", Key: "aws:x", Values: []string{"1.50", "-2"}},
					{Operator: "ForAllValues:StringEqualsIfExists", Type: "StringEquals", Set: ForAllValues, IfExists: true, Key: "aws:TagKeys", Values: []string{"a", "b"}},
				},
			},
			{
				Effect: "Deny",
				NotPrincipal: &PrincipalSet{
					AWS: []string{"123456789012", "arn:aws:iam::123456789012:root"}, Federated: []string{"accounts.google.com"},
					Service: []string{"ec2.amazonaws.com"}, CanonicalUser: []string{"79a59df900b949e55d96a1e698fbaced"},
				},
				NotAction: []string{"sts:TagSession", "sts:Set*"}, NotResource: []string{"arn:aws:iam::*:role/${x"}, Index: 1,
			},
		},
	}
	p.compiled = nil
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse =\n%+v\nwant\n%+v", p, want)
	}
}

func TestParseStatementObject(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"Version":"2008-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Version2008 || len(p.Statements) != 1 || p.Statements[0].Index != 0 || p.Statements[0].Effect != EffectDeny {
		t.Errorf("Parse = %+v", p)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      string
		trust    *ParseError // nil: valid as a trust policy
		identity *ParseError // nil: valid as an identity policy
	}{
		{
			name:     "trust policy",
			doc:      stmt(`"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"`),
			identity: &ParseError{0, "Principal", "not allowed in an identity policy"},
		},
		{
			name:     "trust policy with Resource",
			doc:      stmt(`"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"`),
			identity: &ParseError{0, "Principal", "not allowed in an identity policy"},
		},
		{
			name:     "NotPrincipal",
			doc:      stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole","Resource":"*"`),
			trust:    &ParseError{0, "NotPrincipal", "not allowed in a trust policy"},
			identity: &ParseError{0, "NotPrincipal", "not allowed in an identity policy"},
		},
		{
			name:  "identity policy",
			doc:   stmt(`"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/R"`),
			trust: &ParseError{0, "Principal", "required in a trust policy"},
		},
		{
			name:  "identity policy with NotResource",
			doc:   stmt(`"Effect":"Allow","Action":"sts:AssumeRole","NotResource":"arn:aws:iam::123456789012:role/R"`),
			trust: &ParseError{0, "Principal", "required in a trust policy"},
		},
		{
			name:     "neither: no Principal and no Resource",
			doc:      `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Principal":"*"},{"Effect":"Allow","Action":"s3:*"}]}`,
			trust:    &ParseError{1, "Principal", "required in a trust policy"},
			identity: &ParseError{0, "Principal", "not allowed in an identity policy"},
		},
	}
	check := func(t *testing.T, what string, err error, want *ParseError) {
		t.Helper()
		if want == nil {
			if err != nil {
				t.Errorf("%s: unexpected error %v", what, err)
			}
			return
		}
		var pe *ParseError
		if !errors.As(err, &pe) || *pe != *want {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			check(t, "ValidateTrust", p.ValidateTrust(), tc.trust)
			check(t, "ValidateIdentity", p.ValidateIdentity(), tc.identity)
		})
	}
}
