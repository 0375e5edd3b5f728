package oidc

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"idpbridge/idp"
)

func TestClaimsToIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config Config
		claims map[string]any
		want   idp.Identity
		err    string // part of the error, "" for none
	}{
		{
			name:   "username falls back to the verified email",
			claims: map[string]any{"sub": "u1", "email": "a@corp.example", "email_verified": true},
			want: idp.Identity{Username: "a@corp.example", Email: "a@corp.example", Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "email": {"a@corp.example"}}},
		},
		{
			name:   "an unverified email is dropped everywhere and the username is the subject",
			claims: map[string]any{"sub": "u1", "email": "ceo@corp.example", "email_verified": false},
			want:   idp.Identity{Username: "u1", Connector: "corp", Attributes: map[string][]string{"sub": {"u1"}}},
		},
		{
			name:   "an email without email_verified is dropped",
			claims: map[string]any{"sub": "u1", "email": "ceo@corp.example"},
			want:   idp.Identity{Username: "u1", Connector: "corp", Attributes: map[string][]string{"sub": {"u1"}}},
		},
		{
			name:   "email_verified as the string true",
			claims: map[string]any{"sub": "u1", "preferred_username": "a", "email": "a@corp.example", "email_verified": "true"},
			want: idp.Identity{Username: "a", Email: "a@corp.example", Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "email": {"a@corp.example"}, "email_verified": {"true"}}},
		},
		{
			name:   "insecure_skip_email_verified",
			config: Config{InsecureSkipEmailVerified: true},
			claims: map[string]any{"sub": "u1", "preferred_username": "a", "email": "a@corp.example"},
			want: idp.Identity{Username: "a", Email: "a@corp.example", Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "email": {"a@corp.example"}}},
		},
		{
			name:   "a configured username claim does not fall back",
			config: Config{UsernameClaim: "employee_id"},
			claims: map[string]any{"sub": "u1", "preferred_username": "a"},
			err:    `no claim "employee_id"`,
		},
		{
			name:   "a username claim that is not a string",
			config: Config{UsernameClaim: "employee_id"},
			claims: map[string]any{"sub": "u1", "employee_id": 4711.0},
			err:    `no claim "employee_id"`,
		},
		{
			name:   "no usable name at all",
			claims: map[string]any{"sub": 12.0, "preferred_username": "bad\x00name"},
			err:    "neither",
		},
		{
			name:   "a username over the bound",
			claims: map[string]any{"sub": "u1", "preferred_username": strings.Repeat("a", maxNameBytes+1)},
			err:    "longer than",
		},
		{
			name:   "custom claims for email, groups and display name",
			config: Config{EmailClaim: "mail", GroupsClaim: "roles", DisplayNameClaim: "cn"},
			claims: map[string]any{"sub": "u1", "preferred_username": "a", "mail": "a@corp.example", "roles": "admin", "cn": "A"},
			want: idp.Identity{Username: "a", Email: "a@corp.example", DisplayName: "A", Groups: []string{"admin"}, Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "mail": {"a@corp.example"}, "roles": {"admin"}, "cn": {"A"}}},
		},
		{
			name:   "mapping renames, and a mapped claim wins over a claim of its new name",
			config: Config{ClaimMapping: map[string]string{"upn": "userPrincipalName", "oid": "objectGUID"}},
			claims: map[string]any{"sub": "u1", "preferred_username": "a", "upn": "a@corp.example", "userPrincipalName": "forged", "oid": "1234"},
			want: idp.Identity{Username: "a", Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "userPrincipalName": {"a@corp.example"}, "objectGUID": {"1234"}}},
		},
		{
			name: "protocol claims, numbers, booleans, objects and unclean values are not attributes",
			claims: map[string]any{
				"sub": "u1", "preferred_username": "a", "iss": "https://x", "aud": []any{"c"}, "nonce": "n", "at_hash": "h",
				"exp": 1.0, "admin": true, "address": map[string]any{"country": "ES"},
				"bad": "line\nbreak", "empty": "", "list": []any{"x", 1.0, "x", "", "y\x00", "z"},
			},
			want: idp.Identity{Username: "a", Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "list": {"x", "z"}}},
		},
		{
			name:   "a username sent as a list of one; duplicate groups kept once",
			claims: map[string]any{"sub": "u1", "preferred_username": []any{"a"}, "groups": []any{"g1", "g1", "g2"}},
			want: idp.Identity{Username: "a", Groups: []string{"g1", "g2"}, Connector: "corp",
				Attributes: map[string][]string{"sub": {"u1"}, "preferred_username": {"a"}, "groups": {"g1", "g2"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := newClaimRules("corp", tc.config).identity(tc.claims)
			if tc.err != "" {
				if !errors.Is(err, errClaim) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestClaimsBounds(t *testing.T) {
	t.Parallel()
	claims := map[string]any{"sub": "u1"}
	for i := range 2 * maxAttributes {
		claims[fmt.Sprintf("c%04d", i)] = "v"
	}
	many := make([]any, 2*maxValues)
	for i := range many {
		many[i] = fmt.Sprintf("g%04d", i)
	}
	claims["groups"] = many
	claims["big"] = strings.Repeat("x", maxValueBytes+1)
	claims[strings.Repeat("n", maxNameBytes+1)] = "v"

	got, err := newClaimRules("corp", Config{}).identity(claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Attributes) != maxAttributes {
		t.Errorf("%d attributes, want the bound %d", len(got.Attributes), maxAttributes)
	}
	if len(got.Groups) != maxValues || got.Groups[0] != "g0000" {
		t.Errorf("%d groups, want the first %d", len(got.Groups), maxValues)
	}
	if _, ok := got.Attributes["big"]; ok {
		t.Error("a value over the bound was kept")
	}
	// Long lists are de-duplicated too, in their first order.
	long := make([]any, 0, 60)
	for i := range 60 {
		long = append(long, fmt.Sprintf("r%d", i%20))
	}
	few, err := newClaimRules("corp", Config{}).identity(map[string]any{"sub": "u1", "roles": long})
	if err != nil {
		t.Fatal(err)
	}
	roles := few.Attributes["roles"]
	if len(roles) != 20 || roles[0] != "r0" || roles[19] != "r19" {
		t.Errorf("roles %q, want r0..r19 once each", roles)
	}
	// The same claims give the same attributes every time.
	again, _ := newClaimRules("corp", Config{}).identity(claims)
	if !reflect.DeepEqual(got, again) {
		t.Error("the attributes kept depend on map order")
	}
}
