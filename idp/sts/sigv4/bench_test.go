package sigv4

import (
	"testing"
	"time"
)

// BenchmarkVerify parses and verifies an SDK-signed POST GetCallerIdentity
// with session credentials.
func BenchmarkVerify(b *testing.B) {
	sr := sdkSign(b, "POST", stsURL, formBody, testToken, "sts", "us-east-1", signedAt)
	now := signedAt.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		s, err := Parse(sr.r, sr.body)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Verify(testSecret, now); err != nil {
			b.Fatal(err)
		}
	}
}
