package samlverify

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// attack is one row of SECURITY.md's attack table: a response generated
// from the valid one, why it must be rejected, and how.
type attack struct {
	name string
	why  string
	b    build
	// raw, when set, is the SAMLAssertion parameter itself.
	raw  func(t testing.TB) string
	code string
	msg  string
	// certs are the provider's pinned certificates (default idp-rsa2048),
	// entity its entityID (default testEntityID).
	certs  []string
	entity string
	// first, when set, is verified (and must be accepted) before b: for
	// replays.
	first *build
}

const (
	hmacSHA1   = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	hmacSHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
	rsaSHA1    = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	digestSHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
	evilURL    = "https://evil.example.test/saml"
	skew       = DefaultMaxSkew
)

var (
	excC14NWithComments = string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId)
	c14n11              = string(dsig.CanonicalXML11AlgorithmId)
	c14n10              = string(dsig.CanonicalXML10RecAlgorithmId)
)

// window sets the assertion's times relative to testNow.
func window(issue, notBefore, notOnOrAfter, scdNotOnOrAfter time.Duration) func(*tmplData) {
	return func(d *tmplData) {
		d.IssueInstant = testNow.Add(issue)
		d.NotBefore = testNow.Add(notBefore)
		d.NotOnOrAfter = testNow.Add(notOnOrAfter)
		d.SCDNotOnOrAfter = testNow.Add(scdNotOnOrAfter)
		d.AuthnInstant = testNow.Add(issue)
	}
}

