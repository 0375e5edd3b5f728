package sts

import (
	"context"

	"idpbridge/idp/audit"
)

// getCallerIdentityCall serves GetCallerIdentity: it needs a valid
// signature and no permission, so it succeeds even under an explicit Deny
// (STS-SPEC §5). A call made with session credentials is recorded with the
// session's source identity in userIdentity.sessionContext.
func (s *Service) getCallerIdentityCall(ctx context.Context, c *call) (any, *Error) {
	who, ident, e := s.authenticate(ctx, c)
	if e != nil {
		if ident != nil {
			s.record(ctx, c, audit.GetCallerIdentityEvent(s.auditCall(c, *ident, ident.AccountID), apiError(e)))
		}
		return nil, e
	}
	if e := s.recordOrFail(ctx, c, audit.GetCallerIdentityEvent(s.auditCall(c, who.identity(), who.account), nil)); e != nil {
		return nil, e
	}
	return &GetCallerIdentityResult{Arn: who.arn, UserID: who.userID, Account: who.account}, nil
}
