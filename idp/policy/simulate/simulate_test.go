package simulate

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"idpbridge/idp/policy"
)

const (
	acct      = "123456789012"
	alice     = "arn:aws:iam::123456789012:user/alice"
	aliceSess = "arn:aws:sts::123456789012:assumed-role/Developer/alice"
	devUser   = "arn:aws:iam::123456789012:user/DevUser"
	role      = "arn:aws:iam::123456789012:role/Developer"
)

// simCase is one simulation, shared by the Run and the HTTP handler tests.
type simCase struct {
	name      string
	files     []string // under testdata
	action    string
	resource  string
	principal string
	context   map[string][]string
	want      Output
}

func stmts(ms ...MatchedStatement) []MatchedStatement {
	if ms == nil {
		return []MatchedStatement{}
	}
	return ms
}

func ctxOf(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

var simCases = []simCase{
	{
		name: "allow", files: []string{"allow.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::example-bucket/a.txt",
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"allow.json", 0, "ReadBucket", "Allow"}), Context: ctxOf()},
	},
	{
		name: "explicit deny beats allow", files: []string{"allow.json", "deny.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::example-bucket/secret/k",
		want: Output{Decision: "explicitDeny", MatchedStatements: stmts(MatchedStatement{"deny.json", 1, "NoSecrets", "Deny"}), Context: ctxOf()},
	},
	{
		name: "allow where the deny does not apply", files: []string{"allow.json", "deny.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::example-bucket/public/k",
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"allow.json", 0, "ReadBucket", "Allow"}), Context: ctxOf()},
	},
	{
		name: "every applying deny is listed", files: []string{"allow.json", "deny.json"}, action: "s3:PutObject", resource: "arn:aws:s3:::example-bucket/secret/k",
		want: Output{Decision: "explicitDeny", MatchedStatements: stmts(MatchedStatement{"deny.json", 0, "NoWrites", "Deny"}, MatchedStatement{"deny.json", 1, "NoSecrets", "Deny"}), Context: ctxOf()},
	},
	{
		name: "implicit deny", files: []string{"allow.json"}, action: "s3:PutObject", resource: "arn:aws:s3:::example-bucket/a.txt",
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(), Context: ctxOf()},
	},
	{
		name: "no documents is an implicit deny", action: "s3:GetObject", resource: "*",
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(), Context: ctxOf()},
	},
	{
		name: "ForAnyValue matches one value of a multi-valued key", files: []string{"tags.json"}, action: "sts:TagSession", resource: role,
		context: ctxOf("aws:TagKeys", "env", "aws:TagKeys", "team"),
		want:    Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"tags.json", 0, "AllowWithTeamTag", "Allow"}), Context: ctxOf("aws:TagKeys", "env", "aws:TagKeys", "team")},
	},
	{
		name: "ForAnyValue negated denies one unknown value", files: []string{"tags.json"}, action: "sts:TagSession", resource: role,
		context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "cost"),
		want:    Output{Decision: "explicitDeny", MatchedStatements: stmts(MatchedStatement{"tags.json", 1, "OnlyKnownTagKeys", "Deny"}), Context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "cost")},
	},
	{
		name: "ForAnyValue without a matching value", files: []string{"tags.json"}, action: "sts:TagSession", resource: role,
		context: ctxOf("aws:TagKeys", "env"),
		want:    Output{Decision: "implicitDeny", MatchedStatements: stmts(), Context: ctxOf("aws:TagKeys", "env")},
	},
	{
		name: "ForAllValues with every value matching", files: []string{"forall.json"}, action: "sts:TagSession", resource: role,
		context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "env-prod"),
		want:    Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"forall.json", 0, "KnownTagKeysOnly", "Allow"}), Context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "env-prod")},
	},
	{
		name: "ForAllValues with one value not matching", files: []string{"forall.json"}, action: "sts:TagSession", resource: role,
		context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "cost"),
		want:    Output{Decision: "implicitDeny", MatchedStatements: stmts(), Context: ctxOf("aws:TagKeys", "team", "aws:TagKeys", "cost")},
	},
	{
		name: "ForAllValues with the key absent", files: []string{"forall.json"}, action: "sts:TagSession", resource: role,
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"forall.json", 0, "KnownTagKeysOnly", "Allow"}), Context: ctxOf()},
	},
	{
		name: "aws:username derived for an IAM user", files: []string{"home.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/notes.txt", principal: alice,
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"home.json", 0, "OwnHome", "Allow"}),
			Context: ctxOf("aws:PrincipalArn", alice, "aws:PrincipalAccount", acct, "aws:username", "alice")},
	},
	{
		name: "aws:username not derived for a role session", files: []string{"home.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/notes.txt", principal: aliceSess,
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(),
			Context: ctxOf("aws:PrincipalArn", role, "aws:PrincipalAccount", acct)},
	},
	{
		name: "aws:PrincipalAccount derived for a role session", files: []string{"home.json"}, action: "s3:ListBucket", resource: "arn:aws:s3:::home", principal: aliceSess,
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"home.json", 1, "", "Allow"}),
			Context: ctxOf("aws:PrincipalArn", role, "aws:PrincipalAccount", acct)},
	},
	{
		name: "a given key is not replaced by a derived one", files: []string{"home.json"}, action: "s3:GetObject", resource: "arn:aws:s3:::home/alice/notes.txt", principal: alice,
		context: ctxOf("AWS:Username", "bob"),
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(),
			Context: ctxOf("aws:PrincipalArn", alice, "aws:PrincipalAccount", acct, "AWS:Username", "bob")},
	},
	{
		name: "trust policy principal matches", files: []string{"trust.json"}, action: "sts:AssumeRole", resource: role, principal: devUser,
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"trust.json", 0, "DevUserAssumes", "Allow"}),
			Context: ctxOf("aws:PrincipalArn", devUser, "aws:PrincipalAccount", acct, "aws:username", "DevUser")},
	},
	{
		name: "trust policy principal does not match", files: []string{"trust.json"}, action: "sts:AssumeRole", resource: role, principal: "arn:aws:iam::123456789012:user/Bob",
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(),
			Context: ctxOf("aws:PrincipalArn", "arn:aws:iam::123456789012:user/Bob", "aws:PrincipalAccount", acct, "aws:username", "Bob")},
	},
	{
		name: "trust policy without a principal", files: []string{"trust.json"}, action: "sts:AssumeRole", resource: role,
		want: Output{Decision: "implicitDeny", MatchedStatements: stmts(), Context: ctxOf()},
	},
	{
		name: "trust policy for a SAML provider derives no keys", files: []string{"trust.json"}, action: "sts:AssumeRoleWithSAML", resource: role,
		principal: "arn:aws:iam::123456789012:saml-provider/idpbridge", context: ctxOf("saml:aud", "https://signin.aws.amazon.com/saml"),
		want: Output{Decision: "allowed", MatchedStatements: stmts(MatchedStatement{"trust.json", 1, "SamlSignIn", "Allow"}),
			Context: ctxOf("saml:aud", "https://signin.aws.amazon.com/saml")},
	},
}

