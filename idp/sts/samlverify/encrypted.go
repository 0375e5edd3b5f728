package samlverify

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	_ "crypto/sha1" // OAEP's default digest and MGF1 hash
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/base64"
	"strconv"
	"strings"
)

// Encrypted assertions (saml:EncryptedAssertion, XML Encryption 1.1).
//
// The rules, from SECURITY.md:
//   - exactly one EncryptedAssertion and no Assertion beside it (the reader
//     allows at most one of each, verifyTree exactly one of the two);
//   - the key only from the provider's configuration (Provider.DecryptionKeys):
//     a KeyInfo's X509Data or KeyName is read past, a RetrievalMethod may only
//     name the EncryptedKey beside the EncryptedData, and nothing is fetched;
//   - content encryption AES-GCM only: CBC is refused before any key is
//     used, so that no padding oracle exists;
//   - key transport RSA-OAEP only: RSA PKCS#1 v1.5 is refused likewise;
//   - every failure of the decryption itself (the RSA unwrap with each key,
//     a key of the wrong size, the GCM tag) gives one identical error, in
//     Message and in Reason;
//   - the decrypted Assertion is read by the same strict reader, in the
//     place of the EncryptedAssertion, and its signature is verified with
//     the same profile. An unsigned Response around an EncryptedAssertion
//     therefore proves nothing unless the decrypted Assertion is signed by
//     a pinned key.

// Messages of rejected encrypted (or not encrypted) assertions.
const (
	MsgEncryptionRequired  = "The SAML provider requires an encrypted assertion: the response holds a plain Assertion"
	MsgNoDecryptionKey     = "The response holds an EncryptedAssertion but the SAML provider has no private key to decrypt it"
	MsgDecryptFailed       = "Unable to decrypt the EncryptedAssertion with the SAML provider's private keys"
	MsgEncryptionCBC       = "EncryptedAssertion uses CBC content encryption: only AES-GCM is accepted"
	MsgKeyTransportRSA15   = "EncryptedAssertion uses RSA PKCS#1 v1.5 key transport: only RSA-OAEP is accepted"
	MsgEncryptionAlgorithm = "EncryptedAssertion uses an unsupported encryption algorithm"
	MsgEncryptedShape      = "Response must hold exactly one Assertion or one EncryptedAssertion"
)

// reasonDecryptFailed is the Reason of every decryption failure: it says
// no more than the Message, so that neither tells a caller which step
// failed.
const reasonDecryptFailed = "decryption failed"

// Algorithm identifiers of XML Encryption.
const (
	algAES128GCM  = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	algAES192GCM  = "http://www.w3.org/2009/xmlenc11#aes192-gcm"
	algAES256GCM  = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	algRSAOAEP    = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
	algRSAOAEPMGF = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
	algRSA15      = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"
	typeElement   = "http://www.w3.org/2001/04/xmlenc#Element"
	typeEncKey    = "http://www.w3.org/2001/04/xmlenc#EncryptedKey"
)

var gcmKeySizes = map[string]int{algAES128GCM: 16, algAES192GCM: 24, algAES256GCM: 32}

var cbcAlgorithms = map[string]bool{
	"http://www.w3.org/2001/04/xmlenc#aes128-cbc":    true,
	"http://www.w3.org/2001/04/xmlenc#aes192-cbc":    true,
	"http://www.w3.org/2001/04/xmlenc#aes256-cbc":    true,
	"http://www.w3.org/2001/04/xmlenc#tripledes-cbc": true,
}

// oaepDigests are the DigestMethods of RSA-OAEP (the hash of the label).
var oaepDigests = map[string]crypto.Hash{
	"http://www.w3.org/2000/09/xmldsig#sha1":        crypto.SHA1,
	"http://www.w3.org/2001/04/xmlenc#sha256":       crypto.SHA256,
	"http://www.w3.org/2001/04/xmldsig-more#sha384": crypto.SHA384,
	"http://www.w3.org/2001/04/xmlenc#sha512":       crypto.SHA512,
}

