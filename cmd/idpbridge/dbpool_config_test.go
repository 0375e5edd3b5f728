package main

import (
	"strings"
	"testing"
)

// TestDatabasePoolAndSyncConfig: database.max_conns takes 0 (the measured
// default) to 1000 and database.sqlite_synchronous full or normal;
// anything else is an error naming the key.
func TestDatabasePoolAndSyncConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		conns      int32
		sync       string
		err        string
	}{
		{"defaults", "", 0, "", ""},
		{"pool set", "database: {max_conns: 32}\n", 32, "", ""},
		{"pool at the bound", "database: {max_conns: 1000}\n", 1000, "", ""},
		{"pool negative", "database: {max_conns: -1}\n", 0, "", "database.max_conns: must be between 0 (the default, 16) and 1000, got -1"},
		{"pool too big", "database: {max_conns: 5000}\n", 0, "", "database.max_conns: must be between 0 (the default, 16) and 1000, got 5000"},
		{"pool not a number", "database: {max_conns: many}\n", 0, "", "many"},
		{"sync full", "database: {sqlite_synchronous: full}\n", 0, "full", ""},
		{"sync normal", "database: {sqlite_synchronous: normal}\n", 0, "normal", ""},
		{"sync off", "database: {sqlite_synchronous: \"off\"}\n", 0, "", `database.sqlite_synchronous: "off" is not one of full, normal`},
		{"sync upper case", "database: {sqlite_synchronous: FULL}\n", 0, "", `database.sqlite_synchronous: "FULL" is not one of full, normal`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := LoadConfig(writeConfig(t, tc.yaml), func(string) string { return "" })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database.MaxConns != tc.conns || cfg.Database.SQLiteSynchronous != tc.sync {
				t.Fatalf("max_conns %d, sqlite_synchronous %q", cfg.Database.MaxConns, cfg.Database.SQLiteSynchronous)
			}
		})
	}
}