func loadDocs(t *testing.T, files []string) []Document {
	t.Helper()
	var docs []Document
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, Document{ID: f, JSON: b})
	}
	return docs
}

func TestRun(t *testing.T) {
	t.Parallel()
	for _, tc := range simCases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Run(Input{Policies: loadDocs(t, tc.files), Action: tc.action, Resource: tc.resource, Principal: tc.principal, Context: tc.context})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if !reflect.DeepEqual(*out, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *out, tc.want)
			}
		})
	}
}

func TestRunDoesNotModifyTheGivenContext(t *testing.T) {
	t.Parallel()
	given := ctxOf("k", "v")
	out, err := Run(Input{Action: "s3:GetObject", Resource: "*", Principal: alice, Context: given})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(given, ctxOf("k", "v")) {
		t.Errorf("the given context changed: %v", given)
	}
	out.Context["k"][0] = "changed"
	if given["k"][0] != "v" {
		t.Error("the output shares value slices with the input")
	}
}

func TestRunRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        Input
		field     string
		statement int // for a *policy.ParseError; -2 when none is expected
		contains  string
	}{
		{"malformed policy names the statement", Input{Policies: []Document{{ID: "malformed.json"}}, Action: "s3:GetObject", Resource: "*"},
			"malformed.json", 1, `Statement[1].Effect: must be "Allow" or "Deny", not "Permit"`},
		{"NotPrincipal in a trust policy", Input{Policies: []Document{{ID: "notprincipal.json"}}, Action: "sts:AssumeRole", Resource: role},
			"notprincipal.json", 0, "Statement[0].NotPrincipal: not allowed in a trust policy"},
		{"trust kind needs a Principal", Input{Policies: []Document{{ID: "allow.json", Kind: KindTrust}}, Action: "s3:GetObject", Resource: "*"},
			"allow.json", 0, "Statement[0].Principal: required in a trust policy"},
		{"identity kind refuses a Principal", Input{Policies: []Document{{ID: "trust.json", Kind: KindIdentity}}, Action: "sts:AssumeRole", Resource: role},
			"trust.json", 0, "Statement[0].Principal: not allowed in an identity policy"},
		{"not JSON", Input{Policies: []Document{{ID: "x", JSON: []byte("{")}}, Action: "s3:GetObject", Resource: "*"}, "x", -1, "x: "},
		{"missing action", Input{Resource: "*"}, "action", -2, "action: missing"},
		{"action without a service", Input{Action: "GetObject", Resource: "*"}, "action", -2, "service:Action"},
		{"action with a wildcard", Input{Action: "s3:Get*", Resource: "*"}, "action", -2, "wildcards"},
		{"missing resource", Input{Action: "s3:GetObject"}, "resource", -2, "resource: missing"},
		{"bad principal", Input{Action: "s3:GetObject", Resource: "*", Principal: "alice"}, "principal", -2, `"alice"`},
		{"empty context key", Input{Action: "s3:GetObject", Resource: "*", Context: ctxOf(" ", "v")}, "context", -2, "empty key"},
		{"context key twice ignoring case", Input{Action: "s3:GetObject", Resource: "*", Context: ctxOf("aws:TagKeys", "a", "AWS:tagkeys", "b")}, "context", -2, "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, d := range tc.in.Policies {
				if d.JSON == nil {
					tc.in.Policies[i].JSON = loadDocs(t, []string{d.ID})[0].JSON
				}
			}
			out, err := Run(tc.in)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Run = %+v, %v; want an *InputError", out, err)
			}
			if ie.Field != tc.field || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q (field %q), want field %q containing %q", err, ie.Field, tc.field, tc.contains)
			}
			var pe *policy.ParseError
			switch {
			case tc.statement == -2 && errors.As(err, &pe):
				t.Errorf("unexpected *policy.ParseError %v", pe)
			case tc.statement != -2 && !errors.As(err, &pe):
				t.Errorf("error %v does not wrap a *policy.ParseError", err)
			case tc.statement != -2 && pe.Statement != tc.statement:
				t.Errorf("ParseError.Statement = %d, want %d", pe.Statement, tc.statement)
			}
		})
	}
}

