package audit

import (
	"context"
	"io"
	"testing"
	"time"
)

// BenchmarkExport streams 100,000 events as one CloudTrail log file to
// io.Discard; MB/s counts the JSON written (before compression).
func BenchmarkExport(b *testing.B) {
	const n = 100_000
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			seedEvents(b, s, n)
			opt := ExportOptions{Since: testNow, Until: testNow.Add(n * time.Second)}
			res, err := ExportStream(context.Background(), s, io.Discard, opt)
			if err != nil || res.Records != n {
				b.Fatalf("export: %+v, %v", res, err)
			}
			for _, gz := range []bool{false, true} {
				name := "json"
				if gz {
					name = "gzip"
				}
				b.Run(name, func(b *testing.B) {
					opt.Gzip = gz
					b.SetBytes(res.Bytes)
					for range b.N {
						if _, err := ExportStream(context.Background(), s, io.Discard, opt); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
				})
			}
		})
	}
}
