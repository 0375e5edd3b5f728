package signing

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkSign is one RSA PKCS #1 v1.5 SHA-256 signature (what an XML
// signature of an assertion or response costs) with a key of each
// algorithm.
func BenchmarkSign(b *testing.B) {
	digest := sha256.Sum256([]byte("SignedInfo"))
	for _, alg := range Algorithms {
		b.Run(string(alg), func(b *testing.B) {
			k, err := GenerateAlgorithm(rand.Reader, alg, "idp.test", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := k.PrivateKey.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "signatures/s")
		})
	}
}
