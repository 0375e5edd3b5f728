package samlverify

import (
	"bytes"
	"compress/flate"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// Mutation helpers: each turns the valid document into one attack. The
// "evil" copies say NameID admin@corp.test.

const evilNameID = "admin@corp.test"

// evilCopy returns a copy of el with its own Signature removed, its NameID
// replaced and, if id is not empty, its ID set to id.
func evilCopy(t testing.TB, el *etree.Element, id string) *etree.Element {
	t.Helper()
	c := el.Copy()
	if s := c.SelectElement("Signature"); s != nil {
		c.RemoveChild(s)
	}
	if id != "" {
		c.CreateAttr("ID", id)
	}
	for _, n := range c.FindElements(".//NameID") {
		n.SetText(evilNameID)
	}
	return c
}

// moveSignature moves the Signature of from into to, after to's Issuer.
func moveSignature(from, to *etree.Element) *etree.Element {
	sig := from.SelectElement("Signature")
	from.RemoveChild(sig)
	to.InsertChildAt(issuerIndex(to)+1, sig)
	return sig
}

// xsw builds the signature-wrapping permutations of SAMLRaider's
// XSWHelpers and "On Breaking SAML" on the signed document.
func xsw(n int) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		t.Helper()
		resp := doc.Root()
		orig := find(t, doc, "Assertion")
		switch n {
		case 1: // evil Response at the root; the signed one inside its Signature
			evil := evilCopy(t, resp, "_evilresponse")
			sig := resp.SelectElement("Signature").Copy()
			evil.InsertChildAt(issuerIndex(evil)+1, sig)
			sig.AddChild(resp.Copy())
			doc.SetRoot(evil)
		case 2: // evil Response at the root; the signed one before its Signature (detached)
			evil := evilCopy(t, resp, "_evilresponse")
			sig := resp.SelectElement("Signature").Copy()
			evil.InsertChildAt(issuerIndex(evil)+1, resp.Copy())
			evil.InsertChildAt(issuerIndex(evil)+2, sig)
			doc.SetRoot(evil)
		case 3: // evil Assertion before the signed one
			resp.InsertChildAt(orig.Index(), evilCopy(t, orig, "_evilassertion"))
		case 4: // signed Assertion inside the evil one
			evil := evilCopy(t, orig, "_evilassertion")
			resp.InsertChildAt(orig.Index(), evil)
			resp.RemoveChild(orig)
			evil.AddChild(orig)
		case 5: // evil Assertion carries the Signature; a copy of the signed one, unsigned, at the end
			evil := evilCopy(t, orig, "_evilassertion")
			resp.InsertChildAt(orig.Index(), evil)
			resp.RemoveChild(orig)
			moveSignature(orig, evil)
			resp.AddChild(orig)
		case 6: // evil Assertion carries the Signature; the signed one inside it
			evil := evilCopy(t, orig, "_evilassertion")
			resp.InsertChildAt(orig.Index(), evil)
			resp.RemoveChild(orig)
			sig := moveSignature(orig, evil)
			sig.AddChild(orig)
		case 7: // signed Assertion inside samlp:Extensions; evil one in its place
			evil := evilCopy(t, orig, "_evilassertion")
			resp.InsertChildAt(orig.Index(), evil)
			resp.RemoveChild(orig)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(orig)
			resp.InsertChildAt(issuerIndex(resp)+1, ext)
		case 8: // evil Assertion carries the Signature; the signed one, unsigned, in ds:Object
			evil := evilCopy(t, orig, "_evilassertion")
			resp.InsertChildAt(orig.Index(), evil)
			resp.RemoveChild(orig)
			sig := moveSignature(orig, evil)
			obj := sig.CreateElement("ds:Object")
			obj.AddChild(orig)
		}
	}
}

// wrapUnknown puts the signed Assertion inside an element of an unknown
// namespace and an evil copy in its place.
func wrapUnknown(t testing.TB, doc *etree.Document) {
	resp := doc.Root()
	orig := find(t, doc, "Assertion")
	evil := evilCopy(t, orig, "_evilassertion")
	resp.InsertChildAt(orig.Index(), evil)
	resp.RemoveChild(orig)
	w := resp.CreateElement("w:Wrapper")
	w.CreateAttr("xmlns:w", "urn:example:wrapper")
	w.AddChild(orig)
}

