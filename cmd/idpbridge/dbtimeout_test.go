package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestDatabaseQueryTimeoutConfig: database.query_timeout defaults to 5s,
// takes a positive duration, and anything else is an error naming the key.
func TestDatabaseQueryTimeoutConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, yaml string
		want       time.Duration
		err        string
	}{
		{"default", "", 5 * time.Second, ""},
		{"set", "database: {query_timeout: 750ms}\n", 750 * time.Millisecond, ""},
		{"zero", "database: {query_timeout: 0s}\n", 0, "database.query_timeout: must be a positive duration (e.g. 5s), got 0s"},
		{"negative", "database: {query_timeout: -2s}\n", 0, `"-2s" is not a duration`},
		{"not a duration", "database: {query_timeout: soon}\n", 0, `"soon" is not a duration`},
		{"no unit", "database: {query_timeout: 5}\n", 0, `"5" is not a duration`},
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
			if got := time.Duration(cfg.Database.QueryTimeout); got != tc.want {
				t.Fatalf("query_timeout = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestServeLogsEntityID: serve logs the SAML entity ID it issues
// assertions as, so that an operator can see that every replica has the
// same one.
func TestServeLogsEntityID(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	path := writeRawConfig(t, "server:\n  listen: 127.0.0.1:0\n  base_url: http://replica-a.example.test:8080\nlog: {level: info, format: json}\n")
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader,
		Started: func(a string) { addr <- a }}
	done := make(chan int, 1)
	go func() { done <- m.Execute(ctx, []string{"serve", "--config", path}) }()
	select {
	case <-addr:
	case code := <-done:
		t.Fatalf("serve exited %d: %s", code, errb.String())
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d after shutdown: %s", code, errb.String())
	}
	var found bool
	for _, line := range bytes.Split([]byte(errb.String()), []byte("\n")) {
		var rec struct {
			Msg      string `json:"msg"`
			EntityID string `json:"entity_id"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.EntityID != "" {
			found = true
			if rec.EntityID != "http://replica-a.example.test:8080/saml/metadata" {
				t.Errorf("entity ID logged as %q", rec.EntityID)
			}
		}
	}
	if !found {
		t.Fatalf("serve did not log its entity ID:\n%s", errb.String())
	}
}
