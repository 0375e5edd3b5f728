package samlverify

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

// wantValid is the Assertion the valid response yields.
func wantValid() *Assertion {
	session := testNow.Add(8 * time.Hour)
	return &Assertion{
		ID:                  testAssertionID,
		Issuer:              testEntityID,
		NameID:              testNameID,
		NameIDFormat:        testPersistent,
		Recipient:           testSignin,
		Audience:            testAudience,
		IssueInstant:        testNow.Add(-10 * time.Second),
		NotBefore:           testNow.Add(-time.Minute),
		NotOnOrAfter:        testNow.Add(5 * time.Minute),
		AuthnInstant:        testNow.Add(-30 * time.Second),
		SessionNotOnOrAfter: &session,
		Attributes: map[string][]string{
			testRoleAttr: {testRoleValue},
			testRSNAttr:  {"alice"},
			testSIAttr:   {"alice"},
			testTagAttr:  {"eng"},
		},
	}
}

type accepted struct {
	name  string
	b     build
	raw   func(t testing.TB) string
	certs []string
	opt   func(*Options)
	want  func(*Assertion) // edits wantValid() into what this case yields
}

func acceptedTable() []accepted {
	signedDestination := func(a *Assertion) { a.Destination = testSignin }
	return []accepted{
		{name: "Assertion signed", b: build{mode: signAssertion}},
		{name: "Response signed", b: build{mode: signResponse}, want: signedDestination},
		{name: "both signed", b: build{mode: signBoth}, want: signedDestination},
		{name: "RSA-SHA384, SHA-384 digest", b: build{assertion: sigSpec{method: algRSASHA384, hash: crypto.SHA384, digestAlg: algSHA384, digestHash: crypto.SHA384}}},
		{name: "RSA-SHA512, SHA-512 digest", b: build{assertion: sigSpec{method: algRSASHA512, hash: crypto.SHA512, digestAlg: algSHA512, digestHash: crypto.SHA512}}},
		{name: "RSA-SHA256, SHA-512 digest", b: build{assertion: sigSpec{digestAlg: algSHA512, digestHash: crypto.SHA512}}},
		{name: "ECDSA-SHA256, DER signature (goxmldsig)", b: build{assertion: sigSpec{key: "idp-ecdsa-p256", method: algECDSA256}}, certs: []string{"idp-ecdsa-p256"}},
		{name: "ECDSA-SHA256, r||s signature (XML-DSig)", b: build{assertion: sigSpec{key: "idp-ecdsa-p256", method: algECDSA256, digestAlg: algSHA256, digestHash: crypto.SHA256, rawECDSA: true}}, certs: []string{"idp-ecdsa-p256"}},
		{name: "ECDSA Response, RSA and ECDSA pinned", b: build{mode: signResponse, response: sigSpec{key: "idp-ecdsa-p256", method: algECDSA256}}, certs: []string{"idp-rsa2048", "idp-ecdsa-p256"}, want: signedDestination},
		{name: "no KeyInfo, two pinned certificates (rollover)", b: build{assertion: sigSpec{key: "idp-next-rsa2048", noKeyInfo: true}}, certs: []string{"idp-rsa2048", "idp-next-rsa2048"}},
		{name: "KeyInfo names the second pinned certificate", b: build{assertion: sigSpec{key: "idp-next-rsa2048"}}, certs: []string{"idp-rsa2048", "idp-next-rsa2048"}},
		{name: "KeyInfo RSAKeyValue of the pinned key", b: build{assertion: sigSpec{keyInfo: rsaKeyValue("idp-rsa2048")}}},
		{name: "InclusiveNamespaces PrefixList xs", b: build{assertion: sigSpec{prefixList: "xs"}}},
		{name: "InclusiveNamespaces PrefixList xs, Response signed", b: build{mode: signResponse, response: sigSpec{prefixList: "xs"}}, want: signedDestination},
		{name: "own sign-in endpoint and urn:amazon:webservices", b: build{data: func(d *tmplData) {
			d.Recipient, d.Destination, d.Audience = testOwnSignin, testOwnSignin, testAudience2
		}}, want: func(a *Assertion) { a.Recipient, a.Audience = testOwnSignin, testAudience2 }},
		{name: "two audiences in one restriction", b: build{pre: func(t testing.TB, doc *etree.Document) {
			find(t, doc, "Assertion/Conditions/AudienceRestriction").CreateElement("saml:Audience").SetText("urn:example:other-sp")
		}}},
		{name: "AttributeStatement before AuthnStatement (ADFS)", b: build{pre: func(t testing.TB, doc *etree.Document) {
			a := find(t, doc, "Assertion")
			st := a.SelectElement("AttributeStatement")
			a.RemoveChild(st)
			a.InsertChildAt(a.SelectElement("AuthnStatement").Index(), st)
		}}},
		{name: "XML declaration", b: build{bytes: prependBytes(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")}},
		{name: "base64 wrapped at 76 characters", raw: func(t testing.TB) string {
			s := build{}.encode(t)
			var b strings.Builder
			for len(s) > 76 {
				b.WriteString(s[:76] + "\r\n")
				s = s[76:]
			}
			b.WriteString(s)
			return b.String()
		}},
		{name: "no Destination, Assertion signed", b: build{pre: removeAttr("", "Destination")}},
		{name: "no Response Issuer", b: build{pre: removeEl("Issuer")}},
		{name: "no SessionNotOnOrAfter", b: build{pre: removeAttr("Assertion/AuthnStatement", "SessionNotOnOrAfter")}, want: func(a *Assertion) { a.SessionNotOnOrAfter = nil }},
		{name: "transient NameID", b: build{data: func(d *tmplData) {
			d.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
		}}, want: func(a *Assertion) { a.NameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient" }},
		{name: "several attributes, several values, empty value", b: build{data: func(d *tmplData) {
			d.Attributes = append(d.Attributes,
				tmplAttr{"https://aws.amazon.com/SAML/Attributes/SessionDuration", []string{"7200"}},
				tmplAttr{"https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys", []string{"Department", "Project"}},
				tmplAttr{"https://aws.amazon.com/SAML/Attributes/PrincipalTag:Project", []string{""}},
				tmplAttr{"https://aws.amazon.com/SAML/attributes/role", []string{"lower case is another Name"}},
			)
			d.Attributes[0].Values = append(d.Attributes[0].Values, "arn:aws:iam::123456789012:saml-provider/idpbridge,arn:aws:iam::123456789012:role/Reader")
		}}, want: func(a *Assertion) {
			a.Attributes["https://aws.amazon.com/SAML/Attributes/SessionDuration"] = []string{"7200"}
			a.Attributes["https://aws.amazon.com/SAML/Attributes/TransitiveTagKeys"] = []string{"Department", "Project"}
			a.Attributes["https://aws.amazon.com/SAML/Attributes/PrincipalTag:Project"] = []string{""}
			a.Attributes["https://aws.amazon.com/SAML/attributes/role"] = []string{"lower case is another Name"}
			a.Attributes[testRoleAttr] = append(a.Attributes[testRoleAttr], "arn:aws:iam::123456789012:saml-provider/idpbridge,arn:aws:iam::123456789012:role/Reader")
		}},
		{name: "values with markup characters", b: build{data: func(d *tmplData) {
			d.Attributes[1].Values = []string{`a<b>&"c'`}
		}}, want: func(a *Assertion) { a.Attributes[testRSNAttr] = []string{`a<b>&"c'`} }},
		{name: "STS-level attribute problems pass through verbatim", b: build{data: func(d *tmplData) {
			d.Attributes = []tmplAttr{{testRSNAttr, []string{"John Doe"}}, {testSIAttr, []string{"aws:x"}}}
		}}, want: func(a *Assertion) {
			a.Attributes = map[string][]string{testRSNAttr: {"John Doe"}, testSIAttr: {"aws:x"}}
		}},
		{name: "no AttributeStatement", b: build{pre: removeEl("Assertion/AttributeStatement")}, want: func(a *Assertion) { a.Attributes = map[string][]string{} }},
		{name: "CDATA value", b: build{bytes: replaceBytes(">eng<", "><![CDATA[eng]]><")}},
	}
}

// TestAccepted: valid responses in the forms IdPs send them are accepted,
// and Verify returns exactly what they say.
func TestAccepted(t *testing.T) {
	t.Parallel()
	for _, tc := range acceptedTable() {
		t.Run(tc.name, func(t *testing.T) {
			p := testProvider(t)
			if tc.certs != nil {
				p.Certs = nil
				for _, n := range tc.certs {
					p.Certs = append(p.Certs, key(t, n).cert)
				}
			}
			opt := testOptions()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			in := ""
			if tc.raw != nil {
				in = tc.raw(t)
			} else {
				in = tc.b.encode(t)
			}
			got, err := Verify(context.Background(), in, p, opt)
			if err != nil {
				t.Fatalf("Verify: %v (%s)", err, asError(t, err).Reason)
			}
			want := wantValid()
			if tc.want != nil {
				tc.want(want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestCommentsReadWhole: a comment inserted after signing (exclusive c14n
// drops it, so the signature still holds) never truncates a value: the
// whole text is the value (CVE-2017-11427/8/9).
func TestCommentsReadWhole(t *testing.T) {
	t.Parallel()
	const whole = "victim@corp.test.evil.test"
	for _, tc := range []struct {
		name string
		b    build
		get  func(*Assertion) string
	}{
		{"NameID, Assertion signed", build{data: func(d *tmplData) { d.NameID = whole }, post: commentInside("Assertion/Subject/NameID", "victim@corp.test")},
			func(a *Assertion) string { return a.NameID }},
		{"NameID, Response signed", build{mode: signResponse, data: func(d *tmplData) { d.NameID = whole }, post: commentInside("Assertion/Subject/NameID", "victim@corp.test")},
			func(a *Assertion) string { return a.NameID }},
		{"Role", build{data: func(d *tmplData) { d.Attributes[0].Values = []string{whole} }, post: attrComment(testRoleAttr, "victim@corp.test")},
			func(a *Assertion) string { return a.Attributes[testRoleAttr][0] }},
		{"RoleSessionName", build{data: func(d *tmplData) { d.Attributes[1].Values = []string{whole} }, post: attrComment(testRSNAttr, "victim@corp.test")},
			func(a *Assertion) string { return a.Attributes[testRSNAttr][0] }},
		{"SourceIdentity", build{data: func(d *tmplData) { d.Attributes[2].Values = []string{whole} }, post: attrComment(testSIAttr, "victim@corp.test")},
			func(a *Assertion) string { return a.Attributes[testSIAttr][0] }},
		{"SourceIdentity, comment signed too", build{pre: attrComment(testSIAttr, "ali")},
			func(a *Assertion) string { return a.Attributes[testSIAttr][0] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Verify(context.Background(), tc.b.encode(t), testProvider(t), testOptions())
			if err != nil {
				t.Fatalf("Verify: %v (%s)", err, asError(t, err).Reason)
			}
			got := tc.get(a)
			if tc.name == "SourceIdentity, comment signed too" {
				if got != "alice" {
					t.Errorf("got %q, want %q", got, "alice")
				}
				return
			}
			if got != whole {
				t.Errorf("got %q, want the whole %q", got, whole)
			}
		})
	}
}

// TestTimeBoundaries: each time condition at the last accepted instant
// and one second past it. NotOnOrAfter is exclusive: expired from
// NotOnOrAfter + skew on.
func TestTimeBoundaries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data func(*tmplData)
		pre  func(testing.TB, *etree.Document)
		code string // "" = accepted
	}{
		{"Conditions NotOnOrAfter + skew == now + 1s", window(-10*time.Minute, -10*time.Minute, -skew+time.Second, time.Minute), nil, ""},
		{"Conditions NotOnOrAfter + skew == now", window(-10*time.Minute, -10*time.Minute, -skew, time.Minute), nil, CodeExpiredToken},
		{"SubjectConfirmationData NotOnOrAfter + skew == now + 1s", window(-10*time.Minute, -10*time.Minute, time.Minute, -skew+time.Second), nil, ""},
		{"SubjectConfirmationData NotOnOrAfter + skew == now", window(-10*time.Minute, -10*time.Minute, time.Minute, -skew), nil, CodeExpiredToken},
		{"NotOnOrAfter == now (within skew)", window(-10*time.Minute, -10*time.Minute, 0, 0), nil, ""},
		{"Conditions NotBefore == now + skew", func(d *tmplData) { d.NotBefore = testNow.Add(skew) }, nil, ""},
		{"Conditions NotBefore == now + skew + 1s", func(d *tmplData) { d.NotBefore = testNow.Add(skew + time.Second) }, nil, CodeInvalidIdentityToken},
		{"SubjectConfirmationData NotBefore == now + skew", nil, setAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "NotBefore", "2026-11-27T12:03:00Z"), ""},
		{"SubjectConfirmationData NotBefore == now + skew + 1s", nil, setAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "NotBefore", "2026-11-27T12:03:01Z"), CodeInvalidIdentityToken},
		{"IssueInstant == now + skew", func(d *tmplData) { d.IssueInstant, d.NotBefore = testNow.Add(skew), testNow }, nil, ""},
		{"IssueInstant == now + skew + 1s", func(d *tmplData) { d.IssueInstant, d.NotBefore = testNow.Add(skew+time.Second), testNow }, nil, CodeInvalidIdentityToken},
		{"lifetime == MaxLifetime", window(-10*time.Second, -10*time.Second, DefaultMaxLifetime-10*time.Second, DefaultMaxLifetime-10*time.Second), nil, ""},
		{"lifetime == MaxLifetime + 1s", window(-10*time.Second, -10*time.Second, DefaultMaxLifetime-9*time.Second, time.Minute), nil, CodeInvalidIdentityToken},
		{"issued 50 minutes ago, still valid (beyond crewjam's 90 s)", window(-50*time.Minute, -50*time.Minute, 5*time.Minute, 5*time.Minute), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build{data: tc.data, pre: tc.pre}
			_, err := Verify(context.Background(), b.encode(t), testProvider(t), testOptions())
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("rejected: %v (%s)", err, asError(t, err).Reason)
			case tc.code != "" && err == nil:
				t.Fatal("accepted")
			case tc.code != "" && asError(t, err).Code != tc.code:
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
}

// TestMaxOptions: MaxSkew and MaxLifetime move the boundaries.
func TestMaxOptions(t *testing.T) {
	t.Parallel()
	b := build{data: window(-10*time.Second, -10*time.Second, 2*time.Hour, 2*time.Hour)}
	opt := testOptions()
	if _, err := Verify(context.Background(), b.encode(t), testProvider(t), opt); err == nil || asError(t, err).Message != MsgLifetime {
		t.Fatalf("2 h lifetime with the default MaxLifetime: %v", err)
	}
	opt.MaxLifetime = 3 * time.Hour
	if _, err := Verify(context.Background(), b.encode(t), testProvider(t), opt); err != nil {
		t.Fatalf("2 h lifetime with MaxLifetime 3 h: %v", err)
	}

	b = build{data: window(-10*time.Minute, -10*time.Minute, -10*time.Second, -10*time.Second)}
	opt = testOptions()
	opt.MaxSkew = 10 * time.Second
	if _, err := Verify(context.Background(), b.encode(t), testProvider(t), opt); err == nil || asError(t, err).Code != CodeExpiredToken {
		t.Fatalf("NotOnOrAfter + MaxSkew == now: %v", err)
	}
	opt = testOptions()
	opt.MaxSkew = 11 * time.Second
	if _, err := Verify(context.Background(), b.encode(t), testProvider(t), opt); err != nil {
		t.Fatalf("NotOnOrAfter + MaxSkew == now + 1s: %v", err)
	}
}

// TestReplayCache: the cache is asked last, keyed on (Issuer, Assertion
// ID), until the later NotOnOrAfter plus skew; its failure is not a
// rejection but an error of the verifier.
func TestReplayCache(t *testing.T) {
	t.Parallel()
	var calls []string
	opt := testOptions()
	opt.Replay = replayFunc(func(_ context.Context, issuer, id string, until time.Time) (bool, error) {
		calls = append(calls, issuer+" "+id+" "+until.Format(time.RFC3339))
		return true, nil
	})
	b := build{data: func(d *tmplData) { d.SCDNotOnOrAfter = testNow.Add(7 * time.Minute) }}
	if _, err := Verify(context.Background(), b.encode(t), testProvider(t), opt); err != nil {
		t.Fatal(err)
	}
	want := testEntityID + " " + testAssertionID + " " + testNow.Add(7*time.Minute+skew).Format(time.RFC3339)
	if len(calls) != 1 || calls[0] != want {
		t.Fatalf("Remember calls %q, want [%q]", calls, want)
	}

	// A rejected response is never remembered.
	calls = nil
	bad := build{data: func(d *tmplData) { d.Audience = "urn:example:other" }}
	if _, err := Verify(context.Background(), bad.encode(t), testProvider(t), opt); err == nil {
		t.Fatal("accepted")
	}
	if len(calls) != 0 {
		t.Fatalf("a rejected response was remembered: %q", calls)
	}

	boom := errors.New("store down")
	opt.Replay = replayFunc(func(context.Context, string, string, time.Time) (bool, error) { return false, boom })
	_, err := Verify(context.Background(), build{}.encode(t), testProvider(t), opt)
	var e *Error
	if !errors.Is(err, boom) || errors.As(err, &e) {
		t.Fatalf("cache failure: got %v, want a wrapped %v that is not an *Error", err, boom)
	}
}

// TestOptionsErrors: misconfiguration is an error of the verifier, not a
// rejection of the response.
func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Provider, *Options)
	}{
		{"no Now", func(_ *Provider, o *Options) { o.Now = time.Time{} }},
		{"no Replay", func(_ *Provider, o *Options) { o.Replay = nil }},
		{"MaxSkew over 180 s", func(_ *Provider, o *Options) { o.MaxSkew = 181 * time.Second }},
		{"negative MaxSkew", func(_ *Provider, o *Options) { o.MaxSkew = -time.Second }},
		{"negative MaxLifetime", func(_ *Provider, o *Options) { o.MaxLifetime = -time.Second }},
		{"no Recipients", func(_ *Provider, o *Options) { o.Recipients = nil }},
		{"no Audiences", func(_ *Provider, o *Options) { o.Audiences = nil }},
		{"empty Audience", func(_ *Provider, o *Options) { o.Audiences = []string{""} }},
		{"relative Recipient", func(_ *Provider, o *Options) { o.Recipients = []string{"/sts/saml"} }},
		{"non-canonical Recipient", func(_ *Provider, o *Options) { o.Recipients = []string{"https://example.test/a b"} }},
		{"no EntityID", func(p *Provider, _ *Options) { p.EntityID = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, opt := testProvider(t), testOptions()
			tc.edit(&p, &opt)
			_, err := Verify(context.Background(), build{}.encode(t), p, opt)
			var e *Error
			if err == nil || errors.As(err, &e) {
				t.Fatalf("got %v, want a configuration error", err)
			}
		})
	}
}

// TestNoUsableKey: a provider whose pinned keys are all unusable accepts
// nothing, and says why in Reason.
func TestNoUsableKey(t *testing.T) {
	t.Parallel()
	p := testProvider(t)
	p.Certs = []*x509.Certificate{key(t, "weak-rsa1024").cert, nil}
	_, err := Verify(context.Background(), build{assertion: sigSpec{key: "weak-rsa1024", noKeyInfo: true}}.encode(t), p, testOptions())
	if e := asError(t, err); e == nil || e.Code != CodeInvalidIdentityToken || !strings.Contains(e.Reason, "no usable pinned certificate") {
		t.Fatalf("got %v", err)
	}
}

// TestSTSVectors: the items of STS-SPEC §9 vector 10 that belong to the
// verifier.
func TestSTSVectors(t *testing.T) {
	t.Parallel()
	tampered := build{post: func(t testing.TB, doc *etree.Document) {
		sv := find(t, doc, "Assertion/Signature/SignatureValue")
		v, _ := base64.StdEncoding.DecodeString(textOf(sv))
		v[len(v)/2] ^= 1
		sv.SetText(base64.StdEncoding.EncodeToString(v))
	}}
	expired := build{data: window(-2*time.Hour, -2*time.Hour, -time.Hour, -time.Hour)}
	for _, tc := range []struct {
		name      string
		b         build
		code, msg string
	}{
		{"tampered signature", tampered, CodeInvalidIdentityToken, "Response signature invalid"},
		{"expired", expired, CodeExpiredToken, "Response has expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), tc.b.encode(t), testProvider(t), testOptions())
			if e := asError(t, err); e == nil || e.Code != tc.code || e.Message != tc.msg {
				t.Fatalf("got %v, want %s %q", err, tc.code, tc.msg)
			}
		})
	}
}

// TestRecoverPanic: a panic below Verify becomes InvalidIdentityToken
// with the panic in Reason.
func TestRecoverPanic(t *testing.T) {
	t.Parallel()
	opt := testOptions()
	opt.Replay = replayFunc(func(context.Context, string, string, time.Time) (bool, error) { panic("boom") })
	_, err := Verify(context.Background(), build{}.encode(t), testProvider(t), opt)
	e := asError(t, err)
	if e == nil || e.Code != CodeInvalidIdentityToken || e.Reason != "panic: boom" {
		t.Fatalf("got %#v", e)
	}
}
