package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestGoldenAdminSessionsRevoked compares the records of `sts revoke
// --source-identity` and `sts revoke ASIA...` (with the sessions chained
// from it) with testdata/TestGolden_AdminSessionsRevoked_*.json; -update
// rewrites them. The CLI's identity is connector "cli" and the OS user.
func TestGoldenAdminSessionsRevoked(t *testing.T) {
	t.Parallel()
	cli := IdpbridgeUser("operator", "cli")
	for _, tc := range []namedRecord{
		{"AdminSessionsRevoked_SourceIdentity", AdminEvent(idpCall(cli), AdminSessionsRevoked, AdminChange{
			TargetType: "SourceIdentity", Target: "Diego",
			Details: map[string]string{"count": "2", "reason": "laptop stolen",
				"accessKeyIds": "ASIAQ3EGVEXAMPLEDIE1,ASIAQ3EGVEXAMPLEDIE2"},
		}, nil)},
		{"AdminSessionsRevoked_Chain", AdminEvent(idpCall(cli), AdminSessionsRevoked, AdminChange{
			TargetType: "STSSession", Target: "ASIAQ3EGVEXAMPLEDIE1",
			Details: map[string]string{"count": "2", "reason": "revoke of session ASIAQ3EGVEXAMPLEDIE1 and the sessions chained from it",
				"accessKeyIds": "ASIAQ3EGVEXAMPLEDIE1,ASIAQ3EGVEXAMPLEDIE2", "roleArn": criticalRoleARN,
				"roleSessionName": "diego", "sourceIdentity": "Diego"},
		}, nil)},
	} {
		got, err := json.MarshalIndent(tc.rec, "", "  ")
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", "TestGolden_"+tc.name+".json")
		if *update {
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
	}
}
