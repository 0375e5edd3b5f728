package sts

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/audit"
)

// STS-SPEC §9: every vector is a test named after it. Vectors 10 (SAML)
// and 11 (web identity) are in saml_test.go and webidentity_test.go.

// TestVector1_RoleSessionNameLength: a 65-character name and one with ':'.
func TestVector1_RoleSessionNameLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	long := strings.Repeat("s", 65)
	tests := []struct {
		name, session, msg string
	}{
		{"65 characters", long, "1 validation error detected: Value '" + long + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"colon", "Session1:2", `1 validation error detected: Value 'Session1:2' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"one character", "s", "1 validation error detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"missing", "", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := form("AssumeRole", "RoleArn", devRoleARN)
			if tc.session != "" {
				p.Set("RoleSessionName", tc.session)
			}
			wantError(t, e.do(&devCreds, p), http.StatusBadRequest, CodeValidationError, tc.msg)
		})
	}
}

// TestVector2_MalformedRoleArn: an ARN that is not one.
func TestVector2_MalformedRoleArn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	tests := []struct{ arn string }{
		{"nothing-valid-in-here"},
		{"arn::b:::something/test-role"},
		{"arn:a::::something/test-role"},
		{"arn:a:::something/test-role"},
		{"arn:a:a::aaaaaaaaaa:"},
	}
	for _, tc := range tests {
		t.Run(tc.arn, func(t *testing.T) {
			r := e.do(&devCreds, form("AssumeRole", "RoleArn", tc.arn, "RoleSessionName", "s1"))
			wantError(t, r, http.StatusBadRequest, CodeValidationError, tc.arn+" is invalid")
		})
	}
}

// TestVector4_SourceIdentityRules: short, space, aws: prefix in any case.
func TestVector4_SourceIdentityRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	pattern := `Member must satisfy regular expression pattern: [\w+=,.@-]*`
	tests := []struct{ value, rule string }{
		{"a", "Member must have length greater than or equal to 2"},
		{"Diego Ramirez", pattern},
		{"aws:x", pattern},
		{"AWS:x", pattern},
		{strings.Repeat("x", 65), "Member must have length less than or equal to 64"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			r := e.do(&devCreds, form("AssumeRole", "RoleArn", devRoleARN, "RoleSessionName", "Dev-project", "SourceIdentity", tc.value))
			wantError(t, r, http.StatusBadRequest, CodeValidationError,
				"1 validation error detected: Value '"+tc.value+"' at 'sourceIdentity' failed to satisfy constraint: "+tc.rule)
		})
	}
}

// TestVector5_DurationSeconds: model range, MaxSessionDuration and the
// one-hour chaining limit.
func TestVector5_DurationSeconds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	short := "arn:aws:iam::123456789012:role/Short"
	long := "arn:aws:iam::123456789012:role/Long"
	for _, tc := range []struct{ value, rule string }{
		{"899", "Member must have value greater than or equal to 900"},
		{"43201", "Member must have value less than or equal to 43200"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			r := e.do(&johnCreds, form("AssumeRole", "RoleArn", short, "RoleSessionName", "s1", "DurationSeconds", tc.value))
			wantError(t, r, http.StatusBadRequest, CodeValidationError,
				"1 validation error detected: Value '"+tc.value+"' at 'durationSeconds' failed to satisfy constraint: "+tc.rule)
		})
	}
	t.Run("7200 on MaxSessionDuration 3600", func(t *testing.T) {
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", short, "RoleSessionName", "s1", "DurationSeconds", "7200"))
		wantError(t, r, http.StatusBadRequest, CodeValidationError, msgMaxSessionDuration)
	})
	t.Run("7200 on MaxSessionDuration 43200", func(t *testing.T) {
		res, _ := e.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "s1", "DurationSeconds", "7200")
		if want := formatExpiration(testNow.Add(2 * time.Hour)); res.Credentials.Expiration != want {
			t.Fatalf("Expiration = %s, want %s", res.Credentials.Expiration, want)
		}
	})
	_, session := e.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "first")
	t.Run("chained 3601", func(t *testing.T) {
		r := e.do(&session, form("AssumeRole", "RoleArn", long, "RoleSessionName", "second", "DurationSeconds", "3601"))
		wantError(t, r, http.StatusBadRequest, CodeValidationError, msgChainingDuration)
	})
	t.Run("chained 3600", func(t *testing.T) {
		res, _ := e.assumeRole(session, "RoleArn", long, "RoleSessionName", "second", "DurationSeconds", "3600")
		if want := formatExpiration(testNow.Add(time.Hour)); res.Credentials.Expiration != want {
			t.Fatalf("Expiration = %s, want %s", res.Credentials.Expiration, want)
		}
	})
	t.Run("default is one hour", func(t *testing.T) {
		res, _ := e.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "s1")
		if want := formatExpiration(testNow.Add(time.Hour)); res.Credentials.Expiration != want {
			t.Fatalf("Expiration = %s, want %s", res.Credentials.Expiration, want)
		}
	})
}

// TestVector6_PrincipalsSameAndCrossAccount: who a trust policy lets in
// with and without identity policies.
func TestVector6_PrincipalsSameAndCrossAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t, vector6Config())
	role := func(name string) string { return "arn:aws:iam::123456789012:role/" + name }
	tests := []struct {
		name    string
		c       creds
		role    string
		allowed bool
	}{
		{"trust names the user ARN, no identity policy", bobACreds, role("TrustsBobA"), true},
		{"trust names A:root, no identity policy", bobACreds, role("TrustsAccount"), false},
		{"trust names A:root, identity policy allows", johnCreds, role("TrustsAccount"), true},
		{"trust names another user", johnCreds, role("TrustsOther"), false},
		{"cross account, trust allows B, B user without identity policy", bobCreds, role("TrustsB"), false},
		{"cross account, trust allows B, B user with identity policy", bobB2Creds, role("TrustsB"), true},
		{"trust allows, identity policy denies", denyCreds, role("TrustsUser"), false},
		{"role does not exist", johnCreds, role("NoSuchRole"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(&tc.c, form("AssumeRole", "RoleArn", tc.role, "RoleSessionName", "v6"))
			if tc.allowed {
				if r.status != http.StatusOK {
					t.Fatalf("denied: %d %s", r.status, r.body)
				}
				return
			}
			callerARN := e.svc.dir.accessKeys[tc.c.key].user.ARN
			wantError(t, r, http.StatusForbidden, CodeAccessDenied,
				"User: "+callerARN+" is not authorized to perform: sts:AssumeRole on resource: "+tc.role)
		})
	}
}

var (
	bobACreds  = creds{key: "AKIAQ3EGVBOBACCTA001", secret: bobBSecret}
	bobB2Creds = creds{key: "AKIAQ3EGVBOBACCTB002", secret: bobBSecret}
)

// vector6Config adds to the seed a user of account A without identity
// policies (BobA) and a role whose trust policy names it directly.
func vector6Config() string {
	c := strings.Replace(seedConfig, "      - name: Denied\n",
		"      - name: BobA\n        access_keys: [{id: AKIAQ3EGVBOBACCTA001, secret_env: BOB_SECRET}]\n      - name: Denied\n", 1)
	return strings.Replace(c, "      - name: TrustsAccount\n", `      - name: TrustsBobA
        trust_policy:
          Version: "2012-10-17"
          Statement:
            - {Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/BobA"}, Action: sts:AssumeRole}
      - name: TrustsAccount
`, 1)
}

// TestVector7_SeedScenario1: DevUser may set DevUser as source identity and
// nothing else.
func TestVector7_SeedScenario1(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	t.Run("DevUser", func(t *testing.T) {
		res, _ := e.assumeRole(devCreds, "RoleArn", devRoleARN, "RoleSessionName", "Dev-project", "SourceIdentity", "DevUser")
		if res.SourceIdentity != "DevUser" {
			t.Fatalf("SourceIdentity = %q", res.SourceIdentity)
		}
		if res.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/Developer_Role/Dev-project" ||
			res.AssumedRoleUser.AssumedRoleID != RoleID(acctA, "Developer_Role")+":Dev-project" {
			t.Fatalf("AssumedRoleUser = %+v", res.AssumedRoleUser)
		}
		if !strings.HasPrefix(res.Credentials.AccessKeyID, "ASIA") || len(res.Credentials.AccessKeyID) != 20 {
			t.Fatalf("AccessKeyId = %q", res.Credentials.AccessKeyID)
		}
	})
	t.Run("Bob", func(t *testing.T) {
		r := e.do(&devCreds, form("AssumeRole", "RoleArn", devRoleARN, "RoleSessionName", "Dev-project", "SourceIdentity", "Bob"))
		wantError(t, r, http.StatusForbidden, CodeAccessDenied,
			"User: arn:aws:iam::123456789012:user/DevUser is not authorized to perform: sts:SetSourceIdentity on resource: "+devRoleARN)
	})
	t.Run("trust lacking SetSourceIdentity", func(t *testing.T) {
		role := "arn:aws:iam::123456789012:role/NoSetSourceIdentity"
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", role, "RoleSessionName", "s1", "SourceIdentity", "JohnDoe"))
		wantError(t, r, http.StatusForbidden, CodeAccessDenied,
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: sts:SetSourceIdentity on resource: "+role)
		e.assumeRole(johnCreds, "RoleArn", role, "RoleSessionName", "s1")
	})
}

// TestVector8_SeedScenario6: the source identity is kept across a chained
// cross-account call and cannot be changed.
func TestVector8_SeedScenario6(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	first, saanvi := e.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "Saanvi", "SourceIdentity", "Saanvi")
	if first.SourceIdentity != "Saanvi" {
		t.Fatalf("first SourceIdentity = %q", first.SourceIdentity)
	}
	t.Run("chained call keeps Saanvi", func(t *testing.T) {
		res, _ := e.assumeRole(saanvi, "RoleArn", crit2RoleARN, "RoleSessionName", "Saanvi-chained")
		if res.SourceIdentity != "Saanvi" {
			t.Fatalf("SourceIdentity = %q, want the inherited Saanvi", res.SourceIdentity)
		}
	})
	t.Run("passing the same value again", func(t *testing.T) {
		res, _ := e.assumeRole(saanvi, "RoleArn", crit2RoleARN, "RoleSessionName", "again", "SourceIdentity", "Saanvi")
		if res.SourceIdentity != "Saanvi" {
			t.Fatalf("SourceIdentity = %q", res.SourceIdentity)
		}
	})
	sessionARN := "arn:aws:sts::111111111111:assumed-role/CriticalRole/Saanvi"
	t.Run("without SetSourceIdentity in the target's trust", func(t *testing.T) {
		role := "arn:aws:iam::222222222222:role/CriticalRole_3"
		r := e.do(&saanvi, form("AssumeRole", "RoleArn", role, "RoleSessionName", "x1"))
		wantError(t, r, http.StatusForbidden, CodeAccessDenied,
			"User: "+sessionARN+" is not authorized to perform: sts:SetSourceIdentity on resource: "+role)
	})
	t.Run("passing Diego from a Saanvi session", func(t *testing.T) {
		r := e.do(&saanvi, form("AssumeRole", "RoleArn", crit2RoleARN, "RoleSessionName", "x2", "SourceIdentity", "Diego"))
		wantError(t, r, http.StatusForbidden, CodeAccessDenied,
			"User: "+sessionARN+" is not authorized to perform: sts:SetSourceIdentity on resource: "+crit2RoleARN)
	})
}

// TestVector9_SessionTags: TagSession, tag rules, transitive keys, and the
// merge of tags across a chain.
func TestVector9_SessionTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	t.Run("tags without TagSession", func(t *testing.T) {
		role := "arn:aws:iam::123456789012:role/NoSetSourceIdentity"
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", role, "RoleSessionName", "s1",
			"Tags.member.1.Key", "Project", "Tags.member.1.Value", "Unicorn"))
		wantError(t, r, http.StatusForbidden, CodeAccessDenied,
			"User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: sts:TagSession on resource: "+role)
	})
	trustsUser := "arn:aws:iam::123456789012:role/TrustsUser"
	t.Run("duplicate keys in different case", func(t *testing.T) {
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1",
			"Tags.member.1.Key", "Department", "Tags.member.1.Value", "a",
			"Tags.member.2.Key", "department", "Tags.member.2.Value", "b"))
		wantError(t, r, http.StatusBadRequest, CodeInvalidParameterValue, msgDuplicateTags)
	})
	t.Run("transitive key not among the tags", func(t *testing.T) {
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1",
			"Tags.member.1.Key", "Project", "Tags.member.1.Value", "a", "TransitiveTagKeys.member.1", "CostCenter"))
		wantError(t, r, http.StatusBadRequest, CodeInvalidParameterValue, msgTransitiveNotInTags)
	})
	t.Run("51 tags", func(t *testing.T) {
		p := form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1")
		for i := 1; i <= 51; i++ {
			n := strconv.Itoa(i)
			p.Set("Tags.member."+n+".Key", "k"+n)
			p.Set("Tags.member."+n+".Value", "v")
		}
		wantError(t, e.do(&johnCreds, p), http.StatusBadRequest, CodeValidationError,
			"1 validation error detected: Value '51 items' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	})
	t.Run("129-character key", func(t *testing.T) {
		k := strings.Repeat("k", 129)
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1",
			"Tags.member.1.Key", k, "Tags.member.1.Value", "v"))
		wantError(t, r, http.StatusBadRequest, CodeValidationError,
			"1 validation error detected: Value '"+k+"' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128")
	})
	t.Run("257-character value", func(t *testing.T) {
		v := strings.Repeat("v", 257)
		r := e.do(&johnCreds, form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1",
			"Tags.member.1.Key", "k", "Tags.member.1.Value", v))
		wantError(t, r, http.StatusBadRequest, CodeValidationError,
			"1 validation error detected: Value '"+v+"' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
	})
	t.Run("packed size", func(t *testing.T) {
		p := form("AssumeRole", "RoleArn", trustsUser, "RoleSessionName", "s1")
		for i := 1; i <= 50; i++ {
			n := strconv.Itoa(i)
			p.Set("Tags.member."+n+".Key", "key-"+n+strings.Repeat("k", 100))
			p.Set("Tags.member."+n+".Value", strings.Repeat("v", 200))
		}
		r := e.do(&johnCreds, p)
		if r.code() != CodePackedPolicyTooLarge || !strings.HasPrefix(r.message(), "Packed size of session tags consumes ") {
			t.Fatalf("got %d %s %q", r.status, r.code(), r.message())
		}
	})
	onlyProjectDept := "arn:aws:iam::123456789012:role/TransitiveOnly"
	for _, tc := range []struct {
		name    string
		keys    []string
		allowed bool
	}{
		{"ForAllValues [Project] allowed", []string{"Project"}, true},
		{"ForAllValues [CostCenter] denied", []string{"CostCenter"}, false},
		{"ForAllValues none allowed", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := form("AssumeRole", "RoleArn", onlyProjectDept, "RoleSessionName", "s1",
				"Tags.member.1.Key", "Project", "Tags.member.1.Value", "p", "Tags.member.2.Key", "CostCenter", "Tags.member.2.Value", "c")
			for i, k := range tc.keys {
				p.Set("TransitiveTagKeys.member."+strconv.Itoa(i+1), k)
			}
			r := e.do(&johnCreds, p)
			if tc.allowed != (r.status == http.StatusOK) {
				t.Fatalf("allowed = %v, want %v: %s", r.status == http.StatusOK, tc.allowed, r.body)
			}
		})
	}
	t.Run("chain Role1 -> Role2 -> Role3", func(t *testing.T) {
		_, s1 := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Role1", "RoleSessionName", "r1",
			"Tags.member.1.Key", "Star", "Tags.member.1.Value", "1", "Tags.member.2.Key", "Heart", "Tags.member.2.Value", "1",
			"TransitiveTagKeys.member.1", "Star", "TransitiveTagKeys.member.2", "Heart")
		_, s2 := e.assumeRole(s1, "RoleArn", "arn:aws:iam::123456789012:role/Role2", "RoleSessionName", "r2")
		r := e.do(&s2, form("AssumeRole", "RoleArn", "arn:aws:iam::123456789012:role/Role3", "RoleSessionName", "r3",
			"Tags.member.1.Key", "star", "Tags.member.1.Value", "x", "TransitiveTagKeys.member.1", "star"))
		wantError(t, r, http.StatusBadRequest, CodeInvalidParameterValue, msgTransitiveConflict)

		_, s3 := e.assumeRole(s2, "RoleArn", "arn:aws:iam::123456789012:role/Role3", "RoleSessionName", "r3")
		claims, err := e.svc.sealer.open(s3.token, s3.key)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tg := range claims.Tags {
			got[tg.Key] = tg.Value
		}
		want := map[string]string{"Star": "1", "Heart": "1", "Lightning": "bolt"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("session tags = %v, want %v", got, want)
		}
		rec, err := e.store.GetSTSSession(t.Context(), s3.key)
		if err != nil || len(rec.Tags) != 3 || !reflect.DeepEqual(rec.TransitiveTagKeys, []string{"Star", "Heart"}) {
			t.Fatalf("session record = %+v, %v", rec, err)
		}
		last := e.trail.last(1)[0]
		var p audit.AssumeRoleParams
		if err := json.Unmarshal(last.RequestParameters, &p); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.IncomingTransitiveTags, map[string]string{"Star": "1", "Heart": "1"}) {
			t.Fatalf("incomingTransitiveTags = %v", p.IncomingTransitiveTags)
		}
	})
}

// TestVector12_GetCallerIdentity: no permission needed; a session sees its
// assumed-role ARN.
func TestVector12_GetCallerIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	t.Run("under explicit Deny", func(t *testing.T) {
		var res GetCallerIdentityResult
		e.do(&denyCreds, form("GetCallerIdentity")).result(t, &res)
		want := GetCallerIdentityResult{Arn: "arn:aws:iam::123456789012:user/Denied", UserID: UserID(acctA, "Denied"), Account: acctA}
		res.XMLName = want.XMLName
		if res != want {
			t.Fatalf("GetCallerIdentity = %+v, want %+v", res, want)
		}
	})
	t.Run("from a session", func(t *testing.T) {
		_, s := e.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "S1", "SourceIdentity", "Saanvi")
		var res GetCallerIdentityResult
		e.do(&s, form("GetCallerIdentity")).result(t, &res)
		if res.Arn != "arn:aws:sts::111111111111:assumed-role/CriticalRole/S1" || res.UserID != RoleID(acct1, "CriticalRole")+":S1" ||
			!strings.HasPrefix(res.UserID, "AROA") || res.Account != acct1 {
			t.Fatalf("GetCallerIdentity = %+v", res)
		}
		rec := e.trail.last(1)[0]
		if rec.EventName != audit.EventGetCallerIdentity || rec.UserIdentity.SessionContext == nil ||
			rec.UserIdentity.SessionContext.SourceIdentity != "Saanvi" || rec.UserIdentity.AccessKeyID != s.key {
			t.Fatalf("audit record = %+v", rec.UserIdentity)
		}
	})
}

// TestVector13_ClockSkewAndExpiry: 16 minutes of skew is refused, 14 is
// accepted; expired session credentials are ExpiredToken.
func TestVector13_ClockSkewAndExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	t.Run("signed 16 minutes ago", func(t *testing.T) {
		r := e.do(&devCreds, form("GetCallerIdentity"), testNow.Add(-16*time.Minute))
		wantError(t, r, http.StatusForbidden, CodeSignatureDoesNotMatch,
			"Signature expired: 20260301T114400Z is now earlier than 20260301T114500Z (20260301T120000Z - 15 min.)")
	})
	t.Run("signed 14 minutes ago", func(t *testing.T) {
		if r := e.do(&devCreds, form("GetCallerIdentity"), testNow.Add(-14*time.Minute)); r.status != http.StatusOK {
			t.Fatalf("refused: %s", r.body)
		}
	})
	t.Run("expired session credentials", func(t *testing.T) {
		_, s := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1", "DurationSeconds", "900")
		e.clock.Set(testNow.Add(15 * time.Minute))
		defer e.clock.Set(testNow)
		wantError(t, e.do(&s, form("GetCallerIdentity")), http.StatusForbidden, CodeExpiredToken, msgExpiredToken)
		e.clock.Set(testNow.Add(15*time.Minute - time.Second))
		if r := e.do(&s, form("GetCallerIdentity")); r.status != http.StatusOK {
			t.Fatalf("one second before expiry: %s", r.body)
		}
	})
}

// TestVector14_ConditionSemantics: the condition cases of vector 14,
// evaluated through AssumeRole trust policies.
func TestVector14_ConditionSemantics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	role := func(n string) string { return "arn:aws:iam::123456789012:role/" + n }
	_, session := e.assumeRole(johnCreds, "RoleArn", role("Long"), "RoleSessionName", "JohnDoe")
	tests := []struct {
		name    string
		c       creds
		role    string
		allowed bool
	}{
		{"StringEquals aws:username johndoe vs JohnDoe: no match", johnCreds, role("NamesJohnDoe"), false},
		{"StringEqualsIgnoreCase: match", johnCreds, role("NamesJohnDoeIgnoreCase"), true},
		{"Null aws:TokenIssueTime true and StringNotEquals on an absent key, long-term keys", johnCreds, role("NoTokenIssueTime"), true},
		{"${aws:username} in a role session: no match", session, role("SessionNamedAfterUser"), false},
		{"${aws:username} for the user itself: match", johnCreds, role("SessionNamedAfterUser"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "JohnDoe"
			r := e.do(&tc.c, form("AssumeRole", "RoleArn", tc.role, "RoleSessionName", name))
			if tc.allowed != (r.status == http.StatusOK) {
				t.Fatalf("allowed = %v, want %v: %s", r.status == http.StatusOK, tc.allowed, r.body)
			}
		})
	}
}

// TestVector15_AuditOfDenial: a denied AssumeRole is recorded with AWS's
// code and message and a null responseElements; its requestID is the
// response's RequestId.
func TestVector15_AuditOfDenial(t *testing.T) {
	t.Parallel()
	e := newEnv(t, seedConfig)
	r := e.do(&devCreds, form("AssumeRole", "RoleArn", devRoleARN, "RoleSessionName", "Dev-project", "SourceIdentity", "Bob"))
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d", r.status)
	}
	recs := e.trail.all()
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.ErrorCode != CodeAccessDenied || rec.ErrorMessage != r.message() || string(rec.ResponseElements) != "null" && rec.ResponseElements != nil {
		t.Fatalf("record: code %q message %q response %s", rec.ErrorCode, rec.ErrorMessage, rec.ResponseElements)
	}
	if rec.RequestID != r.err.RequestID {
		t.Fatalf("requestID %q, response RequestId %q", rec.RequestID, r.err.RequestID)
	}
	var p audit.AssumeRoleParams
	json.Unmarshal(rec.RequestParameters, &p)
	if p.SourceIdentity != "Bob" || rec.Index().SourceIdentity != "Bob" {
		t.Fatalf("requestParameters.sourceIdentity = %q", p.SourceIdentity)
	}
}
