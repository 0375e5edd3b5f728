package audit

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"idpbridge/idp"
)

// Secrets a careless caller might hand to a builder.
var (
	secretPassword = "correct horse battery staple 1!"
	testSecretKey  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken   = randomBase64(240, 1) // as long as an AWS session token
	webToken       = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJqb2huZG9lIiwiYXVkIjoiYWNfb2ljX2NsaWVudCJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	samlXML        = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="id-1"><saml:Assertion>...</saml:Assertion></samlp:Response>`
	samlAssertion  = base64.StdEncoding.EncodeToString([]byte(samlXML))
	privateKeyPEM  = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
)

func allSecrets() []string {
	return []string{secretPassword, testSecretKey, sessionToken, webToken, samlXML, samlAssertion, privateKeyPEM}
}

// TestBuilders_NeverCarrySecrets builds every kind of record with secrets
// pushed through every free-form input, and checks that none of them, nor
// a recognisable piece of one, reaches the encoded record.
func TestBuilders_NeverCarrySecrets(t *testing.T) {
	t.Parallel()
	leaky := func(id UserIdentity) Call {
		c := call(id, acctA, webToken)
		c.Identity = id
		return c
	}
	out := AssumeRoleOutput{
		AccessKeyID: "ASIAQ3EGVEXAMPLENEW1", Expiration: testExpiry,
		AssumedRoleID: devRoleID + ":s", ARN: "arn:aws:sts::" + acctA + ":assumed-role/Developer_Role/s",
	}
	records := []namedRecord{
		{"AssumeRole", AssumeRoleEvent(leaky(devUser()),
			AssumeRoleParams{
				RoleARN: devRoleARN, RoleSessionName: "s",
				Tags:                   []idp.Tag{{Key: "token", Value: "harmless-name"}, {Key: "Note", Value: sessionToken}},
				IncomingTransitiveTags: map[string]string{"Key": sessionToken},
				Policy:                 `{"Statement":[{"Sid":"` + sessionToken + `"}]}`,
			}, &out, nil)},
		{"AssumeRole denied with the token in the message", AssumeRoleEvent(leaky(devUser()),
			AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: "s"}, nil,
			&APIError{Code: "ValidationError", Message: "Value '" + sessionToken + "' at 'tokenCode' failed"})},
		{"AssumeRoleWithSAML", AssumeRoleWithSAMLEvent(leaky(SAMLUser(nameQualifier, "diego")),
			SAMLParams{RoleARN: samlRoleARN, PrincipalARN: samlProviderARN, SAMLAssertionID: samlXML,
				PrincipalTags: map[string]string{"Blob": samlAssertion}},
			&SAMLOutput{AssumeRoleOutput: out, Subject: "diego"}, nil)},
		{"AssumeRoleWithSAML denied", AssumeRoleWithSAMLEvent(leaky(Anonymous()),
			SAMLParams{RoleARN: samlRoleARN, PrincipalARN: samlProviderARN}, nil,
			&APIError{Code: "InvalidIdentityToken", Message: "bad assertion " + samlAssertion})},
		{"AssumeRoleWithWebIdentity", AssumeRoleWithWebIdentityEvent(leaky(WebIdentityUser("https://xyz.com", "aud", "sub")),
			WebIdentityParams{RoleARN: webRoleARN, RoleSessionName: webToken},
			&WebIdentityOutput{AssumeRoleOutput: out, SubjectFromWebIdentityToken: webToken}, nil)},
		{"GetCallerIdentity", GetCallerIdentityEvent(leaky(AssumedRole(RoleSession{
			RoleID: devRoleID, RoleARN: devRoleARN, SessionName: "s", AccessKeyID: "ASIAQ3EGVEXAMPLENEW1",
			Created: testNow, SourceIdentity: "DevUser",
		})), &APIError{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid: " + sessionToken})},
		{"SignIn", SignInEvent(leaky(IdpbridgeUser("saanvi", "local")), "local",
			&APIError{Code: CodeInvalidCredentials, Message: "Invalid username or password."})},
		{"SignOut", SignOutEvent(leaky(IdpbridgeUser("saanvi", "local")))},
		{"IssueAssertion", IssueAssertionEvent(leaky(IdpbridgeUser("saanvi", "local")),
			AssertionRequest{ServiceProvider: "aws", EntityID: "urn:amazon:webservices"},
			AssertionResponse{AssertionID: "id-1", NameID: samlXML, PrincipalTags: map[string]string{"assertion": "x", "K": privateKeyPEM}})},
		{"MappingFailed", MappingFailedEvent(leaky(IdpbridgeUser("saanvi", "local")),
			MappingFailure{ServiceProvider: "aws", Mapping: "m"}, []string{"claim value " + webToken + " rejected"})},
		{"AdminUserPasswordChanged", AdminEvent(leaky(admin()), AdminUserPasswordChanged,
			AdminChange{TargetType: TargetUser, Target: "saanvi", Details: map[string]string{
				"password": secretPassword, "new_password": secretPassword, "Client-Secret": testSecretKey, "by": "admin"}}, nil)},
		{"AdminKeyRotated", AdminEvent(leaky(admin()), AdminKeyRotated,
			AdminChange{TargetType: TargetSigningKey, Target: "key-2", Details: map[string]string{"privateKey": privateKeyPEM, "pem": privateKeyPEM}}, nil)},
		{"AdminSessionRevoked", AdminEvent(leaky(admin()), AdminSessionRevoked,
			AdminChange{TargetType: TargetSession, Target: sessionToken, Details: map[string]string{"cookie": "abc"}}, nil)},
	}
	for _, tc := range records {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			strs := jsonStrings(t, b)
			for _, s := range allSecrets() {
				for _, v := range strs {
					// The secret, or a recognisable piece of it, is a leak.
					if strings.Contains(v, s) || len(s) > 24 && strings.Contains(v, s[:24]) {
						t.Errorf("record carries the secret %.20q...: %s", s, b)
					}
				}
			}
			if tc.name == "AssumeRole" && !slices.Contains(strs, "harmless-name") {
				t.Errorf("a tag called token lost its non-secret value: %s", b)
			}
			if again := Redact(&tc.rec); again != nil {
				t.Errorf("builder output still had secrets at %v", again)
			}
		})
	}
}

// TestRedact_KeepsRealisticRecords guards against false positives: every
// golden record (realistic IDs, ARNs, names, user agents) passes unchanged.
func TestRedact_KeepsRealisticRecords(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := json.Marshal(tc.rec)
			r := tc.rec
			if paths := Redact(&r); paths != nil {
				t.Errorf("redacted %v", paths)
			}
			after, _ := json.Marshal(r)
			if string(before) != string(after) {
				t.Errorf("record changed:\n%s\n%s", before, after)
			}
			if strings.Contains(string(before), Hidden) && !strings.Contains(string(before), `"sessionToken":"`+Hidden) &&
				!strings.Contains(string(before), `"userName":"`+Hidden) {
				t.Errorf("unexpected %s in %s", Hidden, before)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(r *Record)
		known     []string
		wantPaths []string
		check     func(t *testing.T, r Record)
	}{
		{
			name: "nested secret member, order kept",
			edit: func(r *Record) {
				r.RequestParameters = json.RawMessage(`{"z":1,"details":{"Password":"pw","b":[true,null,2.5]},"a":"x"}`)
			},
			wantPaths: []string{"requestParameters.details.Password"},
			check: func(t *testing.T, r Record) {
				if got := string(r.RequestParameters); got != `{"z":1,"details":{"Password":"`+Hidden+`","b":[true,null,2.5]},"a":"x"}` {
					t.Errorf("requestParameters = %s", got)
				}
			},
		},
		{
			name:      "secret member with an object value",
			edit:      func(r *Record) { r.AdditionalEventData = json.RawMessage(`{"token":{"raw":"abc"}}`) },
			wantPaths: []string{"additionalEventData.token"},
		},
		{
			name: "marker, empty and null secret members are kept",
			edit: func(r *Record) {
				r.ResponseElements = json.RawMessage(`{"credentials":{"sessionToken":"` + Hidden + `"},"password":"","secret":null}`)
			},
		},
		{
			name:      "real session token in responseElements",
			edit:      func(r *Record) { r.ResponseElements = json.RawMessage(`{"credentials":{"sessionToken":"abc"}}`) },
			wantPaths: []string{"responseElements.credentials.sessionToken"},
		},
		{
			name:      "JWT in the error message",
			edit:      func(r *Record) { r.ErrorMessage = "token " + webToken + " expired" },
			wantPaths: []string{"errorMessage"},
			check: func(t *testing.T, r Record) {
				if r.ErrorMessage != Hidden {
					t.Errorf("errorMessage = %q", r.ErrorMessage)
				}
			},
		},
		{
			name: "PEM block in an array",
			edit: func(r *Record) {
				r.RequestParameters = json.RawMessage(`{"keys":["ok",` + mustJSON(privateKeyPEM) + `]}`)
			},
			wantPaths: []string{"requestParameters.keys[1]"},
		},
		{
			name:      "SAML markup in the user agent",
			edit:      func(r *Record) { r.UserAgent = samlXML },
			wantPaths: []string{"userAgent"},
		},
		{
			name: "base64 assertion and random key in identity fields",
			edit: func(r *Record) {
				r.UserIdentity.UserName = samlAssertion
				r.UserIdentity.PrincipalID = "x:" + randomBase64(75, 2)
			},
			wantPaths: []string{"userIdentity.principalId", "userIdentity.userName"},
		},
		{
			name: "known values: long ones inside any value, short ones as whole values",
			edit: func(r *Record) {
				r.RequestParameters = json.RawMessage(`{"tags":[{"key":"k","value":"x-` + testSecretKey + `"}],"a":"a1b2c3","b":"za1b2c3z"}`)
				r.ErrorMessage = "failed for " + testSecretKey
			},
			known:     []string{testSecretKey, "a1b2c3", ""},
			wantPaths: []string{"errorMessage", "requestParameters.tags[0].value", "requestParameters.a"},
			check: func(t *testing.T, r Record) {
				want := `{"tags":[{"key":"k","value":"` + Hidden + `"}],"a":"` + Hidden + `","b":"za1b2c3z"}`
				if string(r.RequestParameters) != want {
					t.Errorf("requestParameters = %s, want %s", r.RequestParameters, want)
				}
			},
		},
		{
			name: "a 40-character secret key without a known value is not recognised by form",
			edit: func(r *Record) { r.ErrorMessage = "failed for " + testSecretKey },
		},
		{
			name:      "invalid element becomes null",
			edit:      func(r *Record) { r.RequestParameters = json.RawMessage(`{"a":`) },
			wantPaths: []string{"requestParameters"},
			check: func(t *testing.T, r Record) {
				if r.RequestParameters != nil {
					t.Errorf("requestParameters = %s", r.RequestParameters)
				}
			},
		},
		{
			name: "IDs, digests, ARNs and names are kept",
			edit: func(r *Record) {
				r.RequestParameters = json.RawMessage(`{"a":"dEXAMPLE-265a-41e0-9352-4401bEXAMPLE",` +
					`"b":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",` +
					`"c":"arn:aws:iam::123456789012:role/Engineering/Platform/DeployerRole01",` +
					`"d":"ProductionDeploymentPipelineRunner2024","e":"Developer_Role-2024-Platform-Engineering",` +
					`"f":"_c0046cEXAMPLEb9d4b8eEXAMPLE2619aEXAMPLE","g":"1uAJanUnBc2XeUkHURMht+xam2c=",` +
					`"h":"MyVeryLongRoleSessionNameForTheNightlyJobThatRunsEveryDayAt0300UTC",` +
					`"i":"The_Quick_Brown_Fox_Jumps_Over_The_Lazy_Dog_1234567890_Again_And"}`)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := iamUserAssumeRole()
			tc.edit(&r)
			paths := Redact(&r, tc.known...)
			slices.Sort(paths)
			want := slices.Clone(tc.wantPaths)
			slices.Sort(want)
			if !slices.Equal(paths, want) {
				t.Errorf("paths = %v, want %v", paths, want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("redacted record does not encode: %v", err)
			}
		})
	}
}

// TestLooksSecret_RandomTokens: random base64 and base64url tokens of 100
// characters or more are caught (fixed seed, so the test is deterministic).
func TestLooksSecret_RandomTokens(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{75, 96, 128, 400} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			missed := 0
			for range 200 {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.UintN(256))
				}
				tok := enc.EncodeToString(b)
				if !looksSecret(tok) {
					missed++
				}
			}
			if missed > 0 {
				t.Errorf("%d of 200 random %d-byte tokens not caught", missed, n)
			}
		}
	}
}

// jsonStrings returns every member name and string value of the JSON b.
func jsonStrings(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out = append(out, k)
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// randomBase64 returns n pseudo-random bytes from seed, base64-encoded.
func randomBase64(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mustJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
