package sts

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"

	"idpbridge/idp"
)

func TestMergeTags(t *testing.T) {
	t.Parallel()
	got := mergeTags([]idp.Tag{{Key: "Team", Value: "a"}, {Key: "Star", Value: "3"}}, []idp.Tag{{Key: "star", Value: "1"}}, []idp.Tag{{Key: "TEAM", Value: "b"}, {Key: "New", Value: "n"}})
	want := []idp.Tag{{Key: "TEAM", Value: "b"}, {Key: "star", Value: "1"}, {Key: "New", Value: "n"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("mergeTags = %v, want %v", got, want)
	}
	if got := transitiveTags([]idp.Tag{{Key: "A", Value: "1"}, {Key: "b", Value: "2"}, {Key: "C", Value: "3"}}, []string{"B", "a"}); !reflect.DeepEqual(got, []idp.Tag{{Key: "A", Value: "1"}, {Key: "b", Value: "2"}}) {
		t.Fatalf("transitiveTags = %v", got)
	}
	if got := unionKeys([]string{"Star"}, []string{"star", "Heart"}); !reflect.DeepEqual(got, []string{"Star", "Heart"}) {
		t.Fatalf("unionKeys = %v", got)
	}
}

func TestSubjectTypeAndRolePairs(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"urn:oasis:names:tc:SAML:2.0:nameid-format:transient":    "transient",
		"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent":   "persistent",
		"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"": "",
	} {
		if got := SubjectType(in); got != want {
			t.Errorf("SubjectType(%q) = %q, want %q", in, got, want)
		}
	}
	role, prov := "arn:aws:iam::1:role/R", "arn:aws:iam::1:saml-provider/P"
	tests := []struct {
		values []string
		want   bool
	}{
		{[]string{role + "," + prov}, true},
		{[]string{prov + "," + role}, true},
		{[]string{prov + ", " + role}, true},
		{[]string{role + "2," + prov}, false},
		{[]string{role}, false},
		{nil, false},
		{[]string{"x,y", prov + "," + role}, true},
	}
	for _, tc := range tests {
		if got := rolePairListed(tc.values, role, prov); got != tc.want {
			t.Errorf("rolePairListed(%q) = %v", tc.values, got)
		}
	}
}

// TestSessionTokenSealing: a token opens only with its key-encryption key
// and for its own access key ID.
func TestSessionTokenSealing(t *testing.T) {
	t.Parallel()
	a, _ := newSealer(testKEK)
	b, _ := newSealer(bytes.Repeat([]byte{7}, 32))
	c := &sessionClaims{AccessKeyID: "ASIAQ3EGVEXAMPLE0001", Secret: "s", Account: acctA, RoleARN: devRoleARN, SessionName: "x1"}
	tok, err := a.seal(rand.Reader, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.open(tok, c.AccessKeyID); err != nil || got.Secret != "s" {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if _, err := b.open(tok, c.AccessKeyID); err == nil {
		t.Fatal("opened with another key-encryption key")
	}
	if _, err := a.open(tok, "ASIAQ3EGVEXAMPLE0002"); err == nil {
		t.Fatal("opened for another access key ID")
	}
	for _, bad := range []string{"", "!!", base64.StdEncoding.EncodeToString([]byte{2, 0, 0})} {
		if _, err := a.open(bad, c.AccessKeyID); err == nil {
			t.Fatalf("opened %q", bad)
		}
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Fatal("a short key-encryption key was accepted")
	}
	if raw, _ := base64.StdEncoding.DecodeString(tok); bytes.Contains(raw, []byte(devRoleARN)) {
		t.Fatal("the token shows its claims in clear")
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	rsaKey := newJWTKey(t, "u1")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecJWK := map[string]string{"kty": "EC", "crv": "P-256",
		"x": base64.RawURLEncoding.EncodeToString(ec.X.FillBytes(make([]byte, 32))),
		"y": base64.RawURLEncoding.EncodeToString(ec.Y.FillBytes(make([]byte, 32)))}
	set := func(keys ...any) []byte { b, _ := json.Marshal(map[string]any{"keys": keys}); return b }
	var parsed struct{ Keys []map[string]any }
	if err := json.Unmarshal(rsaKey.jwks(), &parsed); err != nil {
		t.Fatal(err)
	}
	rsaJWK := parsed.Keys[0]
	tests := []struct {
		name string
		raw  []byte
		n    int
	}{
		{"RSA", set(rsaJWK), 1},
		{"RSA and EC", set(rsaJWK, ecJWK), 2},
		{"encryption key skipped", set(rsaJWK, map[string]string{"kty": "RSA", "use": "enc"}), 1},
		{"unknown type skipped", set(rsaJWK, map[string]string{"kty": "oct", "k": "AAAA"}), 1},
		{"only encryption keys", set(map[string]string{"kty": "RSA", "use": "enc"}), -1},
		{"small RSA", set(map[string]string{"kty": "RSA", "n": "AQAB", "e": "AQAB"}), -1},
		{"EC off the curve", set(map[string]string{"kty": "EC", "crv": "P-256", "x": ecJWK["x"], "y": ecJWK["x"]}), -1},
		{"not JSON", []byte("{"), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := ParseJWKS(tc.raw)
			if tc.n < 0 {
				if err == nil {
					t.Fatalf("accepted: %v", keys)
				}
				return
			}
			if err != nil || len(keys) != tc.n {
				t.Fatalf("ParseJWKS = %d keys, %v", len(keys), err)
			}
		})
	}
}
