package samlverify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// The tests' STS decryption key, and another one.
const (
	testDecKey  = "other-rsa2048"
	testDecKey2 = "idp-next-rsa2048"
)

// encSpec says how the test encrypter writes an EncryptedAssertion (an
// encrypter written for the tests from XML Encryption 1.1, not the
// production decrypter's code). The zero value is what idpbridge's IdP
// sends: AES-256-GCM, xmlenc11 RSA-OAEP with SHA-256 and MGF1-SHA-256,
// the EncryptedKey inside the EncryptedData's KeyInfo, to testDecKey.
type encSpec struct {
	content   string // content encryption algorithm
	transport string // key transport algorithm
	digest    string // RSA-OAEP DigestMethod ("-": none)
	mgf       string // xmlenc11 MGF ("-": none)
	to        string // recipient's test key
	beside    bool   // EncryptedKey beside the EncryptedData, named by a RetrievalMethod
	retrieval string // RetrievalMethod URI (beside only); "" is "#" + the EncryptedKey's Id
	keySize   int    // content key bytes; 0: the algorithm's
	tamper    bool   // flip one bit of the ciphertext (the GCM tag fails)
	plaintext func(a []byte) []byte
}

const (
	algTestAES256CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	algTestSHA1      = "http://www.w3.org/2000/09/xmldsig#sha1"
	algTestSHA256    = "http://www.w3.org/2001/04/xmlenc#sha256"
	algTestMGF256    = "http://www.w3.org/2009/xmlenc11#mgf1sha256"
)

// encryptEl replaces a (an Assertion in its document) with an
// EncryptedAssertion of its serialization.
func encryptEl(t testing.TB, a *etree.Element, spec encSpec) {
	t.Helper()
	if spec.content == "" {
		spec.content = algAES256GCM
	}
	if spec.transport == "" {
		spec.transport = algRSAOAEP
	}
	if spec.digest == "" {
		spec.digest = algTestSHA256
	}
	if spec.mgf == "" && spec.transport == algRSAOAEP {
		spec.mgf = algTestMGF256
	}
	if spec.to == "" {
		spec.to = testDecKey
	}
	doc := etree.NewDocument()
	doc.SetRoot(a.Copy())
	plain, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	if spec.plaintext != nil {
		plain = spec.plaintext(plain)
	}
	size := map[string]int{algAES128GCM: 16, algAES192GCM: 24, algAES256GCM: 32, algTestAES256CBC: 32}[spec.content]
	if spec.keySize != 0 {
		size = spec.keySize
	}
	contentKey := bytes.Repeat([]byte{0x5a}, size)
	var ct []byte
	if spec.content == algTestAES256CBC {
		ct = append(make([]byte, aes.BlockSize), plain...)
		for len(ct)%aes.BlockSize != 0 {
			ct = append(ct, 0)
		}
	} else {
		block, err := aes.NewCipher(contentKey)
		if err != nil {
			t.Fatal(err)
		}
		gcm, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		nonce := bytes.Repeat([]byte{0x01}, gcm.NonceSize())
		ct = gcm.Seal(append([]byte(nil), nonce...), nonce, plain, nil)
	}
	if spec.tamper {
		ct[len(ct)-20] ^= 1
	}
	pub := key(t, spec.to).cert.PublicKey.(*rsa.PublicKey)
	var wrapped []byte
	switch spec.transport {
	case algRSA15:
		wrapped, err = rsa.EncryptPKCS1v15(zeroReader{}, pub, contentKey)
	default:
		h := map[string]crypto.Hash{algTestSHA1: crypto.SHA1, algTestSHA256: crypto.SHA256, "-": crypto.SHA1}[spec.digest]
		mgf := crypto.SHA1
		if spec.mgf == algTestMGF256 {
			mgf = crypto.SHA256
		}
		wrapped, err = rsa.EncryptOAEPWithOptions(zeroReader{}, pub, contentKey, &rsa.OAEPOptions{Hash: h, MGFHash: mgf})
	}
	if err != nil {
		t.Fatal(err)
	}

	ea := etree.NewElement("saml:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml", nsAssertion)
	ed := ea.CreateElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", nsXEnc)
	ed.CreateAttr("Id", "_ed1")
	ed.CreateAttr("Type", typeElement)
	ed.CreateElement("xenc:EncryptionMethod").CreateAttr("Algorithm", spec.content)
	ki := ed.CreateElement("ds:KeyInfo")
	ki.CreateAttr("xmlns:ds", nsDSig)
	var ek *etree.Element
	if spec.beside {
		rm := ki.CreateElement("ds:RetrievalMethod")
		uri := spec.retrieval
		if uri == "" {
			uri = "#_ek1"
		}
		rm.CreateAttr("URI", uri)
		rm.CreateAttr("Type", typeEncKey)
		ek = etree.NewElement("xenc:EncryptedKey")
		ek.CreateAttr("xmlns:xenc", nsXEnc)
	} else {
		ek = ki.CreateElement("xenc:EncryptedKey")
	}
	ek.CreateAttr("Id", "_ek1")
	em := ek.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", spec.transport)
	if spec.transport != algRSA15 && spec.digest != "-" {
		dm := em.CreateElement("ds:DigestMethod")
		dm.CreateAttr("xmlns:ds", nsDSig)
		dm.CreateAttr("Algorithm", spec.digest)
	}
	if spec.mgf != "" && spec.mgf != "-" {
		m := em.CreateElement("xenc11:MGF")
		m.CreateAttr("xmlns:xenc11", nsXEnc11)
		m.CreateAttr("Algorithm", spec.mgf)
	}
	eki := ek.CreateElement("ds:KeyInfo")
	eki.CreateAttr("xmlns:ds", nsDSig)
	eki.CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(key(t, spec.to).cert.Raw))
	ek.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(wrapped))
	ed.CreateElement("xenc:CipherData").CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(ct))
	if spec.beside {
		ea.AddChild(ek)
	}
	parent := a.Parent()
	parent.InsertChildAt(a.Index(), ea)
	parent.RemoveChild(a)
}

