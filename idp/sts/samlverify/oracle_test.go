package samlverify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// The oracle is the previous verifier: the strict profile on top of
// crewjam/saml and goxmldsig (verify, engine.go), which parses the
// response five times with three tokenizers. The production path
// (verifyTree) must never accept what the oracle rejects, and must return
// the same values when both accept.

// oracleVerify runs the oracle as Verify runs the production path.
func oracleVerify(ctx context.Context, in string, p Provider, opt Options) (*Assertion, error) {
	return guarded(ctx, in, p, opt, verify)
}

// treeVerify runs the production path without the wrapper of Verify.
func treeVerify(ctx context.Context, in string, p Provider, opt Options) (a *Assertion, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, reject(CodeInvalidIdentityToken, MsgSignatureInvalid, "panic: %v", r)
		}
	}()
	a, rej, err := verifyTree(ctx, in, p, opt)
	switch {
	case err != nil:
		return nil, err
	case rej != nil:
		return nil, rej
	}
	return a, nil
}

// TestOracleTables: the oracle still passes the attack table and the
// accepted table, so that it stays a reference worth comparing against.
func TestOracleTables(t *testing.T) {
	t.Parallel()
	for _, tc := range attackTable() {
		t.Run("attack/"+tc.name, func(t *testing.T) {
			p, opt := tc.provider(t), testOptions()
			if tc.first != nil {
				if _, err := oracleVerify(context.Background(), tc.first.encode(t), p, opt); err != nil {
					t.Fatalf("first use rejected: %v", err)
				}
			}
			_, err := oracleVerify(context.Background(), tc.input(t), p, opt)
			e := asError(t, err)
			if e == nil || e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("got %v, want %s %q (%s)", err, tc.code, tc.msg, tc.why)
			}
		})
	}
	for _, tc := range acceptedTable() {
		t.Run("accepted/"+tc.name, func(t *testing.T) {
			in := ""
			if tc.raw != nil {
				in = tc.raw(t)
			} else {
				in = tc.b.encode(t)
			}
			opt := testOptions()
			if tc.opt != nil {
				tc.opt(&opt)
			}
			got, err := oracleVerify(context.Background(), in, tc.provider(t), opt)
			if err != nil {
				t.Fatalf("oracle: %v (%s)", err, asError(t, err).Reason)
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

func (tc accepted) provider(t testing.TB) Provider {
	p := testProvider(t)
	if tc.certs != nil {
		p.Certs = nil
		for _, n := range tc.certs {
			p.Certs = append(p.Certs, key(t, n).cert)
		}
	}
	return p
}

// differentialProvider pins every key the valid seeds are signed with.
func differentialProvider(t testing.TB) Provider {
	p := testProvider(t)
	p.Certs = []*x509.Certificate{key(t, "idp-rsa2048").cert, key(t, "idp-ecdsa-p256").cert, key(t, "idp-next-rsa2048").cert}
	return p
}

// gosaml2Shaped are valid responses in the shapes other SAML stacks
// write (gosaml2's fixtures, Okta, Shibboleth, ADFS): saml2p/saml2
// prefixes declared on the root, default namespaces, declarations on the
// elements that use them.
func gosaml2Shaped() map[string]build {
	rename := func(from, to string) func(testing.TB, *etree.Document) {
		return func(t testing.TB, doc *etree.Document) {
			var walk func(el *etree.Element)
			walk = func(el *etree.Element) {
				if el.Space == from {
					el.Space = to
				}
				for i := range el.Attr {
					if el.Attr[i].Space == "xmlns" && el.Attr[i].Key == from {
						el.Attr[i].Key = to
					}
				}
				for _, c := range el.ChildElements() {
					walk(c)
				}
			}
			walk(doc.Root())
		}
	}
	// toDefault puts the assertion's elements in the default namespace.
	toDefault := func(t testing.TB, doc *etree.Document) {
		a := find(t, doc, "Assertion")
		var walk func(el *etree.Element)
		walk = func(el *etree.Element) {
			if el.Space == "saml" {
				el.Space = ""
			}
			for _, c := range el.ChildElements() {
				walk(c)
			}
		}
		walk(a)
		a.RemoveAttr("xmlns:saml")
		a.CreateAttr("xmlns", nsAssertion)
	}
	hoist := func(t testing.TB, doc *etree.Document) {
		a := find(t, doc, "Assertion")
		for _, k := range []string{"xmlns:saml", "xmlns:xs", "xmlns:xsi"} {
			if v := a.SelectAttrValue(k, ""); v != "" {
				a.RemoveAttr(k)
				doc.Root().CreateAttr(k, v)
			}
		}
		find(t, doc, "Issuer").RemoveAttr("xmlns:saml")
	}
	return map[string]build{
		"gosaml2-prefixes":                 {pre: then(hoist, rename("samlp", "saml2p"), rename("saml", "saml2"))},
		"gosaml2-prefixes-response-signed": {mode: signResponse, pre: then(hoist, rename("samlp", "saml2p"), rename("saml", "saml2"))},
		"adfs-default-namespace":           {pre: toDefault},
		"adfs-default-namespace-both":      {mode: signBoth, pre: toDefault},
		"shibboleth-prefixlist-hoisted":    {pre: hoist, assertion: sigSpec{prefixList: "xs"}},
	}
}

// differentialSeeds are the valid corpus and the attacks, as documents.
func differentialSeeds(t testing.TB) (valid, attacks map[string][]byte) {
	valid, attacks = map[string][]byte{}, map[string][]byte{}
	for _, tc := range acceptedTable() {
		if tc.raw != nil || tc.opt != nil {
			continue
		}
		valid["accepted-"+seedName(tc.name)] = tc.b.xmlBytes(t)
	}
	for name, b := range gosaml2Shaped() {
		valid[name] = b.xmlBytes(t)
	}
	for _, fx := range xmlsec1Fixtures {
		doc, err := os.ReadFile(filepath.Join("testdata", "TestXmlsec1Interop_"+fx.name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		valid["xmlsec1-"+fx.name] = doc
	}
	for _, a := range attackTable() {
		if a.raw != nil {
			continue
		}
		// A document over the size limit is refused before it is read:
		// not worth megabytes of corpus.
		if doc := a.b.xmlBytes(t); len(doc) <= MaxDecodedLen {
			attacks["attack-"+seedName(a.name)] = doc
		}
	}
	return valid, attacks
}

func seedName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
}

// TestDifferentialSeedCorpus keeps testdata/fuzz/FuzzDifferential in step
// with differentialSeeds; go test -run TestDifferentialSeedCorpus -update
// rewrites it.
func TestDifferentialSeedCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzDifferential")
	valid, attacks := differentialSeeds(t)
	for _, m := range []map[string][]byte{valid, attacks} {
		for name, doc := range m {
			path := filepath.Join(dir, name)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", doc)), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("seed %s is missing (go test -run TestDifferentialSeedCorpus -update): %v", name, err)
			}
		}
	}
}

// TestDifferentialValidCorpus: on the valid corpus both verifiers accept,
// with identical values, and the canonical bytes are goxmldsig's.
func TestDifferentialValidCorpus(t *testing.T) {
	t.Parallel()
	valid, _ := differentialSeeds(t)
	p := differentialProvider(t)
	names := make([]string, 0, len(valid))
	for n := range valid {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			doc := valid[name]
			in := base64.StdEncoding.EncodeToString(doc)
			got, err := treeVerify(context.Background(), in, p, testOptions())
			if err != nil {
				t.Fatalf("verifier: %v (%s)", err, asError(t, err).Reason)
			}
			want, err := oracleVerify(context.Background(), in, p, testOptions())
			if err != nil {
				t.Fatalf("oracle: %v (%s)", err, asError(t, err).Reason)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("verifier %+v\noracle   %+v", got, want)
			}
			if n := checkCanonical(t, doc); n == 0 {
				t.Fatal("no signature compared")
			}
		})
	}
}

// TestDifferentialAttacks: every attack is rejected by both.
func TestDifferentialAttacks(t *testing.T) {
	t.Parallel()
	_, attacks := differentialSeeds(t)
	p := differentialProvider(t)
	for name, doc := range attacks {
		in := base64.StdEncoding.EncodeToString(doc)
		a, err := treeVerify(context.Background(), in, p, testOptions())
		if err == nil {
			if _, oerr := oracleVerify(context.Background(), in, p, testOptions()); oerr != nil {
				t.Errorf("%s: verifier accepts (%q), oracle rejects: %v", name, a.NameID, asError(t, oerr).Reason)
			}
		}
	}
}

// checkCanonical compares, for each signature of doc, the canonical bytes
// of the signed element (Signature removed) and of SignedInfo with
// goxmldsig's, and returns how many signatures it compared.
func checkCanonical(t testing.TB, doc []byte) int {
	t.Helper()
	root, err := readStrict(doc)
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	edoc := etree.NewDocument()
	if err := edoc.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	compared := 0
	pairs := [][2]any{{root, edoc.Root()}, {root.child("Assertion"), edoc.Root().SelectElement("Assertion")}}
	for _, pair := range pairs {
		xn, en := pair[0].(*xnode), pair[1].(*etree.Element)
		sig := xn.child("Signature")
		if sig == nil {
			continue
		}
		prefixList := ""
		if tr := sig.child("SignedInfo").child("Reference").child("Transforms").children("Transform"); len(tr) == 2 {
			prefixList = tr[1].child("InclusiveNamespaces").attr("PrefixList")
		}
		mine := canonicalize(xn, sig, prefixList, nil)
		det, err := detach(en)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range det.SelectElements("Signature") {
			det.RemoveChild(s)
		}
		theirs, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList).Canonicalize(det)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine, theirs) {
			t.Fatalf("canonical %s differs from goxmldsig's:\nours   %s\ntheirs %s", xn.local, mine, theirs)
		}
		esi := en.SelectElement("Signature").SelectElement("SignedInfo")
		ctx, err := etreeutils.NSBuildParentContext(esi)
		if err != nil {
			t.Fatal(err)
		}
		dsi, err := etreeutils.NSDetatch(ctx, esi)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(dsi)
		if err != nil {
			t.Fatal(err)
		}
		if mine := canonicalize(sig.child("SignedInfo"), nil, "", nil); !bytes.Equal(mine, theirs) {
			t.Fatalf("canonical SignedInfo of %s differs from goxmldsig's:\nours   %s\ntheirs %s", xn.local, mine, theirs)
		}
		compared++
	}
	return compared
}

