package web

import (
	"testing"
	"time"

	"idpbridge/idp/sso"
)

// TestCertRow: a certificate is flagged when it is unreadable, expired or
// expires within CertExpiryWarning, and its expiry is worded against now.
func TestCertRow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		cert    sso.CertInfo
		expiry  string
		warn    bool
		wantUse string
	}{
		{"far", sso.CertInfo{Use: "signing", NotAfter: now.AddDate(1, 0, 0)}, "2027-03-04 (in 365 days)", false, "signing"},
		{"just over 30 days", sso.CertInfo{NotAfter: now.Add(CertExpiryWarning + time.Hour)}, "2026-04-03 (in 30 days)", false, "signing and encryption"},
		{"29 days", sso.CertInfo{Use: "encryption", NotAfter: now.Add(29 * 24 * time.Hour)}, "2026-04-02 (in 29 days)", true, "encryption"},
		{"expired", sso.CertInfo{Use: "signing", NotAfter: now.Add(-time.Second)}, "expired 2026-03-04", true, "signing"},
		{"unreadable", sso.CertInfo{Use: "signing", Err: "x509: malformed certificate"}, "unreadable: x509: malformed certificate", true, "signing"},
	} {
		got := certRow(tc.cert, now)
		if got.Expiry != tc.expiry || got.Warn != tc.warn || got.Use != tc.wantUse {
			t.Errorf("%s: %+v, want expiry %q warn %v use %q", tc.name, got, tc.expiry, tc.warn, tc.wantUse)
		}
	}
}
