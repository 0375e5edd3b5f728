package samlverify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPeekRoles: the peek returns the Role values in document order as
// sent, the Assertion's Issuer and the Response's Destination, whether or
// not the response is signed or its signature still holds.
func TestPeekRoles(t *testing.T) {
	t.Parallel()
	const second = " arn:aws:iam::123456789012:saml-provider/idpbridge , arn:aws:iam::123456789012:role/Ops "
	withRoles := func(values ...string) func(*tmplData) {
		return func(d *tmplData) { d.Attributes[0].Values = values }
	}
	for _, tc := range []struct {
		name string
		b    build
		want []string
	}{
		{"assertion signed", build{}, []string{testRoleValue}},
		{"response signed", build{mode: signResponse}, []string{testRoleValue}},
		{"unsigned", build{mode: signNone}, []string{testRoleValue}},
		{"two values, white space kept", build{data: withRoles(testRoleValue, second)}, []string{testRoleValue, second}},
		{"a value that is no pair", build{data: withRoles("a,b", "nothing")}, []string{"a,b", "nothing"}},
		{"Role attribute without values", build{data: withRoles()}, []string{}},
		{"no Role attribute", build{data: func(d *tmplData) { d.Attributes = d.Attributes[1:] }}, nil},
		{"signature broken after signing", build{bytes: func(_ testing.TB, b []byte) []byte {
			return bytes.Replace(b, []byte("role/Developer"), []byte("role/Admin"), 1)
		}}, []string{strings.Replace(testRoleValue, "role/Developer", "role/Admin", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := PeekRoles(tc.b.encode(t))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(p.Roles, tc.want) || (p.Roles == nil) != (tc.want == nil) {
				t.Fatalf("Roles = %q, want %q", p.Roles, tc.want)
			}
			if p.Issuer != testEntityID || p.Destination != testSignin {
				t.Fatalf("Issuer %q, Destination %q", p.Issuer, p.Destination)
			}
		})
	}
}

// TestPeekRolesRefusals: what the peek refuses, with the verifier's bounds
// and prescan, and the kind of each refusal.
func TestPeekRolesRefusals(t *testing.T) {
	t.Parallel()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	valid := string(build{}.xmlBytes(t))
	open, rest, _ := strings.Cut(valid, "<saml:Issuer")
	var many strings.Builder
	for i := range 5 {
		fmt.Fprintf(&many, `<saml:Attribute Name="a%d">%s</saml:Attribute>`, i, strings.Repeat(`<saml:AttributeValue>x</saml:AttributeValue>`, MaxElements/4))
	}
	manyValues := strings.Replace(valid, "</saml:AttributeStatement>", many.String()+"</saml:AttributeStatement>", 1)
	for _, tc := range []struct {
		name, in string
		kind     PeekKind
		reason   string
	}{
		{"not base64", "this is not base64!", PeekNotBase64, "base64"},
		{"too short", "AA", PeekNotBase64, "2 characters"},
		{"too long", strings.Repeat("A", MaxEncodedLen+4), PeekTooLong, "100004 characters"},
		{"not UTF-8", b64("<a>\xff\xfe</a>"), PeekNotUTF8, "not UTF-8"},
		{"not XML", b64("hello, world"), PeekMalformed, "text outside the root element"},
		{"truncated", b64(open + "<saml:Issuer"), PeekMalformed, "unexpected end"},
		{"not a Response", b64(`<html><body>hi</body></html>`), PeekNotResponse, "root element is {}html"},
		{"DOCTYPE", b64(`<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>` + valid), PeekMalformed, "DOCTYPE"},
		{"undeclared entity", b64(open + "&xxe;<saml:Issuer" + rest), PeekMalformed, "undeclared entity &xxe;"},
		{"processing instruction", b64(`<?xml-stylesheet href="x"?>` + valid), PeekMalformed, "processing instruction"},
		{"two roots", b64(valid + valid), PeekMalformed, "more than one root element"},
		{"too many elements", b64(manyValues), PeekMalformed, "too many elements"},
		{"unknown element", b64(open + strings.Repeat("<a>", 3000) + strings.Repeat("</a>", 3000) + "<saml:Issuer" + rest), PeekMalformed, "unexpected element {}a"},
		{"EncryptedAssertion", b64(strings.Replace(strings.Replace(valid, "<saml:Assertion ", "<saml:EncryptedAssertion ", 1), "</saml:Assertion>", "</saml:EncryptedAssertion>", 1)),
			PeekMalformed, "EncryptedAssertion: unexpected attribute ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := PeekRoles(tc.in)
			var pe *PeekError
			if !errors.As(err, &pe) {
				t.Fatalf("PeekRoles = %+v, %v; want a *PeekError", p, err)
			}
			if pe.Kind != tc.kind || !strings.Contains(pe.Reason, tc.reason) {
				t.Fatalf("got kind %d %q, want kind %d with %q", pe.Kind, pe.Reason, tc.kind, tc.reason)
			}
			if p != nil {
				t.Fatalf("a Peek with an error: %+v", p)
			}
		})
	}
	_, err := PeekRoles(b64(`<html><body>hi</body></html>`))
	if pe := (*PeekError)(nil); !errors.As(err, &pe) || pe.Root != "html" {
		t.Fatalf("Root of %v", err)
	}
	_, err = PeekRoles(b64(`<x:Response xmlns:x="urn:example"/>`))
	if pe := (*PeekError)(nil); !errors.As(err, &pe) || pe.Kind != PeekNotResponse || pe.Root != "{urn:example}Response" {
		t.Fatalf("Root of %v", err)
	}
}

