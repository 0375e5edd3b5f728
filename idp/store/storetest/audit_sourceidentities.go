package storetest

import (
	"reflect"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// testAuditSecondSourceIdentity: an event is found under its source
// identity and its second one, newest first, once each, also across pages;
// the second is read back as stored.
func testAuditSecondSourceIdentity(t *testing.T, s store.Store) {
	base := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	both := auditEvent("both", base, "AssumeRole", "caller", "role", "Saanvi", "AccessDenied")
	both.SecondSourceIdentity = "Diego"
	owner := auditEvent("owner", base, "AssumeRole", "111111111111", "role", "Diego", "AccessDenied")
	owner.SecondSourceIdentity = "Saanvi"
	events := []store.AuditEvent{
		auditEvent("saanvi-before", base.Add(-time.Minute), "AssumeRole", "caller", "role", "Saanvi", ""),
		both,
		owner,
		auditEvent("diego-after", base.Add(time.Minute), "AssumeRole", "caller", "role", "Diego", ""),
		auditEvent("other", base.Add(2*time.Minute), "AssumeRole", "caller", "role", "Mateo", ""),
	}
	if err := s.AppendAuditEvents(ctx, events); err != nil {
		t.Fatalf("AppendAuditEvents: %v", err)
	}
	for _, tc := range []struct {
		si   string
		want []string
	}{
		{"Diego", []string{"diego-after", "owner", "both"}},
		{"Saanvi", []string{"owner", "both", "saanvi-before"}},
		{"Mateo", []string{"other"}},
		{"diego", []string{}},
	} {
		if got := ids(lookup(t, s, store.AuditQuery{SourceIdentity: tc.si})); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("source identity %s: %v, want %v", tc.si, got, tc.want)
		}
		if got := ids(pageAll(t, s, store.AuditQuery{SourceIdentity: tc.si, Limit: 1}, nil)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("source identity %s, one per page: %v, want %v", tc.si, got, tc.want)
		}
	}
	got := lookup(t, s, store.AuditQuery{SourceIdentity: "Diego", Name: "AssumeRole", ErrorCode: store.AnyError})
	if len(got) != 2 || got[0].SecondSourceIdentity != "Saanvi" || got[1].SecondSourceIdentity != "Diego" ||
		got[0].SourceIdentity != "Diego" || got[1].SourceIdentity != "Saanvi" {
		t.Errorf("read back %+v, want owner (Diego, Saanvi) then both (Saanvi, Diego)", got)
	}
	if got := lookup(t, s, store.AuditQuery{SourceIdentity: "Mateo"}); len(got) != 1 || got[0].SecondSourceIdentity != "" {
		t.Errorf("an event without a second source identity reads back %+v", got)
	}
}