// zeroReader makes the test encryptions deterministic.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 7
	}
	return len(p), nil
}

// encrypted is the valid response with its signed Assertion encrypted as
// spec says; signResponse also signs the Response around the
// EncryptedAssertion (after encryption), signAssertion=false leaves the
// Assertion unsigned.
func encrypted(spec encSpec, signAssertionToo, signResponseToo bool) build {
	return build{mode: signNone, pre: func(t testing.TB, doc *etree.Document) {
		if signAssertionToo {
			sign(t, find(t, doc, "Assertion"), sigSpec{})
		}
		encryptEl(t, find(t, doc, "Assertion"), spec)
		if signResponseToo {
			sign(t, doc.Root(), sigSpec{})
		}
	}}
}

func decProvider(t testing.TB, names ...string) Provider {
	p := testProvider(t)
	if names == nil {
		names = []string{testDecKey}
	}
	for _, n := range names {
		p.DecryptionKeys = append(p.DecryptionKeys, key(t, n).signer.(*rsa.PrivateKey))
	}
	return p
}

// TestEncryptedAssertionAccepted: an EncryptedAssertion, in each form the
// IdPs write, is decrypted with the configured key and its Assertion
// verified and read.
func TestEncryptedAssertionAccepted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		b        build
		keys     []string
		required bool
		signedR  bool
	}{
		{name: "signed assertion, aes256-gcm, rsa-oaep sha256", b: encrypted(encSpec{}, true, false)},
		{name: "required mode", b: encrypted(encSpec{}, true, false), required: true},
		{name: "rsa-oaep-mgf1p sha1", b: encrypted(encSpec{transport: algRSAOAEPMGF, digest: algTestSHA1, mgf: "-"}, true, false)},
		{name: "rsa-oaep-mgf1p, no DigestMethod", b: encrypted(encSpec{transport: algRSAOAEPMGF, digest: "-", mgf: "-"}, true, false)},
		{name: "aes128-gcm", b: encrypted(encSpec{content: algAES128GCM}, true, false)},
		{name: "EncryptedKey beside, RetrievalMethod", b: encrypted(encSpec{beside: true}, true, false)},
		{name: "signed Response over it, signed assertion", b: encrypted(encSpec{}, true, true), signedR: true},
		{name: "signed Response over it, assertion unsigned", b: encrypted(encSpec{}, false, true), signedR: true},
		{name: "the second of two keys (rotation)", b: encrypted(encSpec{}, true, false), keys: []string{testDecKey2, testDecKey}},
		{name: "plaintext in the EncryptedAssertion's namespace scope", b: encrypted(encSpec{plaintext: func(a []byte) []byte {
			return bytes.Replace(a, []byte(` xmlns:saml="`+nsAssertion+`"`), nil, 1)
		}}, true, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := decProvider(t, tc.keys...)
			p.RequireEncryption = tc.required
			got, err := Verify(context.Background(), tc.b.encode(t), p, testOptions())
			if err != nil {
				t.Fatalf("Verify: %v (%s)", err, asError(t, err).Reason)
			}
			if got.NameID != testNameID || got.ID != testAssertionID || got.Attributes[testRoleAttr][0] != testRoleValue {
				t.Fatalf("got %+v", got)
			}
			if (got.Destination != "") != tc.signedR {
				t.Errorf("Destination %q with the Response signed: %v", got.Destination, tc.signedR)
			}
		})
	}
}

