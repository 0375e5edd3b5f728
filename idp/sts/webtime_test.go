package sts

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"idpbridge/idp/audit"
)

// TestWebIdentityTimeClaims: nbf is honoured with the same (zero) skew as
// exp, and exp, iat and nbf must be JSON numbers: a string, even of digits,
// or any other JSON value is InvalidIdentityToken. Fixed clock (testNow),
// fixed keys.
func TestWebIdentityTimeClaims(t *testing.T) {
	t.Parallel()
	w := newWebEnv(t)
	now := testNow.Unix()
	notYet := func(nbf int64) string {
		return fmt.Sprintf("Token not yet valid: current date/time %d must not be before the not-before date/time %d", now, nbf)
	}
	tests := []struct {
		name          string
		edit          func(map[string]any)
		code, message string // "" for success
	}{
		{"nbf in one hour", func(c map[string]any) { c["nbf"] = now + 3600 }, CodeInvalidIdentityToken, notYet(now + 3600)},
		{"nbf one second ahead", func(c map[string]any) { c["nbf"] = now + 1 }, CodeInvalidIdentityToken, notYet(now + 1)},
		{"nbf now", func(c map[string]any) { c["nbf"] = now }, "", ""},
		{"nbf a minute ago", func(c map[string]any) { c["nbf"] = now - 60 }, "", ""},
		{"nbf as a fraction just past now", func(c map[string]any) { c["nbf"] = json.Number(fmt.Sprintf("%d.5", now)) }, "", ""},
		{"exp as a fraction", func(c map[string]any) { c["exp"] = json.Number(fmt.Sprintf("%d.25", now+3600)) }, "", ""},
		{"exp the second before now", func(c map[string]any) { c["exp"] = now - 1 }, CodeExpiredTokenException,
			fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time%d", now, now-1)},
		{"exp equal to now", func(c map[string]any) { c["exp"] = now }, CodeExpiredTokenException,
			fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time%d", now, now)},
		{"exp as a string of digits", func(c map[string]any) { c["exp"] = fmt.Sprint(now + 3600) }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp as a string", func(c map[string]any) { c["exp"] = "tomorrow" }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp null", func(c map[string]any) { c["exp"] = nil }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp true", func(c map[string]any) { c["exp"] = true }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp an array", func(c map[string]any) { c["exp"] = []int64{now + 3600} }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp an object", func(c map[string]any) { c["exp"] = map[string]int64{"v": now + 3600} }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp missing", func(c map[string]any) { delete(c, "exp") }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp beyond any date", func(c map[string]any) { c["exp"] = json.Number("1e300") }, CodeInvalidIdentityToken, msgTimeClaims},
		{"exp beyond int64", func(c map[string]any) { c["exp"] = json.Number("99999999999999999999") }, CodeInvalidIdentityToken, msgTimeClaims},
		{"iat as a string of digits", func(c map[string]any) { c["iat"] = fmt.Sprint(now - 60) }, CodeInvalidIdentityToken, msgTimeClaims},
		{"iat null", func(c map[string]any) { c["iat"] = nil }, CodeInvalidIdentityToken, msgTimeClaims},
		{"nbf as a string of digits", func(c map[string]any) { c["nbf"] = fmt.Sprint(now - 60) }, CodeInvalidIdentityToken, msgTimeClaims},
		{"nbf as a future string", func(c map[string]any) { c["nbf"] = fmt.Sprint(now + 3600) }, CodeInvalidIdentityToken, msgTimeClaims},
		{"nbf false", func(c map[string]any) { c["nbf"] = false }, CodeInvalidIdentityToken, msgTimeClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := seedToken("Saanvi")
			tc.edit(c)
			r := w.do(nil, webForm(webRoleARN, w.key.sign(t, c)))
			rec := w.trail.last(1)[0]
			if rec.EventName != audit.EventAssumeRoleWithWebIdentity || rec.ErrorCode != tc.code {
				t.Fatalf("audit record %s %q, want error code %q", rec.EventName, rec.ErrorCode, tc.code)
			}
			if tc.code == "" {
				if r.status != http.StatusOK {
					t.Fatalf("refused: %s", r.body)
				}
				return
			}
			wantError(t, r, http.StatusBadRequest, tc.code, tc.message)
		})
	}
}

// TestWebIdentityTimeClaimsBeforeKeys: a token of a remote provider whose
// time claims are not numbers is refused without asking the provider for
// keys, even when its key ID is unknown (which would force a refresh).
func TestWebIdentityTimeClaimsBeforeKeys(t *testing.T) {
	t.Parallel()
	w := newWebEnv(t)
	claims := func(exp any) map[string]any {
		return map[string]any{"sub": "svc", "aud": "remote_client", "iss": w.remoteURL, "exp": exp}
	}
	if r := w.do(nil, webForm(webAdminARN, w.remoteKey.sign(t, claims(testNow.Add(time.Hour).Unix())))); r.status != http.StatusOK {
		t.Fatalf("remote provider: %s", r.body)
	}
	before := w.jwksFetches.Load()
	w.clock.Set(testNow.Add(2 * time.Minute)) // past MinRefresh
	other := newJWTKey(t, "r-unknown")
	r := w.do(nil, webForm(webAdminARN, other.sign(t, claims(fmt.Sprint(testNow.Add(time.Hour).Unix())))))
	wantError(t, r, http.StatusBadRequest, CodeInvalidIdentityToken, msgTimeClaims)
	if got := w.jwksFetches.Load(); got != before {
		t.Fatalf("%d JWKS fetches for a token with a string exp, want none", got-before)
	}
}
