package audit

import (
	"strings"
	"testing"
)

// deniedDiegoCopies are the two copies of a chained AssumeRole from a
// Saanvi session that tried to set source identity Diego.
func deniedDiegoCopies() (caller, owner Record) {
	id := AssumedRole(RoleSession{RoleID: criticalRoleID, RoleARN: criticalRoleARN, SessionName: "saanvi",
		AccessKeyID: "ASIAQ3EGVEXAMPLESESS1", Created: testNow, SourceIdentity: "Saanvi"})
	rec := AssumeRoleEvent(call(id, acct1, cliUA),
		AssumeRoleParams{RoleARN: criticalRole2ARN, RoleSessionName: "diego", SourceIdentity: "Diego", DurationSeconds: 3600},
		nil, &APIError{Code: "AccessDenied", Message: "denied"})
	return CrossAccountCopies(rec, acct1, acct2, eventID2, sharedID)
}

// A record is indexed under the source identity its session carries and
// the different one it tried to set.
func TestIndexSecondSourceIdentity(t *testing.T) {
	t.Parallel()
	caller, owner := deniedDiegoCopies()
	if f := caller.Index(); f.SourceIdentity != "Saanvi" || f.SecondSourceIdentity != "Diego" {
		t.Errorf("caller's copy indexed under %q, %q; want Saanvi, Diego", f.SourceIdentity, f.SecondSourceIdentity)
	}
	if f := owner.Index(); f.SourceIdentity != "Diego" || f.SecondSourceIdentity != "" {
		t.Errorf("owner's copy indexed under %q, %q; want Diego alone", f.SourceIdentity, f.SecondSourceIdentity)
	}
	// The same value passed again is one source identity, not two.
	id := AssumedRole(RoleSession{RoleID: criticalRoleID, RoleARN: criticalRoleARN, SessionName: "saanvi", SourceIdentity: "Saanvi"})
	same := AssumeRoleEvent(call(id, acct1, cliUA), AssumeRoleParams{RoleARN: criticalRole2ARN, RoleSessionName: "again", SourceIdentity: "Saanvi"}, nil, nil)
	if f := same.Index(); f.SourceIdentity != "Saanvi" || f.SecondSourceIdentity != "" {
		t.Errorf("same value indexed under %q, %q; want Saanvi alone", f.SourceIdentity, f.SecondSourceIdentity)
	}
}

// The writer indexes both copies of a cross-account call under the source
// identities of both, and the row hash covers the second one.
func TestWriterSharesSourceIdentitiesAcrossCopies(t *testing.T) {
	t.Parallel()
	caller, owner := deniedDiegoCopies()
	w := NewWriter(nil, WriterOptions{Logger: quietLogger()})
	events, err := w.events([]Record{caller, owner})
	if err != nil {
		t.Fatal(err)
	}
	if e := events[0]; e.SourceIdentity != "Saanvi" || e.SecondSourceIdentity != "Diego" {
		t.Errorf("caller's copy: %q, %q; want Saanvi, Diego", e.SourceIdentity, e.SecondSourceIdentity)
	}
	if e := events[1]; e.SourceIdentity != "Diego" || e.SecondSourceIdentity != "Saanvi" {
		t.Errorf("owner's copy: %q, %q; want Diego, Saanvi", e.SourceIdentity, e.SecondSourceIdentity)
	}
	with, err := CanonicalRow(events[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(with), `"secondSourceIdentity":"Saanvi"`) {
		t.Errorf("canonical row lacks the second source identity: %s", with)
	}
	events[1].SecondSourceIdentity = ""
	without, err := CanonicalRow(events[1])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(without), "secondSourceIdentity") {
		t.Errorf("canonical row of a row without a second source identity names it: %s", without)
	}
}
