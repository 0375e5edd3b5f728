package samlverify

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"testing"
)

// TestVerifyRSAMatchesCryptoRSA: verifyRSA accepts exactly what
// rsa.VerifyPKCS1v15 accepts, on valid signatures and on tampered ones,
// for the key sizes of both of its paths.
func TestVerifyRSAMatchesCryptoRSA(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"idp-rsa2048", "idp-rsa3072", "idp-rsa4096"} {
		k := key(t, name)
		pub := k.cert.PublicKey.(*rsa.PublicKey)
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			hh := h.New()
			hh.Write([]byte(name))
			hashed := hh.Sum(nil)
			sig, err := k.signer.Sign(rand.Reader, hashed, h)
			if err != nil {
				t.Fatal(err)
			}
			size := len(sig)
			type tc struct {
				what   string
				h      crypto.Hash
				hashed []byte
				sig    []byte
			}
			cases := []tc{{"valid", h, hashed, sig}}
			for _, i := range []int{0, 1, size / 2, size - 1} {
				s := append([]byte(nil), sig...)
				s[i] ^= 0x01
				cases = append(cases, tc{"flipped sig byte", h, hashed, s})
			}
			wrongHash := append([]byte(nil), hashed...)
			wrongHash[0] ^= 0x80
			other := crypto.SHA256
			if h == crypto.SHA256 {
				other = crypto.SHA384
			}
			oh := other.New()
			oh.Write([]byte(name))
			n := pub.N.FillBytes(make([]byte, size))
			nPlus := new(big.Int).Add(pub.N, big.NewInt(1)).FillBytes(make([]byte, size))
			cases = append(cases,
				tc{"other hash value", h, wrongHash, sig},
				tc{"other hash algorithm", other, oh.Sum(nil), sig},
				tc{"short hashed", h, hashed[1:], sig},
				tc{"sig one byte short", h, hashed, sig[1:]},
				tc{"sig with a leading zero", h, hashed, append([]byte{0}, sig...)},
				tc{"sig equal to the modulus", h, hashed, n},
				tc{"sig above the modulus", h, hashed, nPlus},
				tc{"sig plus the modulus", h, hashed, new(big.Int).Add(new(big.Int).SetBytes(sig), pub.N).Bytes()},
				tc{"zero sig", h, hashed, make([]byte, size)},
				tc{"one sig", h, hashed, append(make([]byte, size-1), 1)},
				tc{"empty sig", h, hashed, nil},
			)
			for _, c := range cases {
				want := rsa.VerifyPKCS1v15(pub, c.h, c.hashed, c.sig)
				got := verifyRSA(pub, c.h, c.hashed, c.sig)
				if (got == nil) != (want == nil) {
					t.Errorf("%s %s %s: verifyRSA %v, crypto/rsa %v", name, h, c.what, got, want)
				}
				if c.what == "valid" && got != nil {
					t.Errorf("%s %s: valid signature refused: %v", name, h, got)
				}
			}
		}
	}
}

// TestVerifyLargeRSAKeys: responses signed with RSA-3072 and RSA-4096
// keys verify, and a response signed with another key of the same size
// does not.
func TestVerifyLargeRSAKeys(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"idp-rsa3072", "idp-rsa4096"} {
		p := testProvider(t)
		p.Certs = []*x509.Certificate{key(t, name).cert}
		in := build{assertion: sigSpec{key: name}}.encode(t)
		if _, err := Verify(context.Background(), in, p, testOptions()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		tampered := build{assertion: sigSpec{key: name}, post: setText("Assertion/Subject/NameID", "admin")}.encode(t)
		if _, err := Verify(context.Background(), tampered, p, testOptions()); err == nil {
			t.Errorf("%s: a tampered response is accepted", name)
		}
	}
	p := testProvider(t)
	p.Certs = []*x509.Certificate{key(t, "idp-rsa3072").cert}
	in := build{assertion: sigSpec{key: "idp-next-rsa3072", noKeyInfo: true}}.encode(t)
	if _, err := Verify(context.Background(), in, p, testOptions()); err == nil {
		t.Error("a response signed with an unpinned RSA-3072 key is accepted")
	}
}

// TestVerifyRotatedCertificate: when the provider's pinned certificate
// changes, what the previous key signed is refused and what the new key
// signs is accepted, whether or not KeyInfo names the certificate.
func TestVerifyRotatedCertificate(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{{"idp-rsa2048", "idp-next-rsa2048"}, {"idp-rsa3072", "idp-next-rsa3072"}} {
		oldKey, newKey := pair[0], pair[1]
		for _, noKeyInfo := range []bool{false, true} {
			byOld := build{assertion: sigSpec{key: oldKey, noKeyInfo: noKeyInfo}}.encode(t)
			byNew := build{assertion: sigSpec{key: newKey, noKeyInfo: noKeyInfo}}.encode(t)
			p := testProvider(t)
			p.Certs = []*x509.Certificate{key(t, oldKey).cert}
			if _, err := Verify(context.Background(), byOld, p, testOptions()); err != nil {
				t.Fatalf("%s before rotation (noKeyInfo %v): %v", oldKey, noKeyInfo, err)
			}
			if _, err := Verify(context.Background(), byNew, p, testOptions()); err == nil {
				t.Errorf("%s accepted before it is pinned (noKeyInfo %v)", newKey, noKeyInfo)
			}
			p.Certs = []*x509.Certificate{key(t, newKey).cert}
			if _, err := Verify(context.Background(), byOld, p, testOptions()); err == nil {
				t.Errorf("%s still accepted after rotation to %s (noKeyInfo %v)", oldKey, newKey, noKeyInfo)
			}
			if _, err := Verify(context.Background(), byNew, p, testOptions()); err != nil {
				t.Errorf("%s after rotation (noKeyInfo %v): %v", newKey, noKeyInfo, err)
			}
		}
	}
}
