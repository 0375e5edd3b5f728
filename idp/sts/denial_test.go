package sts

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// text is the log with the text handler's quoting undone.
func (b *lockedBuffer) text() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.ReplaceAll(b.buf.String(), `\"`, `"`)
}

// TestSAMLDenialNamesStatementAndCondition: a trust policy refusal is
// logged with the statement and the condition that failed and the
// request's value, and the refusing step is the error's Reason; the API
// response keeps AWS's message only.
func TestSAMLDenialNamesStatementAndCondition(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	e := newSAMLEnv(t, withOptions(func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) }))
	const builtin = "https://idp.example.com/sts/saml"
	assertion := func() string {
		return exampleAssertion(t, func(s *assertionSpec) { s.Recipient, s.Audience = builtin, builtin })
	}
	const explained = `no statement of the trust policy allows sts:SetSourceIdentity: statement #0 Allow does not apply: ` +
		`condition StringEquals SAML:aud "https://signin.aws.amazon.com/saml" is not met: the request has SAML:aud "` + builtin + `"`

	r := e.do(nil, samlForm(fedDevRoleARN, mySAMLIdP, assertion()))
	wantError(t, r, http.StatusForbidden, CodeAccessDenied, msgSAMLNotAuthorized)
	if bytes.Contains(r.body, []byte("statement")) || bytes.Contains(r.body, []byte("SAML:aud")) {
		t.Errorf("the API response explains the denial:\n%s", r.body)
	}
	if !strings.Contains(logs.text(), explained) {
		t.Errorf("the denial log lacks %q:\n%s", explained, logs.text())
	}

	_, err := e.svc.AssumeRoleWithSAML(context.Background(), SAMLRequest{RoleARN: fedDevRoleARN, PrincipalARN: mySAMLIdP, SAMLAssertion: assertion()})
	var se *Error
	if !errors.As(err, &se) || se.Code != CodeAccessDenied || se.Reason != "role named FederatedDeveloper in account 123456789012: "+explained+" (SAML provider "+mySAMLIdP+")" {
		t.Errorf("err = %#v", err)
	}

	for _, tc := range []struct{ role, provider, reason string }{
		{fedDevRoleARN, "arn:aws:iam::123456789012:saml-provider/Other", "no SAML provider named Other in account 123456789012"},
		{"arn:aws:iam::123456789012:role/Ghost", mySAMLIdP, "the assertion's Role attribute does not list arn:aws:iam::123456789012:role/Ghost," + mySAMLIdP},
	} {
		_, err := e.svc.AssumeRoleWithSAML(context.Background(), SAMLRequest{RoleARN: tc.role, PrincipalARN: tc.provider, SAMLAssertion: exampleAssertion(t, nil)})
		if !errors.As(err, &se) || se.Code != CodeAccessDenied || se.Message != msgSAMLNotAuthorized || se.Reason != tc.reason {
			t.Errorf("%s via %s: err = %#v, want Reason %q", tc.role, tc.provider, err, tc.reason)
		}
		if !strings.Contains(logs.text(), tc.reason) {
			t.Errorf("the log lacks %q", tc.reason)
		}
	}
}