// mgfHashes are the MGF algorithms of xmlenc11#rsa-oaep.
var mgfHashes = map[string]crypto.Hash{
	"http://www.w3.org/2009/xmlenc11#mgf1sha1":   crypto.SHA1,
	"http://www.w3.org/2009/xmlenc11#mgf1sha224": crypto.SHA224,
	"http://www.w3.org/2009/xmlenc11#mgf1sha256": crypto.SHA256,
	"http://www.w3.org/2009/xmlenc11#mgf1sha384": crypto.SHA384,
	"http://www.w3.org/2009/xmlenc11#mgf1sha512": crypto.SHA512,
}

// MaxDecryptionKeys bounds Provider.DecryptionKeys (AWS allows two per
// SAML provider, for rotation).
const MaxDecryptionKeys = 2

// decryptionPlan is an EncryptedAssertion that passed the algorithm
// rules: what to decrypt, and how.
type decryptionPlan struct {
	keySize     int // of the AES-GCM content key
	oaep        rsa.OAEPOptions
	wrappedKey  []byte
	ciphertext  []byte
	encAssertEl *xnode
}

// planDecryption checks the shape and algorithms of enc. Its rejections
// depend only on what the response says in the clear.
func planDecryption(enc *xnode) (*decryptionPlan, *Error) {
	ed := enc.child("EncryptedData")
	if t := ed.attr("Type"); ed.hasAttr("Type") && t != typeElement {
		return nil, invalid("EncryptedData Type %q, not %q", t, typeElement)
	}
	alg := ed.child("EncryptionMethod").attr("Algorithm")
	plan := &decryptionPlan{encAssertEl: enc}
	switch {
	case gcmKeySizes[alg] != 0:
		plan.keySize = gcmKeySizes[alg]
	case cbcAlgorithms[alg]:
		return nil, reject(CodeInvalidIdentityToken, MsgEncryptionCBC, "content encryption %q: CBC decryption would be a padding oracle", alg)
	default:
		return nil, reject(CodeInvalidIdentityToken, MsgEncryptionAlgorithm, "content encryption %q", alg)
	}

	ki := ed.child("KeyInfo")
	inner, beside := ki.child("EncryptedKey"), enc.child("EncryptedKey")
	ek := inner
	switch {
	case inner != nil && beside != nil:
		return nil, invalid("two EncryptedKeys: one in the EncryptedData's KeyInfo, one beside it")
	case inner == nil && beside == nil:
		return nil, invalid("no EncryptedKey")
	case beside != nil:
		ek = beside
	}
	if rm := ki.child("RetrievalMethod"); rm != nil {
		if beside == nil || !beside.hasAttr("Id") || rm.attr("URI") != "#"+beside.attr("Id") {
			return nil, invalid("RetrievalMethod URI %q does not name the EncryptedKey beside the EncryptedData", rm.attr("URI"))
		}
		if rm.hasAttr("Type") && rm.attr("Type") != typeEncKey {
			return nil, invalid("RetrievalMethod Type %q", rm.attr("Type"))
		}
	}
	if dr := ek.child("ReferenceList").child("DataReference"); dr != nil {
		if !ed.hasAttr("Id") || dr.attr("URI") != "#"+ed.attr("Id") {
			return nil, invalid("EncryptedKey's DataReference %q does not name the EncryptedData", dr.attr("URI"))
		}
	}

	em := ek.child("EncryptionMethod")
	kalg := em.attr("Algorithm")
	switch kalg {
	case algRSAOAEPMGF, algRSAOAEP:
	case algRSA15:
		return nil, reject(CodeInvalidIdentityToken, MsgKeyTransportRSA15, "key transport %q: PKCS#1 v1.5 decryption would be a padding oracle", kalg)
	default:
		return nil, reject(CodeInvalidIdentityToken, MsgEncryptionAlgorithm, "key transport %q", kalg)
	}
	plan.oaep.Hash, plan.oaep.MGFHash = crypto.SHA1, crypto.SHA1
	if dm := em.child("DigestMethod"); dm != nil {
		h, ok := oaepDigests[dm.attr("Algorithm")]
		if !ok {
			return nil, reject(CodeInvalidIdentityToken, MsgEncryptionAlgorithm, "RSA-OAEP DigestMethod %q", dm.attr("Algorithm"))
		}
		plan.oaep.Hash = h
	}
	if mgf := em.child("MGF"); mgf != nil {
		h, ok := mgfHashes[mgf.attr("Algorithm")]
		if !ok || kalg != algRSAOAEP {
			return nil, reject(CodeInvalidIdentityToken, MsgEncryptionAlgorithm, "RSA-OAEP MGF %q with %q", mgf.attr("Algorithm"), kalg)
		}
		plan.oaep.MGFHash = h
	}
	if p := em.child("OAEPparams"); p != nil {
		label, err := decodeBase64Text(p.text())
		if err != nil {
			return nil, invalid("OAEPparams: %v", err)
		}
		plan.oaep.Label = label
	}
	if ks := em.child("KeySize"); ks != nil {
		return nil, invalid("KeySize on the key transport method")
	}
	if ks := ed.child("EncryptionMethod").child("KeySize"); ks != nil && strings.TrimSpace(ks.text()) != strconv.Itoa(plan.keySize*8) {
		return nil, invalid("KeySize %q does not match %q", ks.text(), alg)
	}

	var err error
	if plan.wrappedKey, err = decodeBase64Text(ek.child("CipherData").child("CipherValue").text()); err != nil {
		return nil, invalid("EncryptedKey CipherValue: %v", err)
	}
	if plan.ciphertext, err = decodeBase64Text(ed.child("CipherData").child("CipherValue").text()); err != nil {
		return nil, invalid("EncryptedData CipherValue: %v", err)
	}
	return plan, nil
}

