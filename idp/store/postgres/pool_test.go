package postgres_test

import (
	"context"
	"strings"
	"testing"

	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/postgres/pgtest"
)

// TestPoolSize: without MaxConns the pool holds DefaultMaxConns
// connections, not pgx's 4; MaxConns sets it; out of range is an error.
func TestPoolSize(t *testing.T) {
	t.Parallel()
	if got := open(t, postgres.Options{}).Pool().Config().MaxConns; got != postgres.DefaultMaxConns || got <= 4 {
		t.Errorf("default pool size %d, want %d", got, postgres.DefaultMaxConns)
	}
	if got := open(t, postgres.Options{MaxConns: 7}).Pool().Config().MaxConns; got != 7 {
		t.Errorf("pool size %d, want 7", got)
	}
	for _, n := range []int32{-1, postgres.MaxMaxConns + 1} {
		db, err := postgres.Open(context.Background(), pgtest.Schema(t), postgres.Options{MaxConns: n})
		if err == nil {
			db.Close()
			t.Fatalf("max conns %d accepted", n)
		}
		if !strings.Contains(err.Error(), "max conns") {
			t.Errorf("max conns %d: %v", n, err)
		}
	}
}
