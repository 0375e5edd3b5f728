package sts

import "context"

// WebIdentityVerifier is a placeholder until the web identity action lands.
type WebIdentityVerifier interface{}

// OIDCVerifier is a placeholder.
type OIDCVerifier struct{}

func (s *Service) webIdentityCall(ctx context.Context, c *call) (any, *Error) {
	return nil, sender(CodeInvalidAction, "Could not find operation AssumeRoleWithWebIdentity for version "+APIVersion)
}