// TestPeekRolesAgreesWithVerify: for every response of the attack table
// and the fuzz seeds that Verify accepts, the peek reads the Role values
// Verify returns; what Verify refuses for its shape, the peek refuses.
func TestPeekRolesAgreesWithVerify(t *testing.T) {
	t.Parallel()
	p := testProvider(t)
	p.Certs = []*x509.Certificate{key(t, "idp-rsa2048").cert, key(t, "idp-ecdsa-p256").cert}
	builds := fuzzSeeds()
	for _, a := range attackTable() {
		builds["attack "+a.name] = a.b
	}
	accepted := 0
	for _, b := range builds {
		if checkPeekAgainstVerify(t, b.xmlBytes(t), p) {
			accepted++
		}
	}
	if accepted < 5 {
		t.Fatalf("Verify accepted %d of the documents; the test compares nothing", accepted)
	}
}

// checkPeekAgainstVerify fails the test when the peek and Verify disagree
// on doc, and reports whether Verify accepted it.
func checkPeekAgainstVerify(t *testing.T, doc []byte, p Provider) bool {
	t.Helper()
	in := base64.StdEncoding.EncodeToString(doc)
	peek, perr := PeekRoles(in)
	if (peek == nil) == (perr == nil) {
		t.Fatalf("PeekRoles = %+v, %v", peek, perr)
	}
	var pe *PeekError
	if perr != nil && !errors.As(perr, &pe) {
		t.Fatalf("error %v is not a *PeekError", perr)
	}
	if pe != nil && strings.HasPrefix(pe.Reason, "panic") {
		t.Fatalf("recovered panic: %s", pe.Reason)
	}
	a, err := Verify(context.Background(), in, p, testOptions())
	if err != nil {
		e := asError(t, err)
		if pe == nil && strings.HasPrefix(e.Reason, "xml: ") {
			t.Fatalf("Verify's reader refused what the peek read: %s", e.Reason)
		}
		return false
	}
	if pe != nil {
		t.Fatalf("the peek refused a response Verify accepts: %s", pe.Reason)
	}
	want, ok := a.Attributes[RoleAttribute]
	if !slices.Equal(peek.Roles, want) || ok != (peek.Roles != nil) {
		t.Fatalf("peeked Role values %q, Verify's %q", peek.Roles, want)
	}
	if peek.Issuer != a.Issuer {
		t.Fatalf("peeked Issuer %q, Verify's %q", peek.Issuer, a.Issuer)
	}
	if a.Destination != "" && peek.Destination != a.Destination {
		t.Fatalf("peeked Destination %q, Verify's %q", peek.Destination, a.Destination)
	}
	return true
}

func TestSplitRolePair(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][3]string{
		"a,b":         {"a", "b", "ok"},
		" a , b ":     {"a", "b", "ok"},
		"a,b,c":       {"a", "b,c", "ok"},
		"ab":          {"", "", ""},
		"":            {"", "", ""},
		",":           {"", "", "ok"},
		"\ta\n,\r b ": {"a", "b", "ok"},
	} {
		a, b, ok := SplitRolePair(in)
		if a != want[0] || b != want[1] || ok != (want[2] == "ok") {
			t.Errorf("SplitRolePair(%q) = %q, %q, %v", in, a, b, ok)
		}
	}
}

// FuzzPeekRoles: the peek never panics, returns a Peek or a *PeekError,
// and whatever it returns for a response Verify accepts are the Role
// values Verify extracts; a response its reader refuses, Verify's reader
// refuses too.
func FuzzPeekRoles(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b.xmlBytes(f))
	}
	f.Add([]byte(`<html><body>hi</body></html>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`))
	p := testProvider(f)
	p.Certs = []*x509.Certificate{key(f, "idp-rsa2048").cert, key(f, "idp-ecdsa-p256").cert}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkPeekAgainstVerify(t, doc, p)
	})
}

// BenchmarkPeekRoles: the peek of a valid signed response, next to
// BenchmarkVerify's full verification of the same kind of document.
func BenchmarkPeekRoles(b *testing.B) {
	in := build{}.encode(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PeekRoles(in); err != nil {
			b.Fatal(err)
		}
	}
}
