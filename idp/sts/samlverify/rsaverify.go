package samlverify

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"math/big"
)

// largeRSABits is the modulus size above which verifyRSA computes the
// public operation with math/big instead of crypto/rsa. crypto/rsa
// rebuilds its Montgomery modulus on every call and has assembly only up to
// 2048-bit moduli; for larger keys (RSA-3072 is the product's default)
// math/big's short-exponent path, which needs no per-key constants, is
// several times faster. Up to 2048 bits crypto/rsa is faster and is used.
const largeRSABits = 2048

// pkcs1Prefixes are the DER DigestInfo prefixes of RFC 8017, section 9.2,
// for the hashes of the accepted signature methods.
var pkcs1Prefixes = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var errRSAVerification = errors.New("RSA verification failure")

// verifyRSA is rsa.VerifyPKCS1v15 with the same acceptance: the signature
// is exactly k bytes (k the modulus length), is an integer below the
// modulus, and s^e mod n is exactly the EMSA-PKCS1-v1_5 encoding of hashed.
func verifyRSA(k *rsa.PublicKey, h crypto.Hash, hashed, sig []byte) error {
	prefix, ok := pkcs1Prefixes[h]
	if !ok || k.N == nil || k.N.BitLen() <= largeRSABits || k.N.Bit(0) == 0 || k.E < 3 || k.E&1 == 0 || k.E > 1<<31-1 {
		return rsa.VerifyPKCS1v15(k, h, hashed, sig)
	}
	size := (k.N.BitLen() + 7) / 8
	if len(hashed) != h.Size() || len(sig) != size || size < len(prefix)+len(hashed)+11 {
		return errRSAVerification
	}
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(k.N) >= 0 {
		return errRSAVerification
	}
	em := s.Exp(s, big.NewInt(int64(k.E)), k.N).FillBytes(make([]byte, size))
	// EM = 0x00 || 0x01 || PS (0xff...) || 0x00 || DigestInfo prefix || H
	tLen := len(prefix) + len(hashed)
	want := make([]byte, size)
	want[1] = 0x01
	for i := 2; i < size-tLen-1; i++ {
		want[i] = 0xff
	}
	copy(want[size-tLen:], prefix)
	copy(want[size-len(hashed):], hashed)
	if !bytes.Equal(em, want) {
		return errRSAVerification
	}
	return nil
}
