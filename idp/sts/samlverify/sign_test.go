package samlverify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// testKey is a key and certificate from testdata/<name>.pem, made once by
// hand (fixed validity 2020-2050, except expired-rsa2048: 2000-2001).
type testKey struct {
	signer crypto.Signer
	cert   *x509.Certificate
}

var (
	keysMu sync.Mutex
	keys   = map[string]testKey{}
)

func key(t testing.TB, name string) testKey {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[name]; ok {
		return k
	}
	data, err := os.ReadFile(filepath.Join("testdata", name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	var k testKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PRIVATE KEY":
			priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			k.signer = priv.(crypto.Signer)
		case "CERTIFICATE":
			if k.cert, err = x509.ParseCertificate(block.Bytes); err != nil {
				t.Fatal(err)
			}
		}
	}
	if k.signer == nil || k.cert == nil {
		t.Fatalf("testdata/%s.pem lacks a key or a certificate", name)
	}
	keys[name] = k
	return k
}

// sigSpec says how to sign one element. The zero value, completed by
// withDefaults, is what a well-behaved IdP does: RSA-SHA256 with the
// provider's key, SHA-256 digest, exclusive c14n, one Reference to the
// element's ID, the certificate in KeyInfo.
type sigSpec struct {
	key        string      // testdata key name
	method     string      // SignatureMethod
	hash       crypto.Hash // hash of the signature
	digestAlg  string      // DigestMethod
	digestHash crypto.Hash
	c14n       string   // CanonicalizationMethod
	transforms []string // Transform algorithms of each Reference
	// uris are the References; "#" means "#" + the element's ID. The
	// digest of every Reference is the element's.
	uris []string
	// keyInfo writes KeyInfo into the Signature; nil: X509Certificate of
	// the signing cert.
	keyInfo   func(t testing.TB, sig *etree.Element)
	noKeyInfo bool
	hmacCert  string // sign with HMAC keyed with this key's DER certificate (method must be an HMAC URI)
	rawECDSA  bool   // ECDSA SignatureValue as r||s (XML-DSig) not DER
	// prefixList is the InclusiveNamespaces PrefixList of the exclusive
	// c14n transform (Shibboleth and OneLogin send "xs").
	prefixList string
}

func (s sigSpec) withDefaults() sigSpec {
	if s.key == "" {
		s.key = "idp-rsa2048"
	}
	if s.method == "" {
		s.method = algRSASHA256
	}
	if s.hash == 0 {
		s.hash = crypto.SHA256
	}
	if s.digestAlg == "" {
		s.digestAlg, s.digestHash = algSHA256, crypto.SHA256
	}
	if s.c14n == "" {
		s.c14n = algExcC14N
	}
	if s.transforms == nil {
		s.transforms = []string{algEnveloped, algExcC14N}
	}
	if s.uris == nil {
		s.uris = []string{"#"}
	}
	return s
}

// plain reports whether spec asks for nothing goxmldsig's SigningContext
// does not do: then goxmldsig signs.
func (s sigSpec) plain() bool {
	return s.digestAlg == "" && s.c14n == "" && s.transforms == nil && s.uris == nil &&
		s.keyInfo == nil && !s.noKeyInfo && s.hmacCert == "" && !s.rawECDSA && s.prefixList == ""
}

