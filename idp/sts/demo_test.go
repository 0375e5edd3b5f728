package sts

import (
	"context"
	"crypto/x509"
	"testing"

	"idpbridge/idp/policy"
)

// TestDemoAccount builds the demo account and checks its trust policy:
// the idpbridge provider may assume Developer with a source identity and
// tags, and without a source identity it may not.
func TestDemoAccount(t *testing.T) {
	t.Parallel()
	cfg := Config{Accounts: []AccountConfig{DemoAccount()}}
	dir, err := Build(&cfg, BuildOptions{BaseURL: "http://localhost:8080",
		SelfCerts: func(context.Context) ([]*x509.Certificate, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := dir.Account(DemoAccountID)
	if !ok {
		t.Fatal("no demo account")
	}
	role := a.Roles[DemoRoleName]
	if role == nil || role.ARN != DemoRoleARN {
		t.Fatalf("role %+v", role)
	}
	if _, ok := a.SAMLProviders[DemoProviderName]; !ok {
		t.Fatal("no SAML provider idpbridge")
	}
	principal := &policy.Principal{Kind: policy.Federated, ARN: DemoProviderARN}
	for _, tc := range []struct {
		action string
		ctx    policy.Context
		want   policy.Decision
	}{
		{"sts:AssumeRoleWithSAML", policy.Context{"sts:SourceIdentity": {"admin"}}, policy.Allow},
		{"sts:SetSourceIdentity", policy.Context{"sts:SourceIdentity": {"admin"}}, policy.Allow},
		{"sts:TagSession", policy.Context{"sts:SourceIdentity": {"admin"}}, policy.Allow},
		{"sts:AssumeRoleWithSAML", policy.Context{}, policy.NoDecision},
		{"sts:AssumeRole", policy.Context{"sts:SourceIdentity": {"admin"}}, policy.NoDecision},
	} {
		got := role.Trust.Evaluate(policy.Request{Principal: principal, Action: tc.action, Resource: DemoRoleARN, Context: tc.ctx})
		if got.Decision != tc.want {
			t.Errorf("%s with %v = %v, want %v", tc.action, tc.ctx, got.Decision, tc.want)
		}
	}
}
