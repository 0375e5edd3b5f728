package samlverify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"testing"
	"time"
)

// alwaysFresh is a ReplayCache that never remembers, so that one
// response can be verified again and again.
var alwaysFresh = replayFunc(func(context.Context, string, string, time.Time) (bool, error) { return true, nil })

// BenchmarkVerify: the valid Assertion-signed response, RSA-2048, through
// the single-parse verifier.
func BenchmarkVerify(b *testing.B) {
	in := build{}.encode(b)
	p, opt := testProvider(b), testOptions()
	opt.Replay = alwaysFresh
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Verify(context.Background(), in, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCrewjamBare: crewjam's ServiceProvider.ParseXMLResponse alone
// on the same document, for the cost of the strict layer.
func BenchmarkCrewjamBare(b *testing.B) {
	in := build{}.encode(b)
	doc, err := base64.StdEncoding.DecodeString(in)
	if err != nil {
		b.Fatal(err)
	}
	sp := bareServiceProvider(b, key(b, "idp-rsa2048").cert)
	acs, _ := url.Parse(testSignin)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := sp.ParseXMLResponse(doc, nil, *acs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyResponseSigned: the same with the Response signed.
func BenchmarkVerifyResponseSigned(b *testing.B) {
	in := build{mode: signResponse}.encode(b)
	p, opt := testProvider(b), testOptions()
	opt.Replay = alwaysFresh
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(context.Background(), in, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRejectXSW: rejecting a wrapped response costs no signature
// check.
func BenchmarkRejectXSW(b *testing.B) {
	in := build{post: xsw(3)}.encode(b)
	p, opt := testProvider(b), testOptions()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(context.Background(), in, p, opt); err == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkOracle: the previous verifier (strict profile on crewjam and
// goxmldsig, kept in tests as the oracle) on the same response.
func BenchmarkOracle(b *testing.B) {
	in := build{}.encode(b)
	p, opt := testProvider(b), testOptions()
	opt.Replay = alwaysFresh
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := oracleVerify(context.Background(), in, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyRSA3072: the valid Assertion-signed response signed with
// RSA-3072, the product's default signing key.
func BenchmarkVerifyRSA3072(b *testing.B) {
	in := build{assertion: sigSpec{key: "idp-rsa3072"}}.encode(b)
	p, opt := testProvider(b), testOptions()
	p.Certs = []*x509.Certificate{key(b, "idp-rsa3072").cert}
	opt.Replay = alwaysFresh
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Verify(context.Background(), in, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}
