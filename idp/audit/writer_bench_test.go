package audit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"idpbridge/idp/store"
)

// eventsPerSecond reports the rate of b.N events.
func eventsPerSecond(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendInTx: 16 concurrent writers, each writing one record in
// its own transaction (as the STS does, with the credentials).
func BenchmarkAppendInTx(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			w := NewWriter(s, WriterOptions{Logger: quietLogger()})
			var n atomic.Int64
			ctx := context.Background()
			recs := prebuilt()
			b.SetParallelism(parallelism(16))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := recs[int(n.Add(1))%len(recs)]
					if err := s.InTx(ctx, func(tx store.Tx) error { return w.Append(ctx, tx, r) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
			eventsPerSecond(b)
		})
	}
}

// BenchmarkLogBatched: 64 concurrent callers, one record each per call,
// grouped into shared transactions by the writer.
func BenchmarkLogBatched(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			cs := &countingStore{Store: s}
			w := NewWriter(cs, WriterOptions{Logger: quietLogger()})
			var n atomic.Int64
			ctx := context.Background()
			recs := prebuilt()
			b.SetParallelism(parallelism(64))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := w.Log(ctx, recs[int(n.Add(1))%len(recs)]); err != nil {
						b.Error(err)
						return
					}
				}
			})
			eventsPerSecond(b)
			b.ReportMetric(float64(b.N)/float64(max(cs.txs.Load(), 1)), "events/tx")
		})
	}
}

// prebuilt returns records built before the clock starts: the benchmarks
// measure the writer (redaction, encoding, indexing, the database), not the
// builders.
func prebuilt() []Record {
	recs := make([]Record, 4096)
	for i := range recs {
		recs[i] = genRecord(i, testNow.Add(time.Duration(i)*time.Millisecond))
	}
	return recs
}

// parallelism returns the b.SetParallelism factor that gives about n
// goroutines (RunParallel starts factor × GOMAXPROCS).
func parallelism(n int) int {
	return max(1, n/maxProcs())
}
