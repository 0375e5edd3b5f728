package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"strings"
	"testing"
	"time"
)

// TestKeysAlgorithmConfig: keys.algorithm takes rsa-2048, rsa-3072 or
// rsa-4096; anything else is an error naming the key.
func TestKeysAlgorithmConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, err string }{
		{"", ""},
		{"keys: {algorithm: rsa-2048}\n", ""},
		{"keys: {algorithm: rsa-3072}\n", ""},
		{"keys: {algorithm: rsa-4096}\n", ""},
		{"keys: {algorithm: rsa-1024}\n", `keys.algorithm: "rsa-1024" is not one of rsa-2048, rsa-3072, rsa-4096`},
		{"keys: {algorithm: ecdsa-p256}\n", `keys.algorithm: "ecdsa-p256" is not one of`},
		{"keys: {algorithm: RSA-3072}\n", `keys.algorithm: "RSA-3072" is not one of`},
	} {
		_, err := LoadConfig(writeConfig(t, tc.yaml), func(string) string { return "" })
		if tc.err == "" && err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: error = %v, want one containing %q", tc.yaml, err, tc.err)
		}
	}
}

// TestKeysAlgorithmNewKeys: the key made at first start and the one keys
// rotate adds have the configured size; without keys.algorithm, RSA-3072.
func TestKeysAlgorithmNewKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		yaml string
		bits int
	}{
		{"keys: {algorithm: rsa-2048}\n", 2048},
		{"", 3072},
	} {
		c := newCLI(t)
		path := writeConfig(t, tc.yaml)
		if out, stderr, code := c.run("", "keys", "rotate", "--config", path); code != 0 {
			t.Fatalf("keys rotate: %d %s %s", code, out, stderr)
		}
		m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return c.env[k] }, Now: time.Now, Rand: rand.Reader}
		cfg, err := LoadConfig(path, m.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.openStore(context.Background(), cfg, false)
		if err != nil {
			t.Fatal(err)
		}
		kek, err := m.keyEncryptionKey(cfg, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.bootstrap(context.Background(), cfg, s, kek); err != nil {
			t.Fatalf("first start: %v", err)
		}
		keys, err := s.ListSigningKeys(context.Background())
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 {
			t.Fatalf("%q: %d keys, want the first start's and the rotated one", tc.yaml, len(keys))
		}
		for _, k := range keys {
			block, _ := pem.Decode(k.CertPEM)
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if n := cert.PublicKey.(*rsa.PublicKey).N.BitLen(); n != tc.bits {
				t.Errorf("%q: key %s (%s) has %d bits, want %d", tc.yaml, k.ID, k.State, n, tc.bits)
			}
		}
	}
}