// decrypt unwraps the content key with one of keys and opens the AES-GCM
// ciphertext (nonce, ciphertext, tag). Every failure is the same error.
func (plan *decryptionPlan) decrypt(keys []*rsa.PrivateKey) ([]byte, *Error) {
	failed := reject(CodeInvalidIdentityToken, MsgDecryptFailed, reasonDecryptFailed)
	var contentKey []byte
	for _, k := range keys {
		if k == nil || len(plan.wrappedKey) != k.Size() {
			continue
		}
		ck, err := k.Decrypt(nil, plan.wrappedKey, &plan.oaep)
		if err == nil && len(ck) == plan.keySize {
			contentKey = ck
			break
		}
	}
	if contentKey == nil {
		return nil, failed
	}
	block, err := aes.NewCipher(contentKey)
	if err != nil {
		return nil, failed
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil || len(plan.ciphertext) < gcm.NonceSize()+gcm.Overhead() {
		return nil, failed
	}
	nonce, sealed := plan.ciphertext[:gcm.NonceSize()], plan.ciphertext[gcm.NonceSize():]
	plain, err := gcm.Open(nil, nonce, sealed, nil)
	if err != nil {
		return nil, failed
	}
	return plain, nil
}

// decryptInto replaces root's EncryptedAssertion with the Assertion it
// holds, read by the strict reader in its place: within the scope, depth
// and element budget of the response around it.
func decryptInto(root *xnode, p Provider) *Error {
	enc := root.child("EncryptedAssertion")
	plan, rej := planDecryption(enc)
	if rej != nil {
		return rej
	}
	plain, rej := plan.decrypt(p.DecryptionKeys)
	if rej != nil {
		return rej
	}
	// XML Encryption puts the plaintext in the EncryptedData's place: in
	// the scope of the EncryptedAssertion.
	assertion, err := readRooted(plain, rootSpec{nsAssertion, "Assertion", "saml:Assertion", assertionRule}, enc.scope, 1, countElements(root))
	if err != nil {
		return invalid("decrypted assertion: xml: %v", err)
	}
	if id := assertion.attr("ID"); id == root.attr("ID") {
		return invalid("decrypted assertion: ID %q is the Response's", id)
	}
	assertion.parent = root
	for i, k := range root.kids {
		if k == enc {
			root.kids[i] = assertion
		}
	}
	return nil
}

// decodeBase64Text decodes base64 text that may be wrapped in white space.
func decodeBase64Text(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	return base64.StdEncoding.Strict().DecodeString(s)
}

// countElements is the number of elements of the tree under n.
func countElements(n *xnode) int {
	c := 1
	for _, k := range n.kids {
		c += countElements(k)
	}
	return c
}