// signWithGoxmldsig signs el with goxmldsig's SigningContext: exclusive
// c14n, the digest of the signature method's hash, the certificate in
// KeyInfo.
func signWithGoxmldsig(t testing.TB, el *etree.Element, k testKey, method string) {
	t.Helper()
	ctx, err := dsig.NewSigningContext(k.signer, [][]byte{k.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	detached, err := detach(el)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(detached)
	if err != nil {
		t.Fatal(err)
	}
	sig := signed.SelectElement("Signature")
	signed.RemoveChild(sig)
	el.InsertChildAt(issuerIndex(el)+1, sig)
}

// sign adds an enveloped Signature to el (a Response or Assertion in
// doc), after its Issuer, as spec says.
func sign(t testing.TB, el *etree.Element, spec sigSpec) {
	t.Helper()
	plain := spec.plain()
	spec = spec.withDefaults()
	k := key(t, spec.key)
	if plain {
		signWithGoxmldsig(t, el, k, spec.method)
		return
	}

	// The digest: el without any Signature of its own, canonicalized as
	// the last c14n transform says.
	detached, err := detach(el)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range detached.SelectElements("Signature") {
		detached.RemoveChild(s)
	}
	canon := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(spec.prefixList)
	for _, tr := range spec.transforms {
		if tr == string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId) {
			canon = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList(spec.prefixList)
		}
	}
	data, err := canon.Canonicalize(detached)
	if err != nil {
		t.Fatal(err)
	}
	h := spec.digestHash.New()
	h.Write(data)
	digest := base64.StdEncoding.EncodeToString(h.Sum(nil))

	sig := etree.NewElement("ds:Signature")
	sig.CreateAttr("xmlns:ds", nsDSig)
	si := sig.CreateElement("ds:SignedInfo")
	si.CreateElement("ds:CanonicalizationMethod").CreateAttr("Algorithm", spec.c14n)
	si.CreateElement("ds:SignatureMethod").CreateAttr("Algorithm", spec.method)
	for _, uri := range spec.uris {
		if uri == "#" {
			uri = "#" + el.SelectAttrValue("ID", "")
		}
		ref := si.CreateElement("ds:Reference")
		ref.CreateAttr("URI", uri)
		trs := ref.CreateElement("ds:Transforms")
		for _, tr := range spec.transforms {
			el := trs.CreateElement("ds:Transform")
			el.CreateAttr("Algorithm", tr)
			if tr == algExcC14N && spec.prefixList != "" {
				in := el.CreateElement("ec:InclusiveNamespaces")
				in.CreateAttr("xmlns:ec", nsExcC14N)
				in.CreateAttr("PrefixList", spec.prefixList)
			}
		}
		ref.CreateElement("ds:DigestMethod").CreateAttr("Algorithm", spec.digestAlg)
		ref.CreateElement("ds:DigestValue").SetText(digest)
	}
	sig.CreateElement("ds:SignatureValue").SetText(signatureValue(t, sig, k, spec))
	switch {
	case spec.noKeyInfo:
	case spec.keyInfo != nil:
		spec.keyInfo(t, sig)
	default:
		sig.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
			SetText(base64.StdEncoding.EncodeToString(k.cert.Raw))
	}
	el.InsertChildAt(issuerIndex(el)+1, sig)
}

// resign recomputes the SignatureValue of sig after its SignedInfo was
// edited, with the key of spec.
func resign(t testing.TB, sig *etree.Element, spec sigSpec) {
	t.Helper()
	spec = spec.withDefaults()
	sv := sig.SelectElement("SignatureValue")
	sv.SetText(signatureValue(t, sig, key(t, spec.key), spec))
}

// signatureValue signs the canonical SignedInfo of sig.
func signatureValue(t testing.TB, sig *etree.Element, k testKey, spec sigSpec) string {
	t.Helper()
	si := sig.SelectElement("SignedInfo")
	ctx, err := etreeutils.NSBuildParentContext(si)
	if err != nil {
		t.Fatal(err)
	}
	detached, err := etreeutils.NSDetatch(ctx, si)
	if err != nil {
		t.Fatal(err)
	}
	canon := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if spec.c14n == string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId) {
		canon = dsig.MakeC14N10ExclusiveWithCommentsCanonicalizerWithPrefixList("")
	}
	data, err := canon.Canonicalize(detached)
	if err != nil {
		t.Fatal(err)
	}
	if spec.hmacCert != "" {
		m := hmac.New(spec.hash.New, key(t, spec.hmacCert).cert.Raw)
		m.Write(data)
		return base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	h := spec.hash.New()
	h.Write(data)
	v, err := k.signer.Sign(rand.Reader, h.Sum(nil), spec.hash)
	if err != nil {
		t.Fatal(err)
	}
	if ek, ok := k.signer.Public().(*ecdsa.PublicKey); ok && spec.rawECDSA {
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(v, &rs); err != nil {
			t.Fatal(err)
		}
		size := (ek.Curve.Params().BitSize + 7) / 8
		v = make([]byte, 2*size)
		rs.R.FillBytes(v[:size])
		rs.S.FillBytes(v[size:])
	}
	return base64.StdEncoding.EncodeToString(v)
}

// detach copies el with the namespace declarations it inherits.
func detach(el *etree.Element) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	return etreeutils.NSDetatch(ctx, el)
}

func issuerIndex(el *etree.Element) int {
	for i, c := range el.Child {
		if e, ok := c.(*etree.Element); ok && e.Tag == "Issuer" {
			return i
		}
	}
	return -1
}
