package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"idpbridge/idp/store/sqlite"
)

// TestSynchronous: every connection runs with synchronous FULL (2) unless
// normal (1) is asked for; another value is an error naming it.
func TestSynchronous(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt  string
		want int
	}{{"", 2}, {sqlite.SynchronousFull, 2}, {sqlite.SynchronousNormal, 1}} {
		db := open(t, sqlite.Options{Synchronous: tc.opt})
		raw := sqlite.RawDB(db)
		raw.SetMaxIdleConns(4)
		// Several connections at once, so that each is checked.
		conns := make([]interface{ Close() error }, 0, 3)
		for range 3 {
			c, err := raw.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var got int
			if err := c.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("synchronous %q: PRAGMA synchronous = %d, want %d", tc.opt, got, tc.want)
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "off"})
	if err == nil || !strings.Contains(err.Error(), `synchronous "off" is not one of full, normal`) {
		t.Errorf("synchronous off: %v", err)
	}
}