func TestParsePrincipal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want *policy.Principal
	}{
		{"none", "", nil},
		{"account ID", acct, &policy.Principal{Kind: policy.Account, Account: acct, ARN: "arn:aws:iam::123456789012:root"}},
		{"account root", "arn:aws:iam::123456789012:root", &policy.Principal{Kind: policy.Account, Account: acct, ARN: "arn:aws:iam::123456789012:root"}},
		{"user", alice, &policy.Principal{Kind: policy.IAMUser, Account: acct, ARN: alice}},
		{"user with a path", "arn:aws:iam::123456789012:user/eng/alice", &policy.Principal{Kind: policy.IAMUser, Account: acct, ARN: "arn:aws:iam::123456789012:user/eng/alice"}},
		{"role session", aliceSess, &policy.Principal{Kind: policy.AssumedRole, Account: acct, ARN: aliceSess, RoleARN: role}},
		{"role session in another partition", "arn:aws-cn:sts::123456789012:assumed-role/R/s", &policy.Principal{Kind: policy.AssumedRole, Account: acct, ARN: "arn:aws-cn:sts::123456789012:assumed-role/R/s", RoleARN: "arn:aws-cn:iam::123456789012:role/R"}},
		{"role", role, &policy.Principal{Kind: policy.AssumedRole, Account: acct, RoleARN: role}},
		{"SAML provider", "arn:aws:iam::123456789012:saml-provider/idpbridge", &policy.Principal{Kind: policy.Federated, Account: acct, ARN: "arn:aws:iam::123456789012:saml-provider/idpbridge"}},
		{"OIDC provider", "arn:aws:iam::123456789012:oidc-provider/token.example.com", &policy.Principal{Kind: policy.Federated, Account: acct, ARN: "arn:aws:iam::123456789012:oidc-provider/token.example.com"}},
		{"service", "ec2.amazonaws.com", &policy.Principal{Kind: policy.Service, ARN: "ec2.amazonaws.com"}},
		{"web identity provider", "accounts.google.com", &policy.Principal{Kind: policy.Federated, ARN: "accounts.google.com"}},
		{"cognito is a web identity provider", "cognito-identity.amazonaws.com", &policy.Principal{Kind: policy.Federated, ARN: "cognito-identity.amazonaws.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrincipal(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePrincipal(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"alice", "*", "12345678901", "arn:aws:iam::12345678901:user/a", "arn:aws:iam::123456789012:user/",
		"arn:aws:iam::123456789012:group/g", "arn:aws:sts::123456789012:assumed-role/R", "arn:aws:sts::123456789012:assumed-role/R/s/x",
		"arn:aws:iam:us-east-1:123456789012:user/a", "arn:other:iam::123456789012:user/a", "arn:aws:s3:::bucket", "a b.com", "ex..com"} {
		if p, err := ParsePrincipal(bad); err == nil || !IsInputError(err) {
			t.Errorf("ParsePrincipal(%q) = %+v, %v; want an *InputError", bad, p, err)
		}
	}
}

func TestRunParsedDocument(t *testing.T) {
	t.Parallel()
	p, err := policy.Parse(loadDocs(t, []string{"trust.json"})[0].JSON)
	if err != nil {
		t.Fatal(err)
	}
	// The JSON is ignored when a parsed Policy is given.
	out, err := Run(Input{Policies: []Document{{ID: "trust_policy", Policy: p, JSON: []byte("{"), Kind: KindTrust}},
		Action: "sts:AssumeRole", Resource: role, Principal: devUser})
	if err != nil {
		t.Fatal(err)
	}
	want := stmts(MatchedStatement{"trust_policy", 0, "DevUserAssumes", "Allow"})
	if out.Decision != "allowed" || !reflect.DeepEqual(out.MatchedStatements, want) {
		t.Errorf("got %+v", out)
	}
}
