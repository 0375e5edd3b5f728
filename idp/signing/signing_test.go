package signing

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"idpbridge/idp/store"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestGenerateSealOpen(t *testing.T) {
	t.Parallel()
	k, err := Generate(rand.Reader, "idp.example.com", now)
	if err != nil {
		t.Fatal(err)
	}
	if k.PrivateKey.N.BitLen() != 3072 {
		t.Errorf("key is %d bits, want 3072", k.PrivateKey.N.BitLen())
	}
	if got := k.Certificate.NotAfter.Sub(now); got != CertValidity {
		t.Errorf("certificate validity %v, want %v", got, CertValidity)
	}
	kek := bytes.Repeat([]byte{7}, KEKSize)
	sk, err := k.Seal(rand.Reader, kek, store.KeyActive, now)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k.PrivateKey)
	if bytes.Contains(sk.EncryptedKey, der[len(der)-64:]) {
		t.Fatal("sealed key contains the plaintext key")
	}
	got, err := Open(sk, kek)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PrivateKey.Equal(k.PrivateKey) || got.ID != k.ID || got.State != store.KeyActive {
		t.Fatal("opened key differs")
	}

	wrong := bytes.Repeat([]byte{8}, KEKSize)
	if _, err := Open(sk, wrong); err == nil || !strings.Contains(err.Error(), "wrong key-encryption key") {
		t.Fatalf("Open with the wrong KEK = %v", err)
	}
	// The ID is authenticated: a sealed key moved under another ID fails.
	moved := sk
	moved.ID = "other"
	if _, err := Open(moved, kek); err == nil {
		t.Fatal("sealed key opened under another ID")
	}
}

func TestOpenKeyFile(t *testing.T) {
	t.Parallel()
	k, err := Generate(rand.Reader, "idp", now)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k.PrivateKey)
	path := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	got, err := Open(store.SigningKey{ID: k.ID, CertPEM: k.CertPEM(), KeyFile: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.PrivateKey.Equal(k.PrivateKey) {
		t.Fatal("key from file differs")
	}
	other, _ := Generate(rand.Reader, "other", now)
	if _, err := Open(store.SigningKey{ID: k.ID, CertPEM: other.CertPEM(), KeyFile: path}, nil); err == nil ||
		!strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatched cert and key = %v", err)
	}
}

// TestGenerateAlgorithm: each algorithm makes a key of its size, whose
// certificate carries it; an unknown one is an error.
func TestGenerateAlgorithm(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, alg := range Algorithms {
		k, err := GenerateAlgorithm(rand.Reader, alg, "idp.test", now)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if n := k.PrivateKey.N.BitLen(); n != alg.Bits() {
			t.Errorf("%s: private key of %d bits", alg, n)
		}
		if n := k.Certificate.PublicKey.(*rsa.PublicKey).N.BitLen(); n != alg.Bits() {
			t.Errorf("%s: certificate key of %d bits", alg, n)
		}
	}
	if _, err := GenerateAlgorithm(rand.Reader, "rsa-1024", "idp.test", now); err == nil || !strings.Contains(err.Error(), `"rsa-1024"`) {
		t.Errorf("rsa-1024: %v", err)
	}
	if a, err := ParseAlgorithm(""); a != RSA3072 || err != nil {
		t.Errorf(`ParseAlgorithm("") = %q, %v; want the default rsa-3072`, a, err)
	}
	if _, err := ParseAlgorithm("rsa-8192"); err == nil {
		t.Error("rsa-8192 accepted")
	}
}
