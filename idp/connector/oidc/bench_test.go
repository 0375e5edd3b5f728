package oidc

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkHandleCallback measures a whole sign-in against the in-test
// provider over TLS on loopback: authorization, code redemption, ID token
// verification (RS256, keys cached) and the claims made into an identity.
func BenchmarkHandleCallback(b *testing.B) {
	fp := newFakeProvider(b)
	fp.Claims = map[string]any{"preferred_username": "diego.ramirez", "groups": []any{"a", "b"}}
	c := newTestConnector(b, fp, nil)
	ctx := context.Background()
	ch := testChallenge()
	for b.Loop() {
		u, err := c.LoginURL(ctx, ch)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.HandleCallback(ctx, ch, fp.Browse(b, u)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaims measures the claims of a large token (100 attributes,
// 200 groups) made into an identity.
func BenchmarkClaims(b *testing.B) {
	claims := map[string]any{"sub": "u1", "preferred_username": "diego"}
	for i := range 100 {
		claims[fmt.Sprintf("attr%03d", i)] = fmt.Sprintf("value %d", i)
	}
	groups := make([]any, 200)
	for i := range groups {
		groups[i] = fmt.Sprintf("AWS-123456789012-Role%03d", i)
	}
	claims["groups"] = groups
	rules := newClaimRules("corp", Config{ClaimMapping: map[string]string{"attr001": "department"}})
	for b.Loop() {
		if _, err := rules.identity(claims); err != nil {
			b.Fatal(err)
		}
	}
}
