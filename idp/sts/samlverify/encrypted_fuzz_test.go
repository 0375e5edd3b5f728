package samlverify

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// encryptedFuzzSeeds are the encrypted responses FuzzDecrypt starts from:
// each accepted form and each refused one of encrypted_test.go.
func encryptedFuzzSeeds() map[string]build {
	return map[string]build{
		"gcm-oaep11":           encrypted(encSpec{}, true, false),
		"gcm-mgf1p":            encrypted(encSpec{transport: algRSAOAEPMGF, digest: algTestSHA1, mgf: "-"}, true, false),
		"gcm-beside":           encrypted(encSpec{beside: true}, true, false),
		"response-signed":      encrypted(encSpec{}, false, true),
		"both-signed":          encrypted(encSpec{}, true, true),
		"cbc":                  encrypted(encSpec{content: algTestAES256CBC}, true, false),
		"rsa15":                encrypted(encSpec{transport: algRSA15, digest: "-"}, true, false),
		"unsigned-inside":      encrypted(encSpec{}, false, false),
		"tampered":             encrypted(encSpec{tamper: true}, true, false),
		"retrieval-elsewhere":  encrypted(encSpec{beside: true, retrieval: "#_ed1"}, true, false),
		"wrong-recipient-key":  encrypted(encSpec{to: "attacker-rsa2048"}, true, false),
		"short-content-key":    encrypted(encSpec{keySize: 16}, true, false),
		"plain-signed":         {},
		"plain-response-signd": {mode: signResponse},
	}
}

// checkAccepted fails the test when an accepted assertion breaks the
// profile, or is accepted a second time.
func checkAccepted(t *testing.T, doc string, p Provider, opt Options, a *Assertion, err error) {
	t.Helper()
	if err != nil {
		e := asError(t, err)
		if strings.HasPrefix(e.Reason, "panic") {
			t.Fatalf("recovered panic: %s", e.Reason)
		}
		if e.Code != CodeInvalidIdentityToken && e.Code != CodeExpiredToken && e.Code != CodeAccessDenied && e.Code != CodeValidationError {
			t.Fatalf("unexpected code %q", e.Code)
		}
		if e.Message == MsgDecryptFailed && e.Reason != reasonDecryptFailed {
			t.Fatalf("decryption failure with Reason %q", e.Reason)
		}
		return
	}
	switch {
	case a.Issuer != testEntityID, a.NameID == "", a.ID == "":
		t.Fatalf("accepted a response without the provider's Issuer, a NameID and an ID: %+v", a)
	case a.Recipient != testSignin && a.Recipient != testOwnSignin:
		t.Fatalf("accepted Recipient %q", a.Recipient)
	case a.Audience != testAudience && a.Audience != testAudience2:
		t.Fatalf("accepted Audience %q", a.Audience)
	case !testNow.Before(a.NotOnOrAfter.Add(DefaultMaxSkew)), a.NotOnOrAfter.Sub(a.IssueInstant) > DefaultMaxLifetime:
		t.Fatalf("accepted an assertion outside its validity: %+v", a)
	}
	if _, err := Verify(context.Background(), doc, p, opt); err == nil || asError(t, err).Message != MsgReplay {
		t.Fatalf("accepted twice: %v", err)
	}
}

// FuzzDecrypt feeds encrypted responses to Verify with a decryption key
// configured: the EncryptedAssertion's shape, algorithms and key
// references are what it mutates. The fuzzer can neither sign nor (but
// for the seeds' ciphertexts) encrypt to the key, so whatever Verify
// accepts must still be the provider's assertion, once.
func FuzzDecrypt(f *testing.F) {
	for _, b := range encryptedFuzzSeeds() {
		f.Add(b.xmlBytes(f))
	}
	p := decProvider(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		in := base64.StdEncoding.EncodeToString(doc)
		opt := testOptions()
		a, err := Verify(context.Background(), in, p, opt)
		checkAccepted(t, in, p, opt, a, err)
	})
}

// FuzzDecryptedAssertion encrypts what the fuzzer writes, as the IdP
// would, and puts it in a fixed encrypted Response: the decrypted
// Assertion, read in its EncryptedAssertion's place, is what it mutates.
// Unless it keeps the IdP's signature valid, Verify must refuse it.
func FuzzDecryptedAssertion(f *testing.F) {
	signed := etree.NewDocument()
	signed.ReadFromBytes(build{}.xmlBytes(f))
	plainDoc := etree.NewDocument()
	plainDoc.SetRoot(find(f, signed, "Assertion").Copy())
	valid, _ := plainDoc.WriteToBytes()
	f.Add(valid)
	f.Add(bytes.Replace(valid, []byte(` xmlns:saml="`+nsAssertion+`"`), nil, 1))
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + string(valid)))
	f.Add(bytes.Replace(valid, []byte("saml:Issuer>"), []byte("saml:Issuer><!---->"), 1))

	envelope := string(encrypted(encSpec{}, true, false).xmlBytes(f))
	var env etree.Document
	if err := env.ReadFromBytes([]byte(envelope)); err != nil {
		f.Fatal(err)
	}
	oldCV := find(f, &env, "EncryptedAssertion/EncryptedData/CipherData/CipherValue").Text()
	block, _ := aes.NewCipher(bytes.Repeat([]byte{0x5a}, 32))
	gcm, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{0x01}, gcm.NonceSize())
	p := decProvider(f)
	f.Fuzz(func(t *testing.T, plain []byte) {
		ct := gcm.Seal(append([]byte(nil), nonce...), nonce, plain, nil)
		doc := strings.Replace(envelope, oldCV, base64.StdEncoding.EncodeToString(ct), 1)
		in := base64.StdEncoding.EncodeToString([]byte(doc))
		if len(in) > MaxEncodedLen {
			return
		}
		opt := testOptions()
		a, err := Verify(context.Background(), in, p, opt)
		checkAccepted(t, in, p, opt, a, err)
	})
}
