package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestLoginHashConcurrencyConfig(t *testing.T) {
	t.Parallel()
	if got := DefaultConfig().Login.HashConcurrency; got != runtime.NumCPU() {
		t.Errorf("default login.hash_concurrency = %d, want the number of CPUs (%d)", got, runtime.NumCPU())
	}
	cfg, err := LoadConfig(writeRawConfig(t, "login:\n  hash_concurrency: 3\n"), func(string) string { return "" })
	if err != nil || cfg.Login.HashConcurrency != 3 {
		t.Fatalf("hash_concurrency: 3 loads as %d, %v", cfg.Login.HashConcurrency, err)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"zero", "0", "login.hash_concurrency: must be at least 1, got 0"},
		{"negative", "-2", "login.hash_concurrency: must be at least 1, got -2"},
		{"not a number", "lots", "login.hash_concurrency:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := newCLI(t).run("", "config", "check", "--config", writeRawConfig(t, "login:\n  hash_concurrency: "+tc.value+"\n"))
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("config check = exit %d, stderr %q; want exit 2 naming %q", code, stderr, tc.want)
			}
		})
	}
}
