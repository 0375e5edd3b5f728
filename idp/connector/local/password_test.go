package local

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

// cheap keeps the tests fast; DefaultParams is checked separately.
var cheap = Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h, err := HashPassword(rand.Reader, "correct horse", cheap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	for _, tc := range []struct {
		name, password string
		want           bool
	}{
		{"right", "correct horse", true},
		{"wrong", "correct horsf", false},
		{"prefix", "correct", false},
		{"empty", "", false},
		{"case", "Correct horse", false},
		{"too long", strings.Repeat("x", MaxPasswordBytes+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := VerifyPassword(h, tc.password)
			if err != nil || ok != tc.want {
				t.Fatalf("VerifyPassword = %v, %v; want %v", ok, err, tc.want)
			}
		})
	}
}

func TestSaltsDiffer(t *testing.T) {
	t.Parallel()
	a, _ := HashPassword(rand.Reader, "pw", cheap)
	b, _ := HashPassword(rand.Reader, "pw", cheap)
	if a == b {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestFixedSaltIsDeterministic(t *testing.T) {
	t.Parallel()
	a, _ := HashPassword(bytes.NewReader(make([]byte, 16)), "pw", cheap)
	b, _ := HashPassword(bytes.NewReader(make([]byte, 16)), "pw", cheap)
	if a != b {
		t.Fatal("same salt, different hash")
	}
}

func TestRefusesEmptyAndHuge(t *testing.T) {
	t.Parallel()
	if _, err := HashPassword(rand.Reader, "", cheap); err == nil {
		t.Error("empty password hashed")
	}
	if _, err := HashPassword(rand.Reader, strings.Repeat("x", MaxPasswordBytes+1), cheap); err == nil {
		t.Error("oversized password hashed")
	}
}

func TestBadHashes(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"",
		"plaintext",
		"$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", // not id
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // absurd memory
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		ok, err := VerifyPassword(h, "pw")
		if ok || !errors.Is(err, ErrBadHash) {
			t.Errorf("VerifyPassword(%q) = %v, %v; want ErrBadHash", h, ok, err)
		}
	}
}

func TestDefaultParamsMeetRFC9106(t *testing.T) {
	t.Parallel()
	// RFC 9106 §4, second recommended option: t=3, m=2^16 KiB, p=4, 128-bit salt, 256-bit tag.
	p := DefaultParams
	if p.Time < 3 || p.Memory < 64*1024 || p.Threads < 4 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("DefaultParams %+v are weaker than RFC 9106's second recommendation", p)
	}
	h, err := HashPassword(rand.Reader, "pw", p)
	if err != nil {
		t.Fatal(err)
	}
	if NeedsRehash(h, DefaultParams) {
		t.Fatal("a fresh default hash needs rehash")
	}
	weak, _ := HashPassword(rand.Reader, "pw", cheap)
	if !NeedsRehash(weak, DefaultParams) {
		t.Fatal("a weak hash does not need rehash")
	}
}