// TestEncryptedAssertionRefused: SECURITY.md's rules on decryption.
func TestEncryptedAssertionRefused(t *testing.T) {
	t.Parallel()
	const I = CodeInvalidIdentityToken
	twoEncrypted := func(t testing.TB, doc *etree.Document) {
		sign(t, find(t, doc, "Assertion"), sigSpec{})
		a := find(t, doc, "Assertion")
		dup := a.Copy()
		doc.Root().AddChild(dup)
		encryptEl(t, a, encSpec{})
		encryptEl(t, dup, encSpec{})
	}
	besidePlain := func(t testing.TB, doc *etree.Document) {
		sign(t, find(t, doc, "Assertion"), sigSpec{})
		a := find(t, doc, "Assertion")
		dup := a.Copy()
		encryptEl(t, a, encSpec{})
		doc.Root().AddChild(dup)
	}
	attackerSigned := build{mode: signNone, pre: func(t testing.TB, doc *etree.Document) {
		sign(t, find(t, doc, "Assertion"), sigSpec{key: "attacker-rsa2048"})
		encryptEl(t, find(t, doc, "Assertion"), encSpec{})
	}}
	editedAfterSigning := build{mode: signNone, pre: func(t testing.TB, doc *etree.Document) {
		sign(t, find(t, doc, "Assertion"), sigSpec{})
		find(t, doc, "Assertion/Subject/NameID").SetText("admin@corp.test")
		encryptEl(t, find(t, doc, "Assertion"), encSpec{})
	}}
	responseTampered := build{mode: signNone, pre: func(t testing.TB, doc *etree.Document) {
		encryptEl(t, find(t, doc, "Assertion"), encSpec{})
		sign(t, doc.Root(), sigSpec{})
	}, post: func(t testing.TB, doc *etree.Document) {
		// Another ciphertext under the same signature.
		other := etree.NewDocument()
		b := encrypted(encSpec{keySize: 32, plaintext: func(a []byte) []byte {
			return bytes.Replace(a, []byte(testNameID), []byte("admin@corp.test"), 1)
		}}, false, false).xmlBytes(t)
		if err := other.ReadFromBytes(b); err != nil {
			t.Fatal(err)
		}
		cv := find(t, other, "EncryptedAssertion/EncryptedData/CipherData/CipherValue").Text()
		find(t, doc, "EncryptedAssertion/EncryptedData/CipherData/CipherValue").SetText(cv)
	}}
	unsignedInside := encrypted(encSpec{}, false, false)
	for _, tc := range []struct {
		name, why string
		b         build
		p         func(Provider) Provider
		msg       string
	}{
		{"CBC content encryption", "a padding oracle", encrypted(encSpec{content: algTestAES256CBC}, true, false), nil, MsgEncryptionCBC},
		{"RSA PKCS#1 v1.5 key transport", "Bleichenbacher's oracle", encrypted(encSpec{transport: algRSA15, digest: "-"}, true, false), nil, MsgKeyTransportRSA15},
		{"unknown content algorithm", "only AES-GCM", encrypted(encSpec{content: "http://www.w3.org/2001/04/xmlenc#kw-aes256", keySize: 32}, true, false), nil, MsgEncryptionAlgorithm},
		{"two EncryptedAssertions", "exactly one", build{mode: signNone, pre: twoEncrypted}, nil, MsgSignatureInvalid},
		{"EncryptedAssertion beside an Assertion", "exactly one", build{mode: signNone, pre: besidePlain}, nil, MsgEncryptedShape},
		{"unsigned Response, decrypted assertion unsigned", "encrypted to our public key by anyone", unsignedInside, nil, MsgSignatureInvalid},
		{"decrypted assertion signed by an unpinned key", "only pinned keys", attackerSigned, nil, MsgSignatureInvalid},
		{"decrypted assertion edited after signing", "the signature covers it", editedAfterSigning, nil, MsgSignatureInvalid},
		{"Response signature over another ciphertext", "the Response signature covers the EncryptedAssertion", responseTampered, nil, MsgSignatureInvalid},
		{"encrypted to another key", "the wrong key", encrypted(encSpec{to: "attacker-rsa2048"}, true, false), nil, MsgDecryptFailed},
		{"tampered ciphertext", "the GCM tag", encrypted(encSpec{tamper: true}, true, false), nil, MsgDecryptFailed},
		{"content key of the wrong size", "AES-256 needs 32 bytes", encrypted(encSpec{keySize: 16}, true, false), nil, MsgDecryptFailed},
		{"RetrievalMethod to elsewhere", "the key only from configuration", encrypted(encSpec{beside: true, retrieval: "https://evil.test/key"}, true, false), nil, MsgSignatureInvalid},
		{"required, plain assertion", "AssertionEncryptionMode Required", build{mode: signAssertion},
			func(p Provider) Provider { p.RequireEncryption = true; return p }, MsgEncryptionRequired},
		{"encrypted, no private key", "nothing to decrypt with", encrypted(encSpec{}, true, false),
			func(p Provider) Provider { p.DecryptionKeys = nil; return p }, MsgNoDecryptionKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := decProvider(t)
			if tc.p != nil {
				p = tc.p(p)
			}
			a, err := Verify(context.Background(), tc.b.encode(t), p, testOptions())
			if err == nil {
				t.Fatalf("accepted (%s): NameID %q", tc.why, a.NameID)
			}
			e := asError(t, err)
			if strings.HasPrefix(e.Reason, "panic") {
				t.Fatalf("panicked: %s", e.Reason)
			}
			if e.Code != I || e.Message != tc.msg {
				t.Errorf("got %s %q (%s), want %s %q (%s)", e.Code, e.Message, e.Reason, I, tc.msg, tc.why)
			}
			if tc.msg == MsgDecryptFailed && e.Reason != reasonDecryptFailed {
				t.Errorf("Reason %q: every decryption failure must read %q", e.Reason, reasonDecryptFailed)
			}
			t.Logf("%s: %s", tc.why, e.Reason)
		})
	}
}

