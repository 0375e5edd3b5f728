package sts

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openPostgres(t testing.TB) store.Store {
	t.Helper()
	return openPostgresOptions(t, postgres.Options{})
}

// openPostgresOptions is openPostgres with opt.
func openPostgresOptions(t testing.TB, opt postgres.Options) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.Schema(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestRevocationAcrossReplicas: two replicas share one store and the
// key-encryption key; a session issued by one works on the other, and a
// revocation made on one takes effect on the other at once.
func TestRevocationAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, backend := range []struct {
		name string
		open func(testing.TB) store.Store
	}{
		{"postgres", openPostgres},
		{"sqlite", openTestStore},
	} {
		t.Run(backend.name, func(t *testing.T) {
			st := backend.open(t)
			a := newEnvOn(t, seedConfig, st)
			b := newEnvOn(t, seedConfig, st, withOptions(func(o *Options) { o.Rand = &counterRand{n: 1 << 40} }))
			_, s := a.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1")
			if r := b.do(&s, form("GetCallerIdentity")); r.status != http.StatusOK {
				t.Fatalf("replica B refused a session of replica A: %s", r.body)
			}
			_, chained := b.assumeRole(s, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s2")
			if err := a.svc.Revoke(context.Background(), s.key); err != nil {
				t.Fatal(err)
			}
			wantError(t, b.do(&s, form("GetCallerIdentity")), http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
			wantError(t, a.do(&s, form("GetCallerIdentity")), http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
			// A session chained from it before the revocation is revoked
			// with it.
			wantError(t, b.do(&chained, form("GetCallerIdentity")), http.StatusForbidden, CodeInvalidClientTokenID, msgInvalidToken)
			rec, err := st.GetSTSSession(context.Background(), s.key)
			if err != nil || !rec.RevokedAt.Equal(testNow) || rec.SessionName != "s1" || rec.CallerARN != "arn:aws:iam::123456789012:user/JohnDoe" {
				t.Fatalf("record %+v, %v", rec, err)
			}
			if err := a.svc.Revoke(context.Background(), "ASIANOSUCHSESSION000"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Revoke of an unknown key = %v", err)
			}
		})
	}
}

// TestExpiredTokenFixedClock: the session expires exactly at Expiration on
// every replica.
func TestExpiredTokenFixedClock(t *testing.T) {
	t.Parallel()
	st := openTestStore(t)
	a := newEnvOn(t, seedConfig, st)
	b := newEnvOn(t, seedConfig, st, withOptions(func(o *Options) { o.Rand = &counterRand{n: 1 << 40} }))
	res, s := a.assumeRole(johnCreds, "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s1", "DurationSeconds", "900")
	exp, _ := time.Parse(expirationLayout, res.Credentials.Expiration)
	b.clock.Set(exp)
	wantError(t, b.do(&s, form("GetCallerIdentity")), http.StatusForbidden, CodeExpiredToken, msgExpiredToken)
	wantError(t, b.do(&s, form("AssumeRole", "RoleArn", "arn:aws:iam::123456789012:role/Long", "RoleSessionName", "s2")),
		http.StatusForbidden, CodeExpiredToken, msgExpiredToken)
}
