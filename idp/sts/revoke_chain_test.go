package sts

import (
	"context"
	"net/http"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// Revoking a session revokes every session chained from it, to any depth,
// on every replica at its next request; sessions not chained from it keep
// working. Both stores.
func TestRevokeReachesChainedSessions(t *testing.T) {
	t.Parallel()
	for _, be := range benchBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st := be.open(t)
			a := newEnvOn(t, seedConfig, st)
			b := newEnvOn(t, seedConfig, st, withOptions(func(o *Options) { o.Rand = &counterRand{n: 1 << 40} }))
			long := "arn:aws:iam::123456789012:role/Long"
			_, root := a.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "root")
			_, child := b.assumeRole(root, "RoleArn", "arn:aws:iam::123456789012:role/Short", "RoleSessionName", "child")
			_, grandchild := a.assumeRole(child, "RoleArn", long, "RoleSessionName", "grandchild")
			_, sibling := a.assumeRole(johnCreds, "RoleArn", long, "RoleSessionName", "sibling")
			_, nephew := b.assumeRole(sibling, "RoleArn", long, "RoleSessionName", "nephew")

			if rec, err := st.GetSTSSession(context.Background(), grandchild.key); err != nil || rec.ParentAccessKeyID != child.key {
				t.Fatalf("grandchild's parent = %q, %v; want %s", rec.ParentAccessKeyID, err, child.key)
			}
			if err := a.svc.Revoke(context.Background(), root.key); err != nil {
				t.Fatal(err)
			}
			for _, e := range []*testEnv{a, b} {
				for _, c := range []creds{root, child, grandchild} {
					wantError(t, e.do(&c, form("GetCallerIdentity")), http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
					// Nor can it chain on.
					wantError(t, e.do(&c, form("AssumeRole", "RoleArn", long, "RoleSessionName", "again")),
						http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
				}
				for _, c := range []creds{sibling, nephew} {
					if r := e.do(&c, form("GetCallerIdentity")); r.status != http.StatusOK {
						t.Fatalf("a session not chained from the revoked one was refused: %s", r.body)
					}
				}
			}
		})
	}
}

// Revoking by source identity refuses every live session carrying it, in
// every role and account, on every replica; other sessions keep working.
func TestRevokeBySourceIdentityAcrossRolesAndAccounts(t *testing.T) {
	t.Parallel()
	for _, be := range benchBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			st := be.open(t)
			a := newEnvOn(t, seedConfig, st)
			b := newEnvOn(t, seedConfig, st, withOptions(func(o *Options) { o.Rand = &counterRand{n: 1 << 40} }))
			_, diego := a.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "diego", "SourceIdentity", "Diego")
			_, diego2 := b.assumeRole(diego, "RoleArn", crit2RoleARN, "RoleSessionName", "diego")
			_, saanvi := a.assumeRole(opCreds, "RoleArn", critRoleARN, "RoleSessionName", "saanvi", "SourceIdentity", "Saanvi")
			_, dev := a.assumeRole(devCreds, "RoleArn", devRoleARN, "RoleSessionName", "dev", "SourceIdentity", "DevUser")

			revoked, err := st.RevokeSTSSessionsBySourceIdentity(context.Background(), "Diego", a.clock.Now())
			if err != nil || len(revoked) != 2 {
				t.Fatalf("revoked %d sessions, %v; want 2", len(revoked), err)
			}
			accounts := map[string]bool{}
			for _, s := range revoked {
				accounts[s.AccountID] = true
			}
			if !accounts[acct1] || !accounts[acct2] {
				t.Fatalf("revoked sessions in accounts %v, want %s and %s", accounts, acct1, acct2)
			}
			for _, e := range []*testEnv{a, b} {
				for _, c := range []creds{diego, diego2} {
					wantError(t, e.do(&c, form("GetCallerIdentity")), http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
				}
				for _, c := range []creds{saanvi, dev} {
					if r := e.do(&c, form("GetCallerIdentity")); r.status != http.StatusOK {
						t.Fatalf("a session of another source identity was refused: %s", r.body)
					}
				}
			}
		})
	}
}

// revokeParentFirst revokes the calling session inside the transaction
// that stores the session chained from it, as a revocation committed
// between the call's authentication and its commit would.
type revokeParentFirst struct {
	store.Store
	at time.Time
}

func (r revokeParentFirst) InTx(ctx context.Context, fn func(tx store.Tx) error) error {
	return r.Store.InTx(ctx, func(tx store.Tx) error { return fn(revokeParentTx{tx, r.at}) })
}

type revokeParentTx struct {
	store.Tx
	at time.Time
}

func (t revokeParentTx) CreateSTSSession(ctx context.Context, s store.STSSession) error {
	if s.ParentAccessKeyID != "" {
		if err := t.Tx.RevokeSTSSession(ctx, s.ParentAccessKeyID, t.at); err != nil {
			return err
		}
	}
	return t.Tx.CreateSTSSession(ctx, s)
}

// A session revoked while it chains gets InvalidClientTokenId, and no
// chained session is stored.
func TestChainingFromSessionRevokedMeanwhile(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	e := newEnvOn(t, seedConfig, revokeParentFirst{Store: st, at: testNow})
	_, s := e.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1")
	r := e.do(&s, form("AssumeRole", "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s2"))
	wantError(t, r, http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
	list, err := st.ListSTSSessions(context.Background(), storeFilterAll)
	if err != nil || len(list) != 1 || list[0].AccessKeyID != s.key {
		t.Fatalf("sessions stored: %d, %v; want only the caller's", len(list), err)
	}
}