// TestDecryptionOptions: bad keys configuration is the caller's error,
// not a rejection.
func TestDecryptionOptions(t *testing.T) {
	t.Parallel()
	p := testProvider(t)
	p.RequireEncryption = true
	if _, err := Verify(context.Background(), build{}.encode(t), p, testOptions()); err == nil || asErrorOK(err) {
		t.Errorf("RequireEncryption without keys: %v", err)
	}
	p = decProvider(t, testDecKey, testDecKey2, "idp-rsa2048")
	if _, err := Verify(context.Background(), build{}.encode(t), p, testOptions()); err == nil || asErrorOK(err) {
		t.Errorf("three keys: %v", err)
	}
}

func asErrorOK(err error) bool {
	_, ok := err.(*Error)
	return ok
}

// BenchmarkVerifyEncrypted: the valid signed Assertion encrypted to an
// RSA-2048 key (AES-256-GCM, RSA-OAEP): the decryption's cost on top of
// BenchmarkVerify.
func BenchmarkVerifyEncrypted(b *testing.B) {
	in := encrypted(encSpec{}, true, false).encode(b)
	p, opt := decProvider(b), testOptions()
	opt.Replay = alwaysFresh
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(context.Background(), in, p, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCrewjamDecrypt: crewjam's ServiceProvider on the same
// encrypted document, for comparison.
func BenchmarkCrewjamDecrypt(b *testing.B) {
	in := encrypted(encSpec{}, true, false).encode(b)
	doc, err := base64.StdEncoding.DecodeString(in)
	if err != nil {
		b.Fatal(err)
	}
	sp := bareServiceProvider(b, key(b, "idp-rsa2048").cert)
	sp.Key = key(b, testDecKey).signer.(*rsa.PrivateKey)
	sp.Certificate = key(b, testDecKey).cert
	acs, _ := url.Parse(testSignin)
	if _, err := sp.ParseXMLResponse(doc, nil, *acs); err != nil {
		b.Skipf("crewjam does not decrypt it: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sp.ParseXMLResponse(doc, nil, *acs); err != nil {
			b.Fatal(err)
		}
	}
}
