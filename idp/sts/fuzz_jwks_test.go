package sts

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

// FuzzParseJWKS feeds arbitrary documents to the key set parser: it must
// not panic, and a set it accepts holds only public asymmetric keys of the
// types and sizes the STS verifies with. The corpus is in
// testdata/fuzz/FuzzParseJWKS.
func FuzzParseJWKS(f *testing.F) {
	f.Add(newJWTKey(f, "fuzz").jwks())
	for _, s := range []string{
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","alg":"HS256"}]}`,
		`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}`,
		`{"keys":[{"kty":"RSA","n":"AQAB","e":"AAAAAAAAAAAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-521","x":"","y":""}]}`,
		`{"keys":[{"kty":"RSA","key_ops":["verify"],"x5c":["MIIB"]}]}`,
		`{"keys":[null,1,"x",[],{}]}`,
		`{"keys":null}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		keys, err := ParseJWKS(raw)
		if err != nil {
			if keys != nil {
				t.Fatalf("keys beside an error: %v", err)
			}
			return
		}
		if len(keys) == 0 {
			t.Fatal("an accepted set with no key")
		}
		for _, k := range keys {
			checkVerificationKey(t, k)
		}
	})
}

// FuzzWebIdentityToken feeds arbitrary tokens to the reading the STS does
// before and after the signature check (peekToken, readTimeClaims): no
// panic, and time claims are accepted only as JSON numbers, with exp
// present. The corpus is in testdata/fuzz/FuzzWebIdentityToken.
func FuzzWebIdentityToken(f *testing.F) {
	key := newJWTKey(f, "fuzz")
	f.Add(key.sign(f, seedToken("Saanvi")))
	enc := func(payload string) string {
		return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	for _, p := range []string{
		`{"iss":"https://xyz.com","exp":"1772370000"}`,
		`{"iss":"https://xyz.com","exp":1772370000,"nbf":"1772366400","iat":1772366340}`,
		`{"iss":"https://xyz.com","exp":1772370000.75,"nbf":-1e3}`,
		`{"iss":"https://xyz.com","exp":1e400}`,
		`{"iss":"https://xyz.com","exp":null,"iat":true}`,
		`{"iss":"https://xyz.com","exp":[1],"nbf":{}}`,
		`{"iss":"https://xyz.com","exp":1,"exp":"2"}`,
		`{"iss":1}`,
	} {
		f.Add(enc(p))
	}
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, token string) {
		iss, payload, ok := peekToken(token)
		if !ok {
			return
		}
		if iss == "" {
			t.Fatal("a token without iss passed")
		}
		times, ok := readTimeClaims(payload)
		if !ok {
			return
		}
		var generic map[string]any
		if err := json.Unmarshal(payload, &generic); err != nil {
			t.Fatalf("time claims read from a payload that is not an object: %v", err)
		}
		for _, name := range []string{"exp", "iat", "nbf"} {
			v, present := generic[name]
			if name == "exp" && !present {
				t.Fatal("accepted without exp")
			}
			if _, isNumber := v.(float64); present && !isNumber {
				t.Fatalf("%s accepted as %T", name, v)
			}
		}
		for _, v := range []*int64{&times.exp, times.iat, times.nbf} {
			if v != nil && (*v > maxNumericDate || *v < -maxNumericDate) {
				t.Fatalf("time %d out of bounds", *v)
			}
		}
	})
}
