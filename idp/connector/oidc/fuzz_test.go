package oidc

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"idpbridge/idp"
)

// FuzzClaims feeds arbitrary claim sets (the JSON of an ID token's or a
// UserInfo answer's payload, as the provider controls it) to the rules
// that make an identity of them. No panic; a refusal is errClaim with no
// identity; an identity has a clean username, stays within the bounds,
// holds only clean names and values, no protocol claim, no claim that
// claim_mapping renamed under its old name, and no unverified e-mail; the
// same claims always give the same identity. The corpus is in
// testdata/fuzz/FuzzClaims.
func FuzzClaims(f *testing.F) {
	for _, s := range []string{
		`{"sub":"u1","preferred_username":"diego","email":"d@corp.example","email_verified":true,"groups":["a","b"],"upn":"d@corp.example"}`,
		`{"sub":"u1","email":"ceo@corp.example","email_verified":"false","userPrincipalName":"forged"}`,
		`{"sub":"u1","email":"d@corp.example","email_verified":"true","name":["Diego"],"groups":"one"}`,
		`{"sub":12,"preferred_username":null,"groups":[1,null,{},[]],"iss":"x","nonce":"n"}`,
		`{"preferred_username":"a\u0000b","sub":"\ud800","roles":["\u202e","x"]}`,
		`{"":"", "aud":["c"], "address":{"country":"ES"}, "amr":["pwd","mfa","pwd"]}`,
		`{}`,
		`{"sub":"u1","groups":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","a","r","b","s"]}`,
	} {
		f.Add([]byte(s))
	}
	rules := newClaimRules("corp", Config{ClaimMapping: map[string]string{"upn": "userPrincipalName", "oid": "objectGUID"}})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var claims map[string]any
		if json.Unmarshal(raw, &claims) != nil {
			return
		}
		id, err := rules.identity(claims)
		if err != nil {
			if !errors.Is(err, errClaim) || !reflect.DeepEqual(id, idp.Identity{}) {
				t.Fatalf("refusal %v with identity %+v", err, id)
			}
			return
		}
		again, _ := rules.identity(claims)
		if !reflect.DeepEqual(id, again) {
			t.Fatalf("the same claims gave %+v, then %+v", id, again)
		}
		if !cleanName(id.Username) || id.Connector != "corp" {
			t.Fatalf("username %q, connector %q", id.Username, id.Connector)
		}
		for _, s := range []string{id.Email, id.DisplayName} {
			if s != "" && !cleanValue(s) {
				t.Fatalf("unclean value %q", s)
			}
		}
		if !isTrue(claims["email_verified"]) {
			if id.Email != "" || id.Attributes["email"] != nil {
				t.Fatalf("unverified e-mail kept: %+v", id)
			}
		}
		checkValues(t, "groups", id.Groups)
		if len(id.Attributes) > maxAttributes {
			t.Fatalf("%d attributes", len(id.Attributes))
		}
		for name, vals := range id.Attributes {
			if !cleanName(name) || protocolClaims[name] || name == "upn" || name == "oid" {
				t.Fatalf("attribute name %q kept", name)
			}
			if len(vals) == 0 {
				t.Fatalf("attribute %q without values", name)
			}
			checkValues(t, name, vals)
		}
	})
}

func checkValues(t *testing.T, name string, vals []string) {
	t.Helper()
	if len(vals) > maxValues {
		t.Fatalf("%s: %d values", name, len(vals))
	}
	seen := map[string]bool{}
	for _, v := range vals {
		if !cleanValue(v) || seen[v] {
			t.Fatalf("%s: value %q unclean or repeated", name, v)
		}
		seen[v] = true
	}
}
