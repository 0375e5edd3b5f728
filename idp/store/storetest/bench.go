package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// Bench runs the store benchmarks against the stores newStore makes:
// user lookup by name (case-insensitive), and user insert, each also with
// parallel callers (b.RunParallel uses GOMAXPROCS goroutines).
func Bench(b *testing.B, newStore NewStore) {
	b.Run("GetUser", func(b *testing.B) {
		s := newStore(b)
		for i := range 1000 {
			if err := s.CreateUser(ctx, user(fmt.Sprintf("user%04d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.GetUser(ctx, fmt.Sprintf("USER%04d", i%1000)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetUserParallel", func(b *testing.B) {
		s := newStore(b)
		for i := range 1000 {
			if err := s.CreateUser(ctx, user(fmt.Sprintf("user%04d", i))); err != nil {
				b.Fatal(err)
			}
		}
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if _, err := s.GetUser(ctx, fmt.Sprintf("user%04d", i%1000)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("CreateUser", func(b *testing.B) {
		s := newStore(b)
		b.ResetTimer()
		for i := range b.N {
			if err := s.CreateUser(ctx, user(fmt.Sprintf("new%08d", i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateUserParallel", func(b *testing.B) {
		s := newStore(b)
		var n atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.CreateUser(ctx, user(fmt.Sprintf("par%08d", n.Add(1)))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
