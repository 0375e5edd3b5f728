package signing

import (
	"bytes"
	"crypto/rand"
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
