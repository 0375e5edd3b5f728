package policy

import "testing"

// benchTrust is a realistic role trust policy: a SAML federation statement,
// a same-account statement with source identity and tag conditions, and a
// Deny guard.
const benchTrust = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "SAMLFederation",
      "Effect": "Allow",
      "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/MySAMLIdP"},
      "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
      "Condition": {
        "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"},
        "StringLike": {"sts:SourceIdentity": ["Saanvi", "Diego*"]}
      }
    },
    {
      "Sid": "Developers",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::123456789012:user/DevUser", "arn:aws:iam::123456789012:role/Dev"]},
      "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
      "Condition": {
        "StringLike": {"sts:SourceIdentity": "${aws:username}"},
        "ForAllValues:StringEquals": {"sts:TransitiveTagKeys": ["Project", "Department"]},
        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}
      }
    },
    {
      "Sid": "NoStaleTokens",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "sts:*",
      "Condition": {
        "DateLessThan": {"aws:TokenIssueTime": "2024-01-01T00:00:00Z"},
        "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}
      }
    }
  ]
}`

func BenchmarkParse(b *testing.B) {
	doc := []byte(benchTrust)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluate measures one AssumeRole decision against benchTrust.
func BenchmarkEvaluate(b *testing.B) {
	p := mustParse(b, benchTrust)
	ctx := Context{}
	ctx.Set("aws:username", "DevUser")
	ctx.Set("aws:PrincipalArn", devUser.ARN)
	ctx.Set("aws:PrincipalType", "User")
	ctx.Set("aws:CurrentTime", "2024-06-01T12:00:00Z")
	ctx.Set("aws:SourceIp", "203.0.113.7")
	ctx.Set("aws:SecureTransport", "true")
	ctx.Set("sts:SourceIdentity", "DevUser")
	ctx.Set("sts:RoleSessionName", "Dev-project")
	ctx.Set("sts:TransitiveTagKeys", "Project")
	req := Request{Principal: devUser, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/Developer_Role", Context: ctx}
	if r := p.Evaluate(req); r.Decision != Allow {
		b.Fatalf("benchmark request is not allowed: %+v", r)
	}
	b.ReportAllocs()
	for b.Loop() {
		p.Evaluate(req)
	}
}
