package sso

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// withEncryptionKey gives the test SP "app" metadata that publishes its
// certificate for encryption too (crewjam's ServiceProvider.Metadata).
func withEncryptionKey(t testing.TB) func(*Options) {
	return func(o *Options) {
		md, err := xml.Marshal(newTestSP(t).Metadata())
		if err != nil {
			t.Fatal(err)
		}
		read := o.ReadFile
		o.ReadFile = func(name string) ([]byte, error) {
			if name == spMetaPath {
				return md, nil
			}
			return read(name)
		}
	}
}

// encryptedParts checks the Response holds one EncryptedAssertion, no
// Assertion in the clear, with AES-256-GCM content and xmlenc11 RSA-OAEP
// (SHA-1) key transport, and says whether the Response is signed.
func encryptedParts(t *testing.T, resp []byte) (responseSigned bool) {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(resp); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	if root.SelectElement("Assertion") != nil || len(root.SelectElements("EncryptedAssertion")) != 1 {
		t.Fatalf("want exactly one EncryptedAssertion and no Assertion:\n%s", resp)
	}
	if m := doc.FindElement("//EncryptedAssertion/EncryptedData/EncryptionMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != "http://www.w3.org/2009/xmlenc11#aes256-gcm" {
		t.Fatalf("content encryption %v", m)
	}
	km := doc.FindElement("//EncryptedAssertion/EncryptedData/KeyInfo/EncryptedKey/EncryptionMethod")
	if km == nil || km.SelectAttrValue("Algorithm", "") != "http://www.w3.org/2009/xmlenc11#rsa-oaep" ||
		km.SelectElement("DigestMethod").SelectAttrValue("Algorithm", "") != "http://www.w3.org/2000/09/xmldsig#sha1" {
		t.Fatalf("key transport %v", km)
	}
	if bytes.Contains(resp, []byte("alice")) {
		t.Fatal("the person's name is readable in the encrypted response")
	}
	return root.SelectElement("Signature") != nil
}

// TestEncryptedAssertionInterop: to an SP whose metadata publishes an
// encryption key, the assertion goes signed then encrypted, in every sign
// mode; gosaml2 and crewjam's ServiceProvider (independent SAML SPs)
// decrypt it and validate its signatures, and refuse it once the
// ciphertext is changed.
func TestEncryptedAssertionInterop(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode           string
		responseSigned bool
	}{{SignAssertion, false}, {SignResponse, true}, {SignBoth, true}} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, func(o *Options) {
				withEncryptionKey(t)(o)
				o.ServiceProviders[1].Sign = tc.mode
			})
			resp, _ := idpInitiatedResponse(t, env)
			if got := encryptedParts(t, resp); got != tc.responseSigned {
				t.Fatalf("Response signed %v, want %v", got, tc.responseSigned)
			}

			sp := gosaml2SP(env)
			k, c := spKeyPair(t)
			sp.SPKeyStore = dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k})
			info, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(resp))
			if err != nil {
				t.Fatalf("gosaml2 rejects the encrypted response: %v", err)
			}
			if w := info.WarningInfo; w.InvalidTime || w.NotInAudience || w.OneTimeUse || w.ProxyRestriction != nil {
				t.Fatalf("gosaml2 warnings: %+v", w)
			}
			if !info.Assertions[0].SignatureValidated && !info.ResponseSignatureValidated {
				t.Fatal("gosaml2 validated no signature")
			}
			if info.NameID != "alice" || len(info.Values) != len(aliceAWSAttributes()) {
				t.Errorf("gosaml2: NameID %q, %d attributes", info.NameID, len(info.Values))
			}

			a := verifyCrewjam(t, env, spEntityID, spACS, resp, nil)
			if a.Subject.NameID.Value != "alice" || a.Signature == nil {
				t.Errorf("crewjam: NameID %q, Assertion signed %v (sign then encrypt)", a.Subject.NameID.Value, a.Signature != nil)
			}

			doc := etree.NewDocument()
			doc.ReadFromBytes(resp)
			cv := doc.FindElement("//EncryptedAssertion/EncryptedData/CipherData/CipherValue")
			raw, _ := base64.StdEncoding.DecodeString(cv.Text())
			raw[len(raw)/2] ^= 1
			cv.SetText(base64.StdEncoding.EncodeToString(raw))
			forged, _ := doc.WriteToBytes()
			if _, err := sp.RetrieveAssertionInfo(base64.StdEncoding.EncodeToString(forged)); err == nil {
				t.Fatal("gosaml2 accepts a changed ciphertext")
			}
		})
	}
}

