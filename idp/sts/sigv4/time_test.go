package sigv4

import (
	"testing"
	"time"
)

// TestClockSkew covers STS-SPEC §9 vector 13 and the window's edges. The
// request is signed at 2026-03-01T12:00:00Z.
func TestClockSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		now     time.Time
		wantMsg string // "" means accepted
	}{
		{name: "same second", now: signedAt},
		{name: "signed 14 minutes ago", now: signedAt.Add(14 * time.Minute)},
		{name: "signed exactly 15 minutes ago", now: signedAt.Add(15 * time.Minute)},
		{
			name:    "signed 15:01 ago",
			now:     signedAt.Add(15*time.Minute + time.Second),
			wantMsg: "Signature expired: 20260301T120000Z is now earlier than 20260301T120001Z (20260301T121501Z - 15 min.)",
		},
		{
			name:    "signed 16 minutes ago",
			now:     signedAt.Add(16 * time.Minute),
			wantMsg: "Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)",
		},
		{name: "signed 14 minutes in the future", now: signedAt.Add(-14 * time.Minute)},
		{name: "signed exactly 15 minutes in the future", now: signedAt.Add(-15 * time.Minute)},
		{
			name:    "signed 16 minutes in the future",
			now:     signedAt.Add(-16 * time.Minute),
			wantMsg: "Signature not yet current: 20260301T120000Z is still later than 20260301T115900Z (20260301T114400Z + 15 min.)",
		},
		{
			name:    "server clock in another zone",
			now:     signedAt.Add(16 * time.Minute).In(time.FixedZone("CET", 3600)),
			wantMsg: "Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)",
		},
	}
	for _, kind := range []struct {
		name string
		req  func(t *testing.T) signedRequest
	}{
		{"header", func(t *testing.T) signedRequest {
			return sdkSign(t, "POST", stsURL, formBody, "", "sts", "us-east-1", signedAt)
		}},
		{"presigned", func(t *testing.T) signedRequest {
			return sdkPresign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", "", 0, signedAt)
		}},
	} {
		for _, tc := range tests {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				_, err := parseVerify(kind.req(t), testSecret, tc.now)
				if tc.wantMsg == "" {
					wantError(t, err, "", "")
					return
				}
				wantError(t, err, CodeSignatureDoesNotMatch, tc.wantMsg)
			})
		}
	}
}

// TestPresignedExpires checks X-Amz-Expires on top of the 15-minute window.
func TestPresignedExpires(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expires time.Duration
		now     time.Time
		wantMsg string
	}{
		{name: "within 60 s", expires: time.Minute, now: signedAt.Add(time.Minute)},
		{
			name: "past 60 s", expires: time.Minute, now: signedAt.Add(61 * time.Second),
			wantMsg: "Signature expired: 20260301T120000Z is now earlier than 20260301T120001Z (20260301T120101Z - 60 sec.)",
		},
		{
			name: "a week still bounded by 15 minutes", expires: 7 * 24 * time.Hour, now: signedAt.Add(16 * time.Minute),
			wantMsg: "Signature expired: 20260301T120000Z is now earlier than 20260301T120100Z (20260301T121600Z - 15 min.)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sr := sdkPresign(t, "GET", stsURL+"?Action=GetCallerIdentity&Version=2011-06-15", "", "", tc.expires, signedAt)
			_, err := parseVerify(sr, testSecret, tc.now)
			if tc.wantMsg == "" {
				wantError(t, err, "", "")
				return
			}
			wantError(t, err, CodeSignatureDoesNotMatch, tc.wantMsg)
		})
	}
}