func attackTable() []attack {
	I, sigMsg := CodeInvalidIdentityToken, MsgSignatureInvalid
	return []attack{
		// Signature wrapping.
		{name: "XSW1", why: "evil Response at the root, the signed Response inside its Signature", b: build{mode: signResponse, post: xsw(1)}, code: I, msg: sigMsg},
		{name: "XSW2", why: "evil Response at the root, the signed Response beside its Signature", b: build{mode: signResponse, post: xsw(2)}, code: I, msg: sigMsg},
		{name: "XSW3", why: "evil Assertion before the signed one", b: build{post: xsw(3)}, code: I, msg: sigMsg},
		{name: "XSW4", why: "signed Assertion inside the evil one", b: build{post: xsw(4)}, code: I, msg: sigMsg},
		{name: "XSW5", why: "evil Assertion carries the Signature, unsigned copy of the signed one after it", b: build{post: xsw(5)}, code: I, msg: sigMsg},
		{name: "XSW6", why: "evil Assertion carries the Signature, the signed one inside that Signature", b: build{post: xsw(6)}, code: I, msg: sigMsg},
		{name: "XSW7", why: "signed Assertion in samlp:Extensions, evil one in its place", b: build{post: xsw(7)}, code: I, msg: sigMsg},
		{name: "XSW8", why: "evil Assertion carries the Signature, the signed one in ds:Object", b: build{post: xsw(8)}, code: I, msg: sigMsg},
		{name: "XSW3 on a signed Response", why: "evil Assertion added to a signed Response", b: build{mode: signResponse, post: xsw(3)}, code: I, msg: sigMsg},
		{name: "unknown wrapper", why: "signed Assertion inside an unknown element, evil one in its place", b: build{post: wrapUnknown}, code: I, msg: sigMsg},
		{name: "same-ID clone before", why: "evil copy with the signed Assertion's ID comes first", b: build{post: sameIDClone(true)}, code: I, msg: sigMsg},
		{name: "same-ID clone after", why: "evil copy with the signed Assertion's ID comes last", b: build{post: sameIDClone(false)}, code: I, msg: sigMsg},
		{name: "signed Assertion in Advice", why: "evil Assertion holds the signed one in saml:Advice", b: build{post: func(t testing.TB, doc *etree.Document) {
			r, orig := doc.Root(), find(t, doc, "Assertion")
			evil := evilCopy(t, orig, "_evilassertion")
			r.InsertChildAt(orig.Index(), evil)
			r.RemoveChild(orig)
			advice := etree.NewElement("saml:Advice")
			advice.AddChild(orig)
			evil.InsertChildAt(issuerIndex(evil)+1, advice)
		}}, code: I, msg: sigMsg},
		{name: "signed Assertion in StatusDetail", why: "evil Assertion in place, signed one in samlp:StatusDetail", b: build{post: func(t testing.TB, doc *etree.Document) {
			r, orig := doc.Root(), find(t, doc, "Assertion")
			r.InsertChildAt(orig.Index(), evilCopy(t, orig, "_evilassertion"))
			r.RemoveChild(orig)
			find(t, doc, "Status").CreateElement("samlp:StatusDetail").AddChild(orig)
		}}, code: I, msg: sigMsg},

		// Signature.
		{name: "no signature", why: "nothing vouches for the response", b: build{mode: signNone}, code: I, msg: sigMsg},
		{name: "NameID edited after signing", why: "the digest no longer matches", b: build{post: setText("Assertion/Subject/NameID", evilNameID)}, code: I, msg: sigMsg},
		{name: "Role edited after signing", why: "the digest no longer matches", b: build{post: setAttribute(testRoleAttr, "arn:aws:iam::123456789012:role/Admin,"+testProviderARN)}, code: I, msg: sigMsg},
		{name: "signed Response edited after signing", why: "the digest no longer matches", b: build{mode: signResponse, post: setText("Assertion/Subject/NameID", evilNameID)}, code: I, msg: sigMsg},
		{name: "attacker key, its certificate in KeyInfo", why: "only pinned keys are trusted", b: build{assertion: sigSpec{key: "attacker-rsa2048"}}, code: I, msg: sigMsg},
		{name: "attacker key, KeyInfo naming the pinned certificate", why: "the signature is not the pinned key's", b: build{assertion: sigSpec{key: "attacker-rsa2048", keyInfo: x509KeyInfo("idp-rsa2048")}}, code: I, msg: sigMsg},
		{name: "attacker key, no KeyInfo", why: "the signature is not a pinned key's", b: build{assertion: sigSpec{key: "attacker-rsa2048", noKeyInfo: true}}, code: I, msg: sigMsg},
		{name: "attacker key, its RSAKeyValue in KeyInfo", why: "a key in KeyInfo is never trusted for itself", b: build{assertion: sigSpec{key: "attacker-rsa2048", keyInfo: rsaKeyValue("attacker-rsa2048")}}, code: I, msg: sigMsg},
		{name: "attacker key, RSAKeyValue of the pinned key", why: "the signature is not the pinned key's", b: build{assertion: sigSpec{key: "attacker-rsa2048", keyInfo: rsaKeyValue("idp-rsa2048")}}, code: I, msg: sigMsg},
		{name: "HMAC-SHA1 keyed with the pinned certificate", why: "HMAC turns the public certificate into a shared secret", b: build{assertion: sigSpec{method: hmacSHA1, hash: crypto.SHA1, hmacCert: "idp-rsa2048"}}, code: I, msg: sigMsg},
		{name: "HMAC-SHA256 keyed with the pinned certificate", why: "HMAC turns the public certificate into a shared secret", b: build{assertion: sigSpec{method: hmacSHA256, hmacCert: "idp-rsa2048"}}, code: I, msg: sigMsg},
		{name: "RSA-SHA1", why: "no SHA-1", b: build{assertion: sigSpec{method: rsaSHA1, hash: crypto.SHA1, digestAlg: digestSHA1, digestHash: crypto.SHA1}}, code: I, msg: sigMsg},
		{name: "SHA-1 digest under RSA-SHA256", why: "no SHA-1 digests", b: build{assertion: sigSpec{digestAlg: digestSHA1, digestHash: crypto.SHA1}}, code: I, msg: sigMsg},
		{name: "RSA-1024 pinned key", why: "RSA keys have at least 2048 bits", b: build{assertion: sigSpec{key: "weak-rsa1024"}}, certs: []string{"weak-rsa1024"}, code: I, msg: sigMsg},
		{name: "RSA-1024 key beside a good pinned key", why: "a weak pinned key is never used", b: build{assertion: sigSpec{key: "weak-rsa1024", noKeyInfo: true}}, certs: []string{"idp-rsa2048", "weak-rsa1024"}, code: I, msg: sigMsg},
		{name: "two References (CVE-2026-33487)", why: "exactly one Reference", b: build{assertion: sigSpec{uris: []string{"#", "#"}}}, code: I, msg: sigMsg},
		{name: "second Reference to the Response", why: "exactly one Reference, to the signed element", b: build{assertion: sigSpec{uris: []string{"#", "#" + testResponseID}}}, code: I, msg: sigMsg},
		{name: `URI="" on an ID-less Assertion`, why: "the ID must exist and be referenced", b: build{pre: removeAttr("Assertion", "ID"), assertion: sigSpec{uris: []string{""}}}, code: I, msg: sigMsg},
		{name: `URI="" on an Assertion with an ID`, why: "the Reference names the element's ID", b: build{assertion: sigSpec{uris: []string{""}}}, code: I, msg: sigMsg},
		{name: "Reference to the Response ID on the Assertion", why: "the Reference names the element the Signature is in", b: build{assertion: sigSpec{uris: []string{"#" + testResponseID}}}, code: I, msg: sigMsg},
		{name: "Reference URI without #", why: "a same-document reference", b: build{assertion: sigSpec{uris: []string{testAssertionID}}}, code: I, msg: sigMsg},
		{name: "extra c14n 1.1 transform", why: "only enveloped-signature then exclusive c14n", b: build{assertion: sigSpec{transforms: []string{algEnveloped, algExcC14N, c14n11}}}, code: I, msg: sigMsg},
		{name: "WithComments transform", why: "comments must not be signed content", b: build{assertion: sigSpec{transforms: []string{algEnveloped, excC14NWithComments}}}, code: I, msg: sigMsg},
		{name: "WithComments CanonicalizationMethod", why: "only exclusive c14n without comments", b: build{assertion: sigSpec{c14n: excC14NWithComments}}, code: I, msg: sigMsg},
		{name: "inclusive c14n CanonicalizationMethod", why: "only exclusive c14n", b: build{assertion: sigSpec{c14n: c14n10}}, code: I, msg: sigMsg},
		{name: "no enveloped-signature transform", why: "only enveloped-signature then exclusive c14n", b: build{assertion: sigSpec{transforms: []string{algExcC14N}}}, code: I, msg: sigMsg},
		{name: "transforms in reverse order", why: "only enveloped-signature then exclusive c14n", b: build{assertion: sigSpec{transforms: []string{algExcC14N, algEnveloped}}}, code: I, msg: sigMsg},
		{name: "XPath transform", why: "no XPath", b: build{post: editSignedInfo(func(t testing.TB, si *etree.Element) {
			si.FindElement(".//Transform").CreateElement("ds:XPath").SetText("not(ancestor-or-self::ds:Signature)")
		})}, code: I, msg: sigMsg},
		{name: "expired signing certificate", why: "pinned certificates are used within their validity", b: build{assertion: sigSpec{key: "expired-rsa2048"}}, certs: []string{"expired-rsa2048"}, code: I, msg: sigMsg},
		{name: "ECDSA SignatureMethod with an RSA key", why: "the algorithm must fit the pinned key", b: build{post: editSignedInfo(func(t testing.TB, si *etree.Element) {
			si.SelectElement("SignatureMethod").CreateAttr("Algorithm", algECDSA256)
		})}, code: I, msg: sigMsg},
		{name: "missing SignedInfo", why: "malformed Signature", b: build{post: editSignature(func(t testing.TB, s *etree.Element) { s.RemoveChild(s.SelectElement("SignedInfo")) })}, code: I, msg: sigMsg},
		{name: "missing SignatureValue", why: "malformed Signature", b: build{post: editSignature(func(t testing.TB, s *etree.Element) { s.RemoveChild(s.SelectElement("SignatureValue")) })}, code: I, msg: sigMsg},
		{name: "missing CanonicalizationMethod", why: "malformed Signature", b: build{post: editSignedInfo(func(t testing.TB, si *etree.Element) { si.RemoveChild(si.SelectElement("CanonicalizationMethod")) })}, code: I, msg: sigMsg},
		{name: "two SignedInfo", why: "malformed Signature", b: build{post: editSignature(func(t testing.TB, s *etree.Element) { s.InsertChildAt(0, s.SelectElement("SignedInfo").Copy()) })}, code: I, msg: sigMsg},
		{name: "empty X509Certificate (CVE-2020-7711)", why: "malformed KeyInfo", b: build{post: setText("Assertion/Signature/KeyInfo/X509Data/X509Certificate", "")}, code: I, msg: sigMsg},
		{name: "X509Certificate not base64", why: "malformed KeyInfo", b: build{post: setText("Assertion/Signature/KeyInfo/X509Data/X509Certificate", "%%%")}, code: I, msg: sigMsg},
		{name: "two X509Certificates", why: "KeyInfo selects one pinned certificate", b: build{post: func(t testing.TB, doc *etree.Document) {
			x := find(t, doc, "Assertion/Signature/KeyInfo/X509Data")
			x.CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(key(t, "attacker-rsa2048").cert.Raw))
		}}, code: I, msg: sigMsg},
		{name: "KeyName in KeyInfo", why: "KeyInfo may only select among pinned certificates", b: build{post: func(t testing.TB, doc *etree.Document) {
			find(t, doc, "Assertion/Signature/KeyInfo").CreateElement("ds:KeyName").SetText("idp")
		}}, code: I, msg: sigMsg},
		{name: "two Signatures on the Assertion", why: "one Signature per element", b: build{post: func(t testing.TB, doc *etree.Document) {
			a := find(t, doc, "Assertion")
			a.InsertChildAt(issuerIndex(a)+1, a.SelectElement("Signature").Copy())
		}}, code: I, msg: sigMsg},
		{name: "Signature inside Subject", why: "a Signature is a direct child of what it signs", b: build{post: func(t testing.TB, doc *etree.Document) {
			moveSignature(find(t, doc, "Assertion"), find(t, doc, "Assertion/Subject"))
		}}, code: I, msg: sigMsg},
		{name: "ds:Object in Signature", why: "no Object", b: build{post: editSignature(func(t testing.TB, s *etree.Element) { s.CreateElement("ds:Object") })}, code: I, msg: sigMsg},
		{name: "SignatureValue not base64", why: "malformed Signature", b: build{post: setText("Assertion/Signature/SignatureValue", "not base64!")}, code: I, msg: sigMsg},
		{name: "empty SignatureValue", why: "malformed Signature", b: build{post: setText("Assertion/Signature/SignatureValue", "")}, code: I, msg: sigMsg},
		{name: "DigestValue of the wrong length", why: "malformed Reference", b: build{post: editSignedInfo(func(t testing.TB, si *etree.Element) {
			si.FindElement(".//DigestValue").SetText("AAAA")
		})}, code: I, msg: sigMsg},

		// Parsing.
		{name: "comment in the Assertion Issuer", why: "the Issuer is read whole: it is not the provider's", b: build{
			data: func(d *tmplData) { d.Issuer = testEntityID + ".evil.test" },
			post: commentInside("Assertion/Issuer", testEntityID),
		}, code: I, msg: MsgIssuer},
		{name: "comment in the Response Issuer", why: "the Issuer is read whole: it is not the provider's", b: build{
			mode: signResponse,
			data: func(d *tmplData) { d.ResponseIssuer = testEntityID + ".evil.test" },
			post: commentInside("Issuer", testEntityID),
		}, code: I, msg: MsgIssuer},
		{name: "::foo attribute (CVE-2020-29509)", why: "does not survive an encoding/xml round trip", b: build{bytes: replaceBytes("<samlp:Response ", `<samlp:Response ::foo="bar" `)}, code: I, msg: sigMsg},
		{name: "<x::Root> (CVE-2020-29511)", why: "does not survive an encoding/xml round trip", b: build{bytes: func(t testing.TB, b []byte) []byte {
			b = replaceBytes("<samlp:Response ", "<samlp::Response ")(t, b)
			return replaceBytes("</samlp:Response>", "</samlp::Response>")(t, b)
		}}, code: I, msg: sigMsg},
		{name: `xmlns:="y" (CVE-2020-29510)`, why: "does not survive an encoding/xml round trip", b: build{bytes: replaceBytes("<samlp:Response ", `<samlp:Response xmlns:="y" `)}, code: I, msg: sigMsg},
		{name: "unused DOCTYPE", why: "no DOCTYPE", b: build{bytes: prependBytes(`<!DOCTYPE samlp:Response>`)}, code: I, msg: sigMsg},
		{name: "billion laughs", why: "no DOCTYPE, no entities", b: build{bytes: func(t testing.TB, b []byte) []byte {
			dtd := `<!DOCTYPE r [<!ENTITY l0 "lol">`
			for i := 1; i < 10; i++ {
				dtd += `<!ENTITY l` + string(rune('0'+i)) + ` "` + strings.Repeat("&l"+string(rune('0'+i-1))+";", 10) + `">`
			}
			dtd += `]>`
			return append([]byte(dtd), replaceBytes(testNameID, "&l9;")(t, b)...)
		}}, code: I, msg: sigMsg},
		{name: "XXE file:///etc/passwd", why: "no external entities", b: build{bytes: func(t testing.TB, b []byte) []byte {
			return append([]byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`), replaceBytes(testNameID, "&x;")(t, b)...)
		}}, code: I, msg: sigMsg},
		{name: "undeclared entity", why: "only the predefined entities", b: build{bytes: replaceBytes(testNameID, "&x;")}, code: I, msg: sigMsg},
		{name: "processing instruction", why: "no processing instructions", b: build{bytes: replaceBytes("<saml:Subject>", "<saml:Subject><?php evil ?>")}, code: I, msg: sigMsg},
		{name: "XML declaration of another encoding", why: "UTF-8 only", b: build{bytes: prependBytes(`<?xml version="1.0" encoding="ISO-8859-1"?>`)}, code: I, msg: sigMsg},
		{name: "10 MB body", why: "at most 100,000 base64 characters", b: build{bytes: func(_ testing.TB, b []byte) []byte {
			return append(b, bytes.Repeat([]byte(" "), 10<<20)...)
		}}, code: CodeValidationError, msg: MsgTooLong},
		{name: "3,000-deep nesting", why: "depth cap", b: build{bytes: replaceBytes("<saml:Subject>", "<saml:Subject>"+nested(3000))}, code: I, msg: sigMsg},
		{name: "1,000 siblings beside a bogus Signature", why: "element cap", b: build{mode: signNone, bytes: replaceBytes("</samlp:Status>",
			`</samlp:Status><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`+strings.Repeat("<x/>", 1001))}, code: I, msg: sigMsg},
		{name: "duplicate attribute", why: "not well-formed", b: build{bytes: replaceBytes(`Version="2.0"`, `Version="2.0" Version="2.0"`)}, code: I, msg: sigMsg},
		{name: "two root elements", why: "not well-formed", b: build{bytes: func(_ testing.TB, b []byte) []byte { return append(b, "<x/>"...) }}, code: I, msg: sigMsg},
		{name: "truncated", why: "not well-formed", b: build{bytes: func(_ testing.TB, b []byte) []byte { return b[:len(b)-20] }}, code: I, msg: sigMsg},
		{name: "undeclared prefix", why: "not namespace-well-formed", b: build{bytes: replaceBytes("<saml:Subject>", "<saml:Subject><bad:X/>")}, code: I, msg: sigMsg},
		{name: "namespace prefix named like an attribute", why: "xmlns:Recipient would read as a Recipient attribute", b: build{pre: setAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "xmlns:Recipient", testSignin)}, code: I, msg: sigMsg},
		{name: "namespaced attribute named like a SAML attribute", why: "only unqualified attributes are read", b: build{pre: then(
			setAttr("Assertion", "xmlns:e", "urn:example:e"),
			setAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "e:Recipient", evilURL),
		)}, code: I, msg: sigMsg},
		{name: "time with a zone offset", why: "SAML times are UTC", b: build{pre: setAttr("Assertion", "IssueInstant", "2026-11-27T12:59:50+01:00")}, code: I, msg: sigMsg},
		{name: "Assertion in another namespace", why: "not a SAML assertion", b: build{pre: setAttr("Assertion", "xmlns:saml", "urn:example:not-saml")}, code: I, msg: sigMsg},
		{name: "not base64", raw: func(testing.TB) string { return "this is not base64!" }, why: "undecodable", code: I, msg: MsgNotBase64},
		{name: "too short", raw: func(testing.TB) string { return "PD8" }, why: "at least 4 characters", code: CodeValidationError, msg: MsgTooShort},
		{name: "not XML", raw: func(testing.TB) string { return base64.StdEncoding.EncodeToString([]byte("hello, world")) }, why: "not a document", code: I, msg: sigMsg},
		{name: "not UTF-8", raw: func(testing.TB) string { return base64.StdEncoding.EncodeToString([]byte("<r>\xff</r>")) }, why: "UTF-8 only", code: I, msg: sigMsg},

		// Semantics.
		{name: "signed then unsigned Assertion (CVE-2022-41912)", why: "exactly one Assertion", b: build{post: unsignedSecond(false)}, code: I, msg: sigMsg},
		{name: "unsigned then signed Assertion (CVE-2022-41912)", why: "exactly one Assertion", b: build{post: unsignedSecond(true)}, code: I, msg: sigMsg},
		{name: "two Assertions in a signed Response", why: "exactly one Assertion", b: build{mode: signResponse, pre: func(t testing.TB, doc *etree.Document) {
			doc.Root().AddChild(evilCopy(t, find(t, doc, "Assertion"), "_second"))
		}}, code: I, msg: sigMsg},
		{name: "no Subject", why: "STS-SPEC §5 step 7", b: build{pre: removeEl("Assertion/Subject")}, code: CodeAccessDenied, msg: MsgAccessDenied},
		{name: "no NameID", why: "STS-SPEC §5 step 7", b: build{pre: removeEl("Assertion/Subject/NameID")}, code: CodeAccessDenied, msg: MsgAccessDenied},
		{name: "empty NameID", why: "STS-SPEC §5 step 7", b: build{pre: setText("Assertion/Subject/NameID", "")}, code: CodeAccessDenied, msg: MsgAccessDenied},
		{name: "no Conditions", why: "Conditions are required", b: build{pre: removeEl("Assertion/Conditions")}, code: I, msg: sigMsg},
		{name: "Conditions without NotOnOrAfter", why: "NotOnOrAfter is required", b: build{pre: removeAttr("Assertion/Conditions", "NotOnOrAfter")}, code: I, msg: sigMsg},
		{name: "Conditions without NotBefore", why: "NotBefore is required", b: build{pre: removeAttr("Assertion/Conditions", "NotBefore")}, code: I, msg: sigMsg},
		{name: "no SubjectConfirmation", why: "exactly one bearer SubjectConfirmation", b: build{pre: removeEl("Assertion/Subject/SubjectConfirmation")}, code: I, msg: sigMsg},
		{name: "two SubjectConfirmations", why: "exactly one bearer SubjectConfirmation", b: build{pre: func(t testing.TB, doc *etree.Document) {
			sc := find(t, doc, "Assertion/Subject/SubjectConfirmation")
			sc.Parent().AddChild(sc.Copy())
		}}, code: I, msg: sigMsg},
		{name: "holder-of-key SubjectConfirmation", why: "bearer only", b: build{pre: setAttr("Assertion/Subject/SubjectConfirmation", "Method", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key")}, code: I, msg: sigMsg},
		{name: "no SubjectConfirmationData", why: "Recipient and NotOnOrAfter are required", b: build{pre: removeEl("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData")}, code: I, msg: sigMsg},
		{name: "SubjectConfirmationData without NotOnOrAfter", why: "NotOnOrAfter is required", b: build{pre: removeAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "NotOnOrAfter")}, code: I, msg: sigMsg},
		{name: "wrong Recipient", why: "for another service provider", b: build{data: func(d *tmplData) { d.Recipient = evilURL }}, code: I, msg: MsgAudience},
		{name: "missing Recipient", why: "Recipient is required", b: build{pre: removeAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "Recipient")}, code: I, msg: MsgAudience},
		{name: "Recipient differing in case", why: "exact match", b: build{data: func(d *tmplData) { d.Recipient = strings.ToUpper(testSignin) }}, code: I, msg: MsgAudience},
		{name: "wrong Destination, Assertion signed", why: "sent to another endpoint", b: build{data: func(d *tmplData) { d.Destination = evilURL }}, code: I, msg: MsgAudience},
		{name: "wrong Destination, Response signed", why: "sent to another endpoint", b: build{mode: signResponse, data: func(d *tmplData) { d.Destination = evilURL }}, code: I, msg: MsgAudience},
		{name: "signed Response without Destination", why: "saml-bindings §3.5.5.2", b: build{mode: signResponse, pre: removeAttr("", "Destination")}, code: I, msg: MsgAudience},
		{name: "wrong Audience", why: "for another service provider", b: build{data: func(d *tmplData) { d.Audience = "urn:example:other-sp" }}, code: I, msg: MsgAudience},
		{name: "no AudienceRestriction", why: "an assertion for every SP is for none", b: build{pre: removeEl("Assertion/Conditions/AudienceRestriction")}, code: I, msg: MsgAudience},
		{name: "empty AudienceRestriction", why: "not schema-valid", b: build{pre: removeEl("Assertion/Conditions/AudienceRestriction/Audience")}, code: I, msg: sigMsg},
		{name: "partially matching audiences", why: "every AudienceRestriction must be satisfied", b: build{pre: func(t testing.TB, doc *etree.Document) {
			find(t, doc, "Assertion/Conditions").CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText("urn:example:other-sp")
		}}, code: I, msg: MsgAudience},
		{name: "Audience with a trailing space", why: "exact match", b: build{data: func(d *tmplData) { d.Audience = testAudience + " " }}, code: I, msg: MsgAudience},
		{name: "expired: Conditions NotOnOrAfter + skew == now", why: "NotOnOrAfter is exclusive", b: build{data: window(-10*time.Minute, -10*time.Minute, -skew, time.Minute)}, code: CodeExpiredToken, msg: MsgExpired},
		{name: "expired: SubjectConfirmationData NotOnOrAfter + skew == now", why: "NotOnOrAfter is exclusive", b: build{data: window(-10*time.Minute, -10*time.Minute, time.Minute, -skew)}, code: CodeExpiredToken, msg: MsgExpired},
		{name: "expired an hour ago", why: "STS-SPEC §9 vector 10", b: build{data: window(-2*time.Hour, -2*time.Hour, -time.Hour, -time.Hour)}, code: CodeExpiredToken, msg: MsgExpired},
		{name: "Conditions NotBefore == now + skew + 1s", why: "not yet valid", b: build{data: func(d *tmplData) { d.NotBefore = testNow.Add(skew + time.Second) }}, code: I, msg: MsgNotYetValid},
		{name: "SubjectConfirmationData NotBefore == now + skew + 1s", why: "not yet valid", b: build{pre: setAttr("Assertion/Subject/SubjectConfirmation/SubjectConfirmationData", "NotBefore", "2026-11-27T12:03:01Z")}, code: I, msg: MsgNotYetValid},
		{name: "IssueInstant == now + skew + 1s", why: "issued in the future", b: build{data: func(d *tmplData) { d.IssueInstant = testNow.Add(skew + time.Second) }}, code: I, msg: MsgNotYetValid},
		{name: "Assertion IssueInstant == now + skew + 1s, Response signed", why: "issued in the future", b: build{mode: signResponse, pre: setAttr("Assertion", "IssueInstant", "2026-11-27T12:03:01Z")}, code: I, msg: MsgNotYetValid},
		{name: "IssueInstant 48 h in the future", why: "issued in the future", b: build{data: func(d *tmplData) { d.IssueInstant = testNow.Add(48 * time.Hour) }}, code: I, msg: MsgNotYetValid},
		{name: "AuthnInstant in the future", why: "authenticated in the future", b: build{data: func(d *tmplData) { d.AuthnInstant = testNow.Add(time.Hour) }}, code: I, msg: MsgNotYetValid},
		{name: "lifetime == MaxLifetime + 1s", why: "maximum assertion lifetime", b: build{data: window(-10*time.Second, -10*time.Second, DefaultMaxLifetime-9*time.Second, time.Minute)}, code: I, msg: MsgLifetime},
		{name: "SubjectConfirmationData lifetime == MaxLifetime + 1s", why: "maximum assertion lifetime", b: build{data: window(-10*time.Second, -10*time.Second, time.Minute, DefaultMaxLifetime-9*time.Second)}, code: I, msg: MsgLifetime},
		{name: "wrong Assertion Issuer", why: "Issuer must be the provider's entityID", b: build{data: func(d *tmplData) { d.Issuer = testOtherEntity }}, code: I, msg: MsgIssuer},
		{name: "wrong Response Issuer", why: "Issuer must be the provider's entityID", b: build{data: func(d *tmplData) { d.ResponseIssuer = testOtherEntity }}, code: I, msg: MsgIssuer},
		{name: "key of provider A, Issuer of provider B, PrincipalArn B", why: "keys are bound to their provider", b: build{assertion: sigSpec{key: "other-rsa2048"}}, code: I, msg: sigMsg},
		{name: "key of provider A, Issuer of provider B, PrincipalArn A", why: "keys are bound to their provider", b: build{assertion: sigSpec{key: "other-rsa2048"}}, certs: []string{"other-rsa2048"}, entity: testOtherEntity, code: I, msg: MsgIssuer},
		{name: "same Response twice", why: "replay", first: &build{}, b: build{}, code: I, msg: MsgReplay},
		{name: "same Assertion in a new Response", why: "replay", first: &build{}, b: build{data: func(d *tmplData) { d.ResponseID = "_another" }}, code: I, msg: MsgReplay},
		{name: "same signed Response twice", why: "replay", first: &build{mode: signResponse}, b: build{mode: signResponse}, code: I, msg: MsgReplay},
		{name: "Status Requester", why: "Status Success only", b: build{data: func(d *tmplData) { d.Status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }}, code: I, msg: MsgStatus},
		{name: "Status Responder, Response signed", why: "Status Success only", b: build{mode: signResponse, data: func(d *tmplData) { d.Status = "urn:oasis:names:tc:SAML:2.0:status:Responder" }}, code: I, msg: MsgStatus},
		{name: "Assertion Version 2.1", why: "Version 2.0 only", b: build{pre: setAttr("Assertion", "Version", "2.1")}, code: I, msg: sigMsg},
		{name: "Response Version 1.1", why: "Version 2.0 only", b: build{pre: setAttr("", "Version", "1.1")}, code: I, msg: sigMsg},
		{name: "unsigned Response with an EncryptedAssertion", why: "nothing vouches for it and we do not decrypt", b: build{mode: signNone, pre: encryptedAssertion}, code: I, msg: sigMsg},
		{name: "signed Response with an EncryptedAssertion", why: "we do not decrypt", b: build{mode: signResponse, pre: encryptedAssertion}, code: I, msg: sigMsg},
		{name: "unknown Condition", why: "an Indeterminate assertion is rejected", b: build{pre: func(t testing.TB, doc *etree.Document) {
			find(t, doc, "Assertion/Conditions").CreateElement("saml:ProxyRestriction").CreateAttr("Count", "1")
		}}, code: I, msg: sigMsg},
		{name: "duplicate attribute Name", why: "which value would count is ambiguous", b: build{data: func(d *tmplData) {
			d.Attributes = append(d.Attributes, tmplAttr{testRoleAttr, []string{"arn:aws:iam::123456789012:role/Admin," + testProviderARN}})
		}}, code: I, msg: sigMsg},
		{name: "AttributeValue with an element inside", why: "AWS attributes are strings", b: build{pre: func(t testing.TB, doc *etree.Document) {
			find(t, doc, "Assertion/AttributeStatement/Attribute/AttributeValue").CreateElement("saml:NameID").SetText("x")
		}}, code: I, msg: sigMsg},

		// Bombs: the POST binding never inflates.
		{name: "deflated response", why: "the POST binding is not deflated", b: build{bytes: deflated}, code: I, msg: sigMsg},
		{name: "deflate bomb", why: "never inflated", raw: func(t testing.TB) string {
			return base64.StdEncoding.EncodeToString(deflated(t, bytes.Repeat([]byte("<a>"), 10<<20)))
		}, code: I, msg: sigMsg},
	}
}

// encryptedAssertion replaces the Assertion with an EncryptedAssertion
// (its content does not matter: it is never decrypted).
func encryptedAssertion(t testing.TB, doc *etree.Document) {
	a := find(t, doc, "Assertion")
	r := doc.Root()
	ea := etree.NewElement("saml:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml", nsAssertion)
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText("AAAA")
	r.InsertChildAt(a.Index(), ea)
	r.RemoveChild(a)
}

func (a attack) provider(t testing.TB) Provider {
	p := testProvider(t)
	if a.entity != "" {
		p.EntityID = a.entity
	}
	if a.certs != nil {
		p.Certs = nil
		for _, n := range a.certs {
			p.Certs = append(p.Certs, key(t, n).cert)
		}
	}
	return p
}

func (a attack) input(t testing.TB) string {
	if a.raw != nil {
		return a.raw(t)
	}
	return a.b.encode(t)
}

// TestAttackTable: every row of SECURITY.md's attack table is rejected,
// with the expected code and message, and without a panic.
func TestAttackTable(t *testing.T) {
	t.Parallel()
	for _, tc := range attackTable() {
		t.Run(tc.name, func(t *testing.T) {
			p, opt := tc.provider(t), testOptions()
			if tc.first != nil {
				if _, err := Verify(context.Background(), tc.first.encode(t), p, opt); err != nil {
					t.Fatalf("first use rejected: %v %+v", err, asError(t, err))
				}
			}
			a, err := Verify(context.Background(), tc.input(t), p, opt)
			if err == nil {
				t.Fatalf("accepted (%s): NameID %q", tc.why, a.NameID)
			}
			e := asError(t, err)
			if strings.HasPrefix(e.Reason, "panic") {
				t.Fatalf("panicked: %s", e.Reason)
			}
			if e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("got %s %q (%s), want %s %q (%s)", e.Code, e.Message, e.Reason, tc.code, tc.msg, tc.why)
			}
			t.Logf("%s: %s", tc.why, e.Reason)
		})
	}
}