// TestEncryptionConfig: encryption_cert encrypts to an SP whose metadata
// publishes no encryption key (inline PEM or a file, taking precedence);
// encrypt: false sends the assertion in the clear to one that does; the
// aws preset (AWS's metadata has no encryption key) sends it in the clear
// unless encryption_cert is set.
func TestEncryptionConfig(t *testing.T) {
	t.Parallel()
	_, c := spKeyPair(t)
	pemCert := string(certPEM(c))
	no := false
	for _, tc := range []struct {
		name    string
		edit    func(*Options)
		sp      string
		encrypt bool
	}{
		{"metadata without a key", nil, "app", false},
		{"encryption_cert inline", func(o *Options) { o.ServiceProviders[1].EncryptionCert = pemCert }, "app", true},
		{"encryption_cert file", func(o *Options) {
			read := o.ReadFile
			o.ReadFile = func(n string) ([]byte, error) {
				if n == "/etc/idpbridge/sp-enc.pem" {
					return []byte(pemCert), nil
				}
				return read(n)
			}
			o.ServiceProviders[1].EncryptionCert = "/etc/idpbridge/sp-enc.pem"
		}, "app", true},
		{"metadata with a key", withEncryptionKey(t), "app", true},
		{"metadata with a key, encrypt false", func(o *Options) { withEncryptionKey(t)(o); o.ServiceProviders[1].Encrypt = &no }, "app", false},
		{"aws preset", nil, "aws", false},
		{"aws preset with encryption_cert", func(o *Options) { o.ServiceProviders[0].EncryptionCert = pemCert }, "aws", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, tc.edit)
			w := env.do("GET", "/saml/idp-initiated?sp="+tc.sp, nil, env.sessions.signIn(alice))
			if w.Code != 200 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			resp := parsePostForm(t, w.Body.String()).SAMLResponse
			if got := bytes.Contains(resp, []byte("EncryptedAssertion")); got != tc.encrypt {
				t.Fatalf("encrypted %v, want %v", got, tc.encrypt)
			}
			if tc.encrypt {
				encryptedParts(t, resp)
				if tc.sp == "app" {
					verifyCrewjam(t, env, spEntityID, spACS, resp, nil)
				}
			}
		})
	}
}

// TestEncryptionConfigProblems: bad encryption settings name their key.
func TestEncryptionConfigProblems(t *testing.T) {
	t.Parallel()
	_, c := spKeyPair(t)
	no := false
	base := ServiceProviderConfig{Name: "app", Mapping: "aws-map", EntityID: "https://app.test", ACSURL: "https://app.test/acs"}
	files := map[string][]byte{"/x/key.pem": []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}
	read := func(n string) ([]byte, error) {
		if b, ok := files[n]; ok {
			return b, nil
		}
		return nil, &notFound{n}
	}
	for _, tc := range []struct {
		name string
		edit func(*ServiceProviderConfig)
		want string
	}{
		{"encrypt false with a cert", func(s *ServiceProviderConfig) { s.EncryptionCert, s.Encrypt = string(certPEM(c)), &no },
			"service_providers[0].encryption_cert: set, but encrypt is false"},
		{"garbage PEM", func(s *ServiceProviderConfig) {
			s.EncryptionCert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		}, "service_providers[0].encryption_cert: "},
		{"builtin", func(s *ServiceProviderConfig) {
			*s = ServiceProviderConfig{Name: "app", Mapping: "aws-map", Preset: PresetBuiltin, EncryptionCert: string(certPEM(c))}
		}, "service_providers[0].encryption_cert: not for the built-in STS sign-in"},
		{"missing file", func(s *ServiceProviderConfig) { s.EncryptionCert = "/x/missing.pem" },
			`service_providers[0].encryption_cert: service provider "app": encryption_cert: /x/missing.pem: no such file`},
		{"a key, not a certificate", func(s *ServiceProviderConfig) { s.EncryptionCert = "/x/key.pem" },
			`PEM block "PRIVATE KEY" is not a CERTIFICATE`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := base
			tc.edit(&sp)
			problems := ValidateConfig([]ServiceProviderConfig{sp}, testMappings(), ValidateOptions{BaseURL: testBase, ReadFile: read})
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want %q", problems, tc.want)
			}
		})
	}
}

type notFound struct{ name string }

func (e *notFound) Error() string { return e.name + ": no such file or directory" }