// sameIDClone puts an evil copy with the signed Assertion's own ID before
// (first) or after it.
func sameIDClone(first bool) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		resp := doc.Root()
		orig := find(t, doc, "Assertion")
		evil := evilCopy(t, orig, "")
		if first {
			resp.InsertChildAt(orig.Index(), evil)
		} else {
			resp.AddChild(evil)
		}
	}
}

// unsignedSecond adds an unsigned evil Assertion before or after the
// signed one (CVE-2022-41912).
func unsignedSecond(before bool) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		resp := doc.Root()
		orig := find(t, doc, "Assertion")
		evil := evilCopy(t, orig, "_evilassertion")
		if before {
			resp.InsertChildAt(orig.Index(), evil)
		} else {
			resp.AddChild(evil)
		}
	}
}

// signatureOf returns the Signature of the Assertion (or of the Response
// with path "").
func signatureOf(t testing.TB, doc *etree.Document, path string) *etree.Element {
	t.Helper()
	return find(t, doc, strings.TrimPrefix(path+"/Signature", "/"))
}

// editSignedInfo edits the SignedInfo of the Assertion's Signature and
// signs it again with the provider's key, so that only the edit is wrong.
func editSignedInfo(edit func(t testing.TB, si *etree.Element)) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		sig := signatureOf(t, doc, "Assertion")
		edit(t, sig.SelectElement("SignedInfo"))
		resign(t, sig, sigSpec{})
	}
}

// editSignature edits the Assertion's Signature element.
func editSignature(edit func(t testing.TB, sig *etree.Element)) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { edit(t, signatureOf(t, doc, "Assertion")) }
}

// commentInside splits the text of the element at path after prefix with
// an empty comment, after signing: exclusive c14n drops the comment, so
// the signature stays valid (CVE-2017-11427).
func commentInside(path, prefix string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		el := find(t, doc, path)
		text := textOf(el)
		if !strings.HasPrefix(text, prefix) {
			t.Fatalf("%s is %q, not starting with %q", path, text, prefix)
		}
		el.Child = nil
		el.CreateText(prefix)
		el.CreateComment("")
		el.CreateText(text[len(prefix):])
	}
}

// attributeValue returns the first AttributeValue of the attribute Name.
func attributeValue(t testing.TB, doc *etree.Document, name string) *etree.Element {
	t.Helper()
	for _, a := range find(t, doc, "Assertion/AttributeStatement").SelectElements("Attribute") {
		if a.SelectAttrValue("Name", "") == name {
			return a.SelectElement("AttributeValue")
		}
	}
	t.Fatalf("no attribute %s", name)
	return nil
}

func setAttribute(name, value string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) { attributeValue(t, doc, name).SetText(value) }
}

// attrComment is commentInside for an attribute value.
func attrComment(name, prefix string) func(testing.TB, *etree.Document) {
	return func(t testing.TB, doc *etree.Document) {
		el := attributeValue(t, doc, name)
		text := textOf(el)
		el.Child = nil
		el.CreateText(prefix)
		el.CreateComment("")
		el.CreateText(text[len(prefix):])
	}
}

// replaceBytes edits the serialized document.
func replaceBytes(old, new string) func(testing.TB, []byte) []byte {
	return func(t testing.TB, b []byte) []byte {
		t.Helper()
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("document does not contain %q", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

func prependBytes(s string) func(testing.TB, []byte) []byte {
	return func(_ testing.TB, b []byte) []byte { return append([]byte(s), b...) }
}

// nested returns n nested elements.
func nested(n int) string {
	return strings.Repeat("<a>", n) + strings.Repeat("</a>", n)
}

// rsaKeyValue writes KeyInfo/KeyValue/RSAKeyValue of the named key.
func rsaKeyValue(name string) func(testing.TB, *etree.Element) {
	return func(t testing.TB, sig *etree.Element) {
		pub := key(t, name).cert.PublicKey.(*rsa.PublicKey)
		kv := sig.CreateElement("ds:KeyInfo").CreateElement("ds:KeyValue").CreateElement("ds:RSAKeyValue")
		kv.CreateElement("ds:Modulus").SetText(base64.StdEncoding.EncodeToString(pub.N.Bytes()))
		kv.CreateElement("ds:Exponent").SetText(base64.StdEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()))
	}
}

// x509KeyInfo writes KeyInfo/X509Data/X509Certificate of the named key.
func x509KeyInfo(name string) func(testing.TB, *etree.Element) {
	return func(t testing.TB, sig *etree.Element) {
		sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(key(t, name).cert.Raw))
	}
}

// deflated is the deflate (Redirect binding) encoding of a valid
// response: the POST binding must never inflate it.
func deflated(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}
