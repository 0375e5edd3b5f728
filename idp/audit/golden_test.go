package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

type namedRecord struct {
	name string
	rec  Record
}

// goldenCases covers every userIdentity variant, the denied call, and each
// IdP event kind.
func goldenCases() []namedRecord {
	return []namedRecord{
		{"IAMUser_AssumeRole", iamUserAssumeRole()},
		{"AssumedRole_ChainedAssumeRole", callerCopy(chainedAssumeRole())},
		{"AWSAccount_OwnerCopy", ownerCopy(chainedAssumeRole())},
		{"SAMLUser_AssumeRoleWithSAML", samlAssumeRole()},
		{"WebIdentityUser_AssumeRoleWithWebIdentity", webIdentityAssumeRole()},
		{"AssumedRole_GetCallerIdentity", sessionGetCallerIdentity()},
		{"AssumeRole_AccessDenied", deniedAssumeRole()},
		{"SignIn_Success", signInSuccess()},
		{"SignIn_UnknownUser", signInUnknownUser()},
		{"SignIn_AccountDisabled", signInDisabled()},
		{"SignIn_RateLimited", signInRateLimited()},
		{"SignOut", signOut()},
		{"IssueAssertion", issueAssertion(samlRoleARN)},
		{"MappingFailed", mappingFailed()},
		{"AdminUserPasswordChanged", adminPasswordChanged()},
		{"AdminKeyRotated", adminKeyRotated()},
		{"AdminAuditPruned_Denied", adminAuditPrunedDenied()},
		{"AdminUserUpdated", adminUserUpdated()},
		{"AdminUserDeleted", adminUserDeleted()},
	}
}

// TestGolden compares each record's indented JSON with
// testdata/TestGolden_<name>.json; -update rewrites the files.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tc.rec, "", "  ")
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "TestGolden_"+tc.name+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the record built now (run with -update if the change is intended)\ngot:\n%s", path, got)
			}
		})
	}
}

// TestRecord_RoundTrip proves a stored record decodes and re-encodes to the
// same bytes, and that encoding is stable.
func TestRecord_RoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			first, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 {
				again, _ := json.Marshal(tc.rec)
				if !bytes.Equal(first, again) {
					t.Fatalf("unstable encoding:\n%s\n%s", first, again)
				}
			}
			var back Record
			if err := json.Unmarshal(first, &back); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			second, err := json.Marshal(back)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first, second) {
				t.Errorf("round trip changed the record:\nbefore %s\nafter  %s", first, second)
			}
			if back.Index() != tc.rec.Index() {
				t.Errorf("index after round trip = %+v, want %+v", back.Index(), tc.rec.Index())
			}
		})
	}
}

// TestRecord_FieldOrder checks the envelope's member order against
// CloudTrail's.
func TestRecord_FieldOrder(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(callerCopy(chainedAssumeRole()))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID",
		"readOnly", "resources", "eventType", "managementEvent", "recipientAccountId", "sharedEventID", "eventCategory"}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("members = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("member %d = %q, want %q (all: %v)", i, got[i], want[i], got)
		}
	}
}
