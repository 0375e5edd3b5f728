package idp

import (
	"strings"
	"testing"
)

func TestParseARN(t *testing.T) {
	t.Parallel()
	type parts struct{ partition, service, region, account, resource, typ, id, name string }
	tests := []struct {
		name string
		in   string
		want parts
	}{
		{"role", "arn:aws:iam::123456789012:role/Developer",
			parts{"aws", "iam", "", "123456789012", "role/Developer", "role", "Developer", "Developer"}},
		{"role with path", "arn:aws:iam::123456789012:role/team/dev/Developer",
			parts{"aws", "iam", "", "123456789012", "role/team/dev/Developer", "role", "team/dev/Developer", "Developer"}},
		{"assumed role", "arn:aws:sts::123456789012:assumed-role/Developer/diego",
			parts{"aws", "sts", "", "123456789012", "assumed-role/Developer/diego", "assumed-role", "Developer/diego", "diego"}},
		{"saml provider", "arn:aws-cn:iam::123456789012:saml-provider/idpbridge",
			parts{"aws-cn", "iam", "", "123456789012", "saml-provider/idpbridge", "saml-provider", "idpbridge", "idpbridge"}},
		{"oidc provider", "arn:aws:iam::123456789012:oidc-provider/accounts.google.com",
			parts{"aws", "iam", "", "123456789012", "oidc-provider/accounts.google.com", "oidc-provider", "accounts.google.com", "accounts.google.com"}},
		{"account root", "arn:aws:iam::123456789012:root",
			parts{"aws", "iam", "", "123456789012", "root", "", "root", "root"}},
		{"region, no account", "arn:aws:s3:eu-west-1::bucket/key",
			parts{"aws", "s3", "eu-west-1", "", "bucket/key", "bucket", "key", "key"}},
		{"colons in the resource", "arn:aws:logs:us-east-1:123456789012:log-group:/x:*",
			parts{"aws", "logs", "us-east-1", "123456789012", "log-group:/x:*", "log-group:", "x:*", "x:*"}},
		{"account not checked", "arn:aws:iam::12:role/x",
			parts{"aws", "iam", "", "12", "role/x", "role", "x", "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARN(tc.in)
			if err != nil {
				t.Fatalf("ParseARN(%q): %v", tc.in, err)
			}
			got := parts{a.Partition(), a.Service(), a.Region(), a.Account(), a.Resource(), a.ResourceType(), a.ResourceID(), a.ResourceName()}
			if got != tc.want {
				t.Errorf("ParseARN(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if a.String() != tc.in {
				t.Errorf("String() = %q, want %q", a.String(), tc.in)
			}
			if a.IsZero() {
				t.Error("IsZero() = true for a parsed ARN")
			}
		})
	}
}

func TestParseARNMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, wantErr string }{
		{"empty", "", `'' is not an ARN: it does not begin with "arn:"`},
		{"a name", "Developer", `'Developer' is not an ARN: it does not begin with "arn:"`},
		{"upper case prefix", "ARN:aws:iam::123456789012:role/x", `does not begin with "arn:"`},
		{"leading space", " arn:aws:iam::123456789012:role/x", `does not begin with "arn:"`},
		{"prefix only", "arn:", "'arn:' is not an ARN: it has 2 of the 6 colon-separated parts"},
		{"five parts", "arn:aws:iam::123456789012", "it has 5 of the 6 colon-separated parts"},
		{"no partition", "arn::iam::123456789012:role/x", "the partition is empty"},
		{"no service", "arn:aws:::123456789012:role/x", "the service is empty"},
		{"no resource", "arn:aws:iam::123456789012:", "the resource is empty"},
		{"all empty", "arn:::::", "the partition and the service and the resource are empty"},
		{"control character", "arn\n", `"arn\n" is not an ARN`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseARN(tc.in)
			if err == nil {
				t.Fatalf("ParseARN(%q) = %v, want an error", tc.in, a)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseARN(%q) error %q, want it to contain %q", tc.in, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "an ARN looks like arn:partition:service:region:account:resource") {
				t.Errorf("ParseARN(%q) error %q does not show the shape", tc.in, err)
			}
			if !a.IsZero() || a.String() != "" {
				t.Errorf("ParseARN(%q) returned %#v with its error, want the zero ARN", tc.in, a)
			}
		})
	}
}

func TestARNComparable(t *testing.T) {
	t.Parallel()
	a, _ := ParseARN("arn:aws:iam::123456789012:role/x")
	b, _ := ParseARN("arn:aws:iam::123456789012:role/x")
	c, _ := ParseARN("arn:aws:iam::123456789012:role/X")
	if a != b || a == c {
		t.Errorf("== on ARNs: a==b %v (want true), a==c %v (want false)", a == b, a == c)
	}
	if (ARN{}).String() != "" || !(ARN{}).IsZero() {
		t.Error("the zero ARN must print as \"\" and be IsZero")
	}
}

// FuzzParseARN: ParseARN never panics, String gives back the input of every
// ARN it accepts, and that string parses to the same value.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789012:role/Developer",
		"arn:aws:sts::123456789012:assumed-role/Developer/diego",
		"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
		"arn:aws:s3:::bucket",
		"arn:::::",
		"arn:aws:iam::123456789012:",
		"arn:a:b:c:d:e:f:g",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseARN(s)
		if err != nil {
			if !a.IsZero() {
				t.Fatalf("ParseARN(%q) returned %#v with error %v", s, a, err)
			}
			return
		}
		if a.String() != s {
			t.Fatalf("ParseARN(%q).String() = %q", s, a.String())
		}
		b, err := ParseARN(a.String())
		if err != nil || b != a {
			t.Fatalf("re-parsing %q gave %#v, %v; want %#v", a.String(), b, err, a)
		}
		if a.Partition() == "" || a.Service() == "" || a.Resource() == "" {
			t.Fatalf("ParseARN(%q) accepted an empty partition, service or resource: %#v", s, a)
		}
		if strings.Contains(a.Partition()+a.Service()+a.Region()+a.Account(), ":") {
			t.Fatalf("ParseARN(%q) put a colon before the resource: %#v", s, a)
		}
		if id, name := a.ResourceID(), a.ResourceName(); !strings.HasSuffix(a.Resource(), id) || !strings.HasSuffix(id, name) || strings.Contains(name, "/") {
			t.Fatalf("ParseARN(%q): resource %q, id %q, name %q do not nest", s, a.Resource(), id, name)
		}
	})
}
