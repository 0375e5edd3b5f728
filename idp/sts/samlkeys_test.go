package sts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"idpbridge/idp/sts/samlverify"
)

// decryptionKeyFile writes the private key of k as PKCS#8 PEM and returns
// its path.
func decryptionKeyFile(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "saml-decryption.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSAMLEncryptionConfig: assertion_encryption and private_keys are
// checked, each problem naming its key.
func TestSAMLEncryptionConfig(t *testing.T) {
	t.Parallel()
	md := metadataFile(t, samlIssuer, testSAMLKey(t, "example"))
	good := decryptionKeyFile(t, testSAMLKey(t, "sp-decryption").key)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallFile := decryptionKeyFile(t, small)
	certFile := filepath.Join(t.TempDir(), "cert.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testSAMLKey(t, "example").cert.Raw}), 0o600)
	id := DecryptionKeyID(&testSAMLKey(t, "sp-decryption").key.PublicKey)
	for _, tc := range []struct{ name, fields, want string }{
		{"unknown mode", `assertion_encryption: always`, `sts.accounts[0].saml_providers[0].assertion_encryption: "always" is not one of allowed, required`},
		{"required without a key", `assertion_encryption: required`, `sts.accounts[0].saml_providers[0].private_keys: required by assertion_encryption: required`},
		{"three keys", `private_keys: [` + good + `, 0123456789abcdef, fedcba9876543210]`, `sts.accounts[0].saml_providers[0].private_keys: 3 keys: at most 2`},
		{"missing file", `private_keys: [/nonexistent/key.pem]`, `sts.accounts[0].saml_providers[0].private_keys[0]: /nonexistent/key.pem: no such file or directory`},
		{"1024-bit key", `private_keys: [` + smallFile + `]`, `RSA key of 1024 bits, at least 2048`},
		{"a certificate, not a key", `private_keys: [` + certFile + `]`, `PEM block "CERTIFICATE" is not a private key`},
		{"the same key twice", `private_keys: [` + good + `, ` + id + `]`, `sts.accounts[0].saml_providers[0].private_keys[1]: key ` + id + ` is listed twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "accounts:\n  - id: \"123456789012\"\n    saml_providers:\n      - {name: MySAMLIdP, metadata_file: " + md + ", " + strings.ReplaceAll(tc.fields, ": ", ": ") + "}\n"
			src = strings.Replace(src, "{name: MySAMLIdP, metadata_file: "+md+", "+tc.fields+"}", "\n        name: MySAMLIdP\n        metadata_file: "+md+"\n        "+tc.fields, 1)
			problems := validate(t, src, nil)
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want one containing %q", problems, tc.want)
			}
		})
	}
	d := buildDirectory(t, "accounts:\n  - id: \"123456789012\"\n    saml_providers:\n      - name: MySAMLIdP\n        metadata_file: "+md+
		"\n        assertion_encryption: required\n        private_keys: ["+good+"]\n", nil)
	p, ok := d.SAMLProviderByARN(mySAMLIdP)
	if !ok || !p.Encryption.Required || len(p.Encryption.PrivateKeys) != 1 || p.Encryption.PrivateKeys[0].ID != id || p.Encryption.PrivateKeys[0].Key == nil {
		t.Fatalf("provider %+v", p)
	}
}

// encryptedSAMLConfig is samlConfig with MySAMLIdP decrypting with
// KEY_FILE in the given mode.
func encryptedSAMLEnv(t testing.TB, mode string, opts ...envOption) *testEnv {
	t.Helper()
	md := metadataFile(t, samlIssuer, testSAMLKey(t, "example"))
	key := decryptionKeyFile(t, testSAMLKey(t, "sp-decryption").key)
	cfg := strings.Replace(samlConfig, "{name: MySAMLIdP, metadata_file: METADATA_FILE}",
		"{name: MySAMLIdP, metadata_file: "+md+", assertion_encryption: "+mode+", private_keys: ["+key+"]}", 1)
	self := testSAMLKey(t, "self")
	opts = append([]envOption{withBuild(func(b *BuildOptions) {
		b.SelfCerts = func(context.Context) ([]*x509.Certificate, error) { return []*x509.Certificate{self.cert}, nil }
	})}, opts...)
	return newEnv(t, cfg, opts...)
}

// xmlsec1Encrypt encrypts the signed Assertion of the base64 response to
// cert with xmlsec1 (libxmlsec1 1.2 writes AES-256-GCM with
// RSA-OAEP-MGF1P and SHA-1), inside a saml:EncryptedAssertion.
func xmlsec1Encrypt(t testing.TB, responseB64 string, cert *x509.Certificate) string {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmlsec1 is required under CI=true")
		}
		t.Skip("xmlsec1 is not installed")
	}
	raw, err := base64.StdEncoding.DecodeString(responseB64)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start, end := strings.Index(doc, "<saml:Assertion "), strings.Index(doc, "</saml:Assertion>")+len("</saml:Assertion>")
	doc = doc[:start] + "<saml:EncryptedAssertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\">" + doc[start:end] + "</saml:EncryptedAssertion>" + doc[end:]
	dir := t.TempDir()
	in, tmpl, certFile := filepath.Join(dir, "in.xml"), filepath.Join(dir, "tmpl.xml"), filepath.Join(dir, "cert.pem")
	const template = `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">` +
		`<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>` +
		`<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>` +
		`<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>` +
		`<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>`
	for name, b := range map[string][]byte{in: []byte(doc), tmpl: []byte(template),
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(bin, "--encrypt", "--pubkey-cert-pem", certFile, "--session-key", "aes-256",
		"--xml-data", in, "--node-name", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", tmpl).Output()
	if err != nil {
		t.Fatalf("xmlsec1 --encrypt: %v", err)
	}
	if !strings.Contains(string(out), "<xenc:EncryptedData") || strings.Contains(string(out), "<saml:Assertion") {
		t.Fatalf("xmlsec1 wrote %s", out)
	}
	// xmlsec1 writes an XML declaration without an encoding: the strict
	// reader takes the document without it.
	s := strings.TrimPrefix(string(out), "<?xml version=\"1.0\"?>\n")
	return base64.StdEncoding.EncodeToString([]byte(s))
}

// TestAssumeRoleWithSAMLEncryptedByXmlsec1: xmlsec1 encrypts an assertion
// signed by the IdP to the provider's decryption key; the STS decrypts it,
// verifies the decrypted Assertion and issues credentials through the AWS
// SDK. With assertion_encryption: required, the same assertion in the
// clear is refused.
func TestAssumeRoleWithSAMLEncryptedByXmlsec1(t *testing.T) {
	t.Parallel()
	e := encryptedSAMLEnv(t, "required")
	dec := testSAMLKey(t, "sp-decryption")
	ctx := context.Background()
	enc := xmlsec1Encrypt(t, exampleAssertion(t, nil), dec.cert)
	out, err := e.sdkClient(nil).AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(fedDevRoleARN), PrincipalArn: aws.String(mySAMLIdP), SAMLAssertion: aws.String(enc),
	})
	if err != nil {
		t.Fatalf("AssumeRoleWithSAML: %v", err)
	}
	if aws.ToString(out.Subject) != "diego@example.com" || aws.ToString(out.SourceIdentity) != "DiegoRamirez" || out.Credentials == nil {
		t.Fatalf("out %+v", out)
	}

	_, err = e.sdkClient(nil).AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{
		RoleArn: aws.String(fedDevRoleARN), PrincipalArn: aws.String(mySAMLIdP), SAMLAssertion: aws.String(exampleAssertion(t, nil)),
	})
	wantAPIError(t, err, CodeInvalidIdentityToken)
	if !strings.Contains(err.Error(), samlverify.MsgEncryptionRequired) {
		t.Fatalf("plain assertion under required: %v", err)
	}

	// Encrypted to another key: the same error as any decryption failure.
	other := xmlsec1Encrypt(t, exampleAssertion(t, nil), testSAMLKey(t, "attacker").cert)
	r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, other))
	wantError(t, r, 400, CodeInvalidIdentityToken, samlverify.MsgDecryptFailed)
}

// TestAssumeRoleWithSAMLEncryptedNoKey: a provider without private_keys
// refuses an EncryptedAssertion, saying why; in allowed mode a plain
// assertion is still accepted.
func TestAssumeRoleWithSAMLEncryptedNoKey(t *testing.T) {
	t.Parallel()
	e := newSAMLEnv(t)
	enc := xmlsec1Encrypt(t, exampleAssertion(t, nil), testSAMLKey(t, "sp-decryption").cert)
	r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, enc))
	wantError(t, r, 400, CodeInvalidIdentityToken, samlverify.MsgNoDecryptionKey)

	a := encryptedSAMLEnv(t, "allowed")
	if r := a.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, exampleAssertion(t, nil))); r.status != 200 {
		t.Fatalf("plain assertion under allowed: %d %s", r.status, r.body)
	}
}

