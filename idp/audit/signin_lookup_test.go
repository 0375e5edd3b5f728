package audit

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// TestLookupBySourceIdentityFindsSignIns: a lookup by source identity also
// lists the sign-ins of the people whose assertions carried it (a sign-in
// comes before any mapping and carries none itself), newest first, paged
// without duplicates; another person's sign-ins stay out, and so do the
// sign-ins when the query asks for another event or a role.
func TestLookupBySourceIdentityFindsSignIns(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		at := func(i int) time.Time { return testNow.Add(time.Duration(i) * time.Minute) }
		call := func(i int, user, conn string) Call {
			return Call{EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), RequestID: fmt.Sprintf("req-%d", i),
				Time: at(i), SourceIP: "192.0.2.10", UserAgent: "test", Identity: IdpbridgeUser(user, conn)}
		}
		signIn := func(i int, user, conn string) Record { return SignInEvent(call(i, user, conn), conn, nil) }
		issue := func(i int, user, conn, si string) Record {
			return IssueAssertionEvent(call(i, user, conn), AssertionRequest{ServiceProvider: "aws", EntityID: "urn:amazon:webservices"},
				AssertionResponse{AssertionID: fmt.Sprintf("_a%d", i), NameID: user, SourceIdentity: si,
					Roles: []string{"arn:aws:iam::123456789012:role/Developer"}})
		}
		recs := []Record{
			signIn(1, "diego.ramirez", "corp-ad"),
			signIn(2, "other", "corp-ad"),
			issue(3, "diego.ramirez", "corp-ad", "diego.ramirez"),
			issue(4, "other", "corp-ad", "other"),
			signIn(5, "diego.ramirez", "corp-ad"),
			issue(6, "diego.ramirez", "corp-ad", "diego.ramirez"),
			signIn(7, "other", "corp-ad"),
		}
		if err := NewWriter(s, WriterOptions{Logger: quietLogger()}).Log(ctx, recs...); err != nil {
			t.Fatal(err)
		}
		lookup := func(q Query) []string {
			var got []string
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				page, err := Lookup(ctx, s, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range page.Events {
					got = append(got, e.Record.EventName+"@"+e.Record.EventTime.Format("15:04"))
				}
				if page.Next == "" {
					return got
				}
				q.Cursor = page.Next
			}
		}
		min := func(i int) string { return at(i).Format("15:04") }
		want := []string{"IssueAssertion@" + min(6), "SignIn@" + min(5), "IssueAssertion@" + min(3), "SignIn@" + min(1)}
		for _, limit := range []int{1, 2, 3, 50} {
			if got := lookup(Query{SourceIdentity: "diego.ramirez", Limit: limit}); !slices.Equal(got, want) {
				t.Errorf("limit %d: %v, want %v", limit, got, want)
			}
		}
		if got := lookup(Query{SourceIdentity: "diego.ramirez", Event: EventSignIn}); !slices.Equal(got, []string{"SignIn@" + min(5), "SignIn@" + min(1)}) {
			t.Errorf("SignIn events of diego.ramirez: %v", got)
		}
		if got := lookup(Query{SourceIdentity: "diego.ramirez", Event: EventIssueAssertion}); len(got) != 2 {
			t.Errorf("IssueAssertion events of diego.ramirez: %v", got)
		}
		if got := lookup(Query{SourceIdentity: "diego.ramirez", Since: at(4)}); !slices.Equal(got, want[:2]) {
			t.Errorf("since minute 4: %v, want %v", got, want[:2])
		}
		if got := lookup(Query{SourceIdentity: "nobody"}); len(got) != 0 {
			t.Errorf("an unknown source identity finds %v", got)
		}
	})
}
