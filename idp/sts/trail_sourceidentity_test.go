package sts

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"idpbridge/idp/audit"
)

// A denied chained call from a Saanvi session that passes SourceIdentity
// Diego writes two copies (caller's account, role owner's account); a
// lookup by either name finds both, newest first, once each. Both stores.
func TestTrailFindsBothCopiesUnderEitherSourceIdentity(t *testing.T) {
	t.Parallel()
	for _, be := range benchBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st := be.open(t)
			e := newEnvOn(t, seedConfig, st, withOptions(func(o *Options) {
				o.Trail = audit.NewWriter(st, audit.WriterOptions{Logger: slog.New(slog.DiscardHandler)})
			}))
			_, crit := e.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "saanvi", "SourceIdentity", "Saanvi")
			e.clock.Set(testNow.Add(time.Minute))
			r := e.do(&crit, form("AssumeRole", "RoleArn", crit2RoleARN, "RoleSessionName", "diego", "SourceIdentity", "Diego"))
			wantError(t, r, http.StatusForbidden, CodeAccessDenied, "")
			e.clock.Set(testNow.Add(2 * time.Minute))
			e.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "diego", "SourceIdentity", "Diego")

			type row struct{ account, identity, sourceIdentity string }
			lookup := func(si string) []row {
				t.Helper()
				var out []row
				q := audit.Query{SourceIdentity: si, Limit: 1}
				for {
					page, err := audit.Lookup(context.Background(), st, q)
					if err != nil {
						t.Fatal(err)
					}
					for _, ev := range page.Events {
						sessionSI := ""
						if sc := ev.Record.UserIdentity.SessionContext; sc != nil {
							sessionSI = sc.SourceIdentity
						}
						out = append(out, row{ev.Record.RecipientAccountID, ev.Record.UserIdentity.Type, sessionSI})
					}
					if page.Next == "" {
						return out
					}
					q.Cursor = page.Next
				}
			}
			// Newest first: Operator's Diego session, then the denied call's
			// copies (the owner's was written last), then for Saanvi her
			// own session's creation.
			callerCopy := row{acct1, audit.TypeAssumedRole, "Saanvi"}
			ownerCopy := row{acct2, audit.TypeAWSAccount, ""}
			checkRows(t, "Diego", lookup("Diego"), []row{{acct1, audit.TypeIAMUser, ""}, ownerCopy, callerCopy})
			checkRows(t, "Saanvi", lookup("Saanvi"), []row{ownerCopy, callerCopy, {acct1, audit.TypeIAMUser, ""}})
		})
	}
}

func checkRows[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
	}
}
