package idp

import (
	"strings"
	"testing"
)

func TestValidSourceIdentityAndRoleSessionName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		in         string
		okSource   bool
		okSession  bool
		errContain string // in the source identity error
	}{
		{"seed DiegoRamirez", "DiegoRamirez", true, true, ""},
		{"every allowed symbol", "a_b+c=d,e.f@g-h", true, true, ""},
		{"email", "diego.ramirez@example.com", true, true, ""},
		{"exactly 2", "ab", true, true, ""},
		{"exactly 64", strings.Repeat("x", 64), true, true, ""},
		{"space", "Diego Ramirez", false, false, "found a space"},
		{"accents", "José García", false, false, "found 'é', a space, 'í'"},
		{"aws prefix", "aws:admin", false, false, `must not begin with "aws:"`},
		{"AWS prefix any case", "AWS:admin", false, false, `must not begin with "aws:"`},
		{"Aws prefix mixed case", "aWs:x", false, false, `must not begin with "aws:"`},
		{"aws without colon is fine", "awsadmin", true, true, ""},
		{"65 chars", strings.Repeat("x", 65), false, false, "must be 2 to 64 characters long (it has 65)"},
		{"1 char", "x", false, false, "(it has 1)"},
		{"empty", "", false, false, "(it has 0)"},
		{"colon", "a:b", false, false, "found ':'"},
		{"slash", "a/b", false, false, "found '/'"},
		{"newline", "a\nb", false, false, `found '\n'`},
		{"invalid utf8", "ab\xff", false, false, "invalid UTF-8"},
		{"several rules at once", "aws:" + strings.Repeat("é", 70), false, false, `(it has 74); only letters A-Z and a-z, digits and _+=,.@- are allowed (found ':', 'é'); must not begin with "aws:"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidSourceIdentity(tc.in)
			if (err == nil) != tc.okSource {
				t.Errorf("ValidSourceIdentity(%q) = %v, want ok=%v", tc.in, err, tc.okSource)
			}
			if err != nil && !strings.Contains(err.Error(), tc.errContain) {
				t.Errorf("ValidSourceIdentity(%q) = %q, want it to contain %q", tc.in, err, tc.errContain)
			}
			if err := ValidRoleSessionName(tc.in); (err == nil) != tc.okSession {
				t.Errorf("ValidRoleSessionName(%q) = %v, want ok=%v", tc.in, err, tc.okSession)
			}
		})
	}
}

func TestValidTagKeyAndValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		okKey     bool
		okValue   bool
		errString string // in the key error
	}{
		{"plain", "Department", true, true, ""},
		{"unicode letters and spaces", "Coût Centre 1", true, true, ""},
		{"all symbols", "a_.:/=+-@b", true, true, ""},
		{"empty", "", false, true, "must be 1 to 128 characters long (it has 0)"},
		{"128 chars", strings.Repeat("k", 128), true, true, ""},
		{"129 chars", strings.Repeat("k", 129), false, true, "(it has 129)"},
		{"256 multibyte chars", strings.Repeat("é", 256), false, true, "(it has 256)"},
		{"257 chars", strings.Repeat("v", 257), false, false, "(it has 257)"},
		{"aws prefix", "aws:team", false, true, `must not begin with "aws:"`},
		{"AWS prefix", "AWS:team", false, true, `must not begin with "aws:"`},
		{"forbidden char", "team#1", false, false, "found '#'"},
		{"comma", "a,b", false, false, "found ','"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidTagKey(tc.in)
			if (err == nil) != tc.okKey {
				t.Errorf("ValidTagKey(%q) = %v, want ok=%v", tc.in, err, tc.okKey)
			}
			if err != nil && !strings.Contains(err.Error(), tc.errString) {
				t.Errorf("ValidTagKey(%q) = %q, want it to contain %q", tc.in, err, tc.errString)
			}
			if err := ValidTagValue(tc.in); (err == nil) != tc.okValue {
				t.Errorf("ValidTagValue(%q) = %v, want ok=%v", tc.in, err, tc.okValue)
			}
		})
	}
}

func TestValidARNs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		role       string
		wantErr    string // "" when valid
		isProvider bool
	}{
		{name: "role", role: "arn:aws:iam::123456789012:role/ReadOnly"},
		{name: "role with path", role: "arn:aws:iam::123456789012:role/team/dev/Developer_Role"},
		{name: "role china", role: "arn:aws-cn:iam::123456789012:role/x"},
		{name: "role govcloud", role: "arn:aws-us-gov:iam::123456789012:role/x"},
		{name: "role all name chars", role: "arn:aws:iam::123456789012:role/a_b+c=d,e.f@g-h"},
		{name: "role unknown partition", role: "arn:aws-mars:iam::123456789012:role/x", wantErr: `the partition 'aws-mars' is not one of`},
		{name: "role short account", role: "arn:aws:iam::12345:role/x", wantErr: "the account '12345' is not 12 digits"},
		{name: "role letters in account", role: "arn:aws:iam::12345678901x:role/x", wantErr: "is not 12 digits"},
		{name: "role other service", role: "arn:aws:sts::123456789012:role/x", wantErr: "the service 'sts' is not iam"},
		{name: "role region", role: "arn:aws:iam:us-east-1:123456789012:role/x", wantErr: "no region"},
		{name: "role user resource", role: "arn:aws:iam::123456789012:user/x", wantErr: "is not role/<name>"},
		{name: "role empty name", role: "arn:aws:iam::123456789012:role/", wantErr: "1 to 64"},
		{name: "role name too long", role: "arn:aws:iam::123456789012:role/" + strings.Repeat("r", 65), wantErr: "(it has 65)"},
		{name: "role name with space", role: "arn:aws:iam::123456789012:role/Read Only", wantErr: "found a space"},
		{name: "role path non-ascii", role: "arn:aws:iam::123456789012:role/é/x", wantErr: "printable ASCII"},
		{name: "not an arn", role: "ReadOnly", wantErr: "not an ARN"},
		{name: "empty", role: "", wantErr: "not an ARN"},
		{name: "provider", role: "arn:aws:iam::123456789012:saml-provider/idpbridge", isProvider: true},
		{name: "provider dots", role: "arn:aws:iam::123456789012:saml-provider/my.idp_1-x", isProvider: true},
		{name: "provider as role", role: "arn:aws:iam::123456789012:saml-provider/idpbridge", wantErr: "is not role/<name>"},
		{name: "role as provider", role: "arn:aws:iam::123456789012:role/x", isProvider: true, wantErr: "is not saml-provider/<name>"},
		{name: "provider bad char", role: "arn:aws:iam::123456789012:saml-provider/a@b", isProvider: true, wantErr: "found '@'"},
		{name: "provider empty name", role: "arn:aws:iam::123456789012:saml-provider/", isProvider: true, wantErr: "1 to 128"},
		{name: "provider bad account", role: "arn:aws:iam::1:saml-provider/x", isProvider: true, wantErr: "not 12 digits"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check := ValidRoleARN
			if tc.isProvider {
				check = ValidSAMLProviderARN
			}
			err := check(tc.role)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("%q: %v", tc.role, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("%q: error %v, want one containing %q", tc.role, err, tc.wantErr)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"plain", "José García", "'José García'"},
		{"apostrophe", "O'Brien", `"O'Brien"`},
		{"control", "a\tb", `"a\tb"`},
		{"long", strings.Repeat("a", 101), "'" + strings.Repeat("a", 100) + "'... (101 characters)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}