// FuzzDifferential mutates valid responses and attacks. Whatever the
// verifier accepts, the oracle must accept with identical values, and the
// canonical bytes the verifier signed must be goxmldsig's.
func FuzzDifferential(f *testing.F) {
	valid, attacks := differentialSeeds(f)
	for _, m := range []map[string][]byte{valid, attacks} {
		for _, doc := range m {
			f.Add(doc)
		}
	}
	p := differentialProvider(f)
	f.Fuzz(func(t *testing.T, doc []byte) {
		in := base64.StdEncoding.EncodeToString(doc)
		got, err := treeVerify(context.Background(), in, p, testOptions())
		if err != nil {
			if e := asError(t, err); strings.HasPrefix(e.Reason, "panic") {
				t.Fatalf("verifier panicked: %s", e.Reason)
			}
			return
		}
		want, err := oracleVerify(context.Background(), in, p, testOptions())
		if err != nil {
			t.Fatalf("verifier accepts, oracle rejects: %v (%s)", err, asError(t, err).Reason)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("verifier %+v\noracle   %+v", got, want)
		}
		checkCanonical(t, doc)
	})
}

// TestXmlsec1VerifiesCanonicalForm: xmlsec1, an independent XML-DSig
// implementation, verifies the documents the verifier accepts, and the
// verifier's canonical form of them (a canonical form verifies as its
// original does only if the canonicalization kept every namespace and
// byte the signature covers).
func TestXmlsec1VerifiesCanonicalForm(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("xmlsec1"); err != nil {
		t.Fatalf("xmlsec1 is required: %v", err)
	}
	valid, _ := differentialSeeds(t)
	p := differentialProvider(t)
	dir := t.TempDir()
	for _, name := range []string{
		"accepted-Assertion-signed", "accepted-Response-signed", "accepted-InclusiveNamespaces-PrefixList-xs",
		"accepted-ECDSA-SHA256--r--s-signature--XML-DSig-", "gosaml2-prefixes", "adfs-default-namespace", "xmlsec1-rsa-sha256",
	} {
		doc, ok := valid[name]
		if !ok {
			t.Fatalf("no seed %s", name)
		}
		if _, err := treeVerify(context.Background(), base64.StdEncoding.EncodeToString(doc), p, testOptions()); err != nil {
			t.Fatalf("%s: verifier rejects: %v", name, err)
		}
		root, err := readStrict(doc)
		if err != nil {
			t.Fatal(err)
		}
		// The whole document, keeping the prefixes a signature's
		// InclusiveNamespaces names (QNames in content, xsi:type="xs:string").
		prefixList := ""
		for _, el := range []*xnode{root, root.child("Assertion")} {
			if tr := el.child("Signature").child("SignedInfo").child("Reference").child("Transforms").children("Transform"); len(tr) == 2 {
				prefixList += " " + tr[1].child("InclusiveNamespaces").attr("PrefixList")
			}
		}
		canonical := canonicalize(root, nil, prefixList, nil)
		for i, in := range [][]byte{doc, canonical} {
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.xml", name, i))
			if err := os.WriteFile(path, in, 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := xmlsec1Verify(t, dir, path); err != nil {
				t.Errorf("%s (%s): xmlsec1: %v\n%s", name, []string{"as signed", "our canonical form"}[i], err, out)
			}
		}
	}
}

// xmlsec1Verify runs xmlsec1 --verify with the pinned certificates only.
func xmlsec1Verify(t *testing.T, dir, path string) ([]byte, error) {
	args := []string{"--verify", "--enabled-key-data", "key-name,rsa,ec",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"}
	for _, n := range []string{"idp-rsa2048", "idp-ecdsa-p256"} {
		certFile := filepath.Join(dir, n+".crt")
		if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: key(t, n).cert.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--pubkey-cert-pem", certFile)
	}
	return exec.Command("xmlsec1", append(args, path)...).CombinedOutput()
}
