package samlverify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzVerify")

// fuzzSeeds are the documents the fuzzer starts from: valid responses in
// each signing mode and key type, and a few attacks.
func fuzzSeeds() map[string]build {
	seeds := map[string]build{
		"valid-assertion-signed": {},
		"valid-response-signed":  {mode: signResponse},
		"valid-both-signed":      {mode: signBoth},
		"valid-ecdsa":            {assertion: sigSpec{key: "idp-ecdsa-p256", method: algECDSA256}},
		"valid-prefixlist":       {assertion: sigSpec{prefixList: "xs"}},
	}
	for _, a := range attackTable() {
		switch a.name {
		case "XSW3", "XSW8", "same-ID clone before", "comment in the Assertion Issuer", "unused DOCTYPE",
			"two References (CVE-2026-33487)", "signed then unsigned Assertion (CVE-2022-41912)", "no Subject":
			seeds["attack-"+strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(a.name)] = a.b
		}
	}
	return seeds
}

// TestFuzzSeedCorpus keeps testdata/fuzz/FuzzVerify in step with
// fuzzSeeds; go test -run TestFuzzSeedCorpus -update rewrites it.
func TestFuzzSeedCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	for name, b := range fuzzSeeds() {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b.xmlBytes(t))
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("seed %s is missing (go test -run TestFuzzSeedCorpus -update): %v", name, err)
		}
	}
}

// FuzzVerify feeds documents (base64-encoded as the STS receives them) to
// Verify. It fails on any panic Verify recovered, and on any accepted
// response that breaks the profile: the fuzzer cannot sign, so whatever it
// makes Verify accept must still be one of the provider's assertions for
// us.
func FuzzVerify(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b.xmlBytes(f))
	}
	p := testProvider(f)
	p.Certs = []*x509.Certificate{key(f, "idp-rsa2048").cert, key(f, "idp-ecdsa-p256").cert}
	f.Fuzz(func(t *testing.T, doc []byte) {
		opt := testOptions()
		a, err := Verify(context.Background(), base64.StdEncoding.EncodeToString(doc), p, opt)
		if err != nil {
			e := asError(t, err)
			if strings.HasPrefix(e.Reason, "panic") {
				t.Fatalf("recovered panic: %s", e.Reason)
			}
			switch e.Code {
			case CodeInvalidIdentityToken, CodeExpiredToken, CodeAccessDenied, CodeValidationError:
			default:
				t.Fatalf("unexpected code %q", e.Code)
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
		case a.NotBefore.After(testNow.Add(DefaultMaxSkew)) || a.IssueInstant.After(testNow.Add(DefaultMaxSkew)):
			t.Fatalf("accepted an assertion not yet valid: %+v", a)
		}
		if _, err := Verify(context.Background(), base64.StdEncoding.EncodeToString(doc), p, opt); err == nil || asError(t, err).Message != MsgReplay {
			t.Fatalf("accepted twice: %v", err)
		}
	})
}