// TestSealedDecryptionKeys: serve imports a private_keys PEM file sealed
// into the store once; the provider decrypts with the sealed copy; a later
// configuration may name the key by ID alone; the sealed copy opens only
// with the key-encryption key.
func TestSealedDecryptionKeys(t *testing.T) {
	t.Parallel()
	md := metadataFile(t, samlIssuer, testSAMLKey(t, "example"))
	dec := testSAMLKey(t, "sp-decryption").key
	file := decryptionKeyFile(t, dec)
	id := DecryptionKeyID(&dec.PublicKey)
	cfg := func(entry string) string {
		return "accounts:\n  - id: \"123456789012\"\n    saml_providers:\n      - name: MySAMLIdP\n        metadata_file: " + md +
			"\n        private_keys: [" + entry + "]\n"
	}
	s := openTestStore(t)
	kek := bytes.Repeat([]byte{3}, 32)
	ctx := context.Background()

	d := buildDirectory(t, cfg(file), nil)
	if err := UseSealedDecryptionKeys(ctx, d, s, kek, rand.Reader, testNow, nil); err != nil {
		t.Fatal(err)
	}
	stored, err := s.ListSAMLProviderKeys(ctx, mySAMLIdP)
	if err != nil || len(stored) != 1 || stored[0].ID != id {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(dec)
	if bytes.Contains(stored[0].EncryptedKey, der[len(der)-64:]) {
		t.Fatal("the stored key is not sealed")
	}
	p, _ := d.SAMLProviderByARN(mySAMLIdP)
	keys, err := p.decryptionKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].Equal(dec) {
		t.Fatalf("decryption keys %v, %v", keys, err)
	}

	// Named by ID: the sealed copy, imported before.
	byID := buildDirectory(t, cfg(id), nil)
	if err := UseSealedDecryptionKeys(ctx, byID, s, kek, rand.Reader, testNow, nil); err != nil {
		t.Fatal(err)
	}
	p, _ = byID.SAMLProviderByARN(mySAMLIdP)
	if keys, err := p.decryptionKeys(ctx); err != nil || len(keys) != 1 || !keys[0].Equal(dec) {
		t.Fatalf("by ID: %v, %v", keys, err)
	}
	if err := UseSealedDecryptionKeys(ctx, buildDirectory(t, cfg(id), nil), s, bytes.Repeat([]byte{4}, 32), rand.Reader, testNow, nil); err == nil ||
		!strings.Contains(err.Error(), "does not open with the key-encryption key") {
		t.Fatalf("another KEK: %v", err)
	}
	if err := UseSealedDecryptionKeys(ctx, buildDirectory(t, cfg("0123456789abcdef"), nil), s, kek, rand.Reader, testNow, nil); err == nil ||
		!strings.Contains(err.Error(), "private key 0123456789abcdef is not in the database") {
		t.Fatalf("unknown ID: %v", err)
	}
}
