package ldap

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkOpenLDAPLogin signs in against the local slapd (search, bind,
// group searches) with the service connection pool and with pool_size 0
// (a new connection and service bind per sign-in), in clear text and
// with StartTLS; compare logins/s.
func BenchmarkOpenLDAPLogin(b *testing.B) {
	s := startSlapd(b)
	for _, tc := range []struct {
		name     string
		size     int
		startTLS bool
	}{
		{"pool", 4, false},
		{"no_pool", 0, false},
		{"pool_starttls", 4, true},
		{"no_pool_starttls", 0, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := slapdConfig(s)
			cfg.PoolSize = &tc.size
			if tc.startTLS {
				cfg.InsecureNoTLS, cfg.StartTLS, cfg.CAFile = false, true, s.CAFile
			}
			c, err := New("bench", cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, ok, err := c.Login(b.Context(), "diego", "diego-pw"); err != nil || !ok {
						b.Errorf("Login = %v, %v", ok, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
