package sts

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/policy"
	"idpbridge/idp/store"
	"idpbridge/idp/sts/sigv4"
)

// caller is the authenticated principal of a signed request: an IAM user
// (long-term key) or a role session (temporary credentials).
type caller struct {
	accessKeyID string
	account     string
	arn         string // user ARN or assumed-role ARN
	userID      string // AIDA... or AROA...:session
	user        *User
	session     *sessionClaims
	role        *Role // the session's role; nil when it no longer exists
	principal   *policy.Principal
	// sessionPolicies restrict a session created with Policy or PolicyArns;
	// nil when it has none.
	sessionPolicies []policy.Named
}

func (c *caller) isSession() bool { return c.session != nil }

// sourceIdentity is the source identity the calling session carries.
func (c *caller) sourceIdentity() string {
	if c.session == nil {
		return ""
	}
	return c.session.SourceIdentity
}

// identityPolicies are the caller's identity-based policies: the user's, or
// the session role's permission policies.
func (c *caller) identityPolicies() []policy.Named {
	if c.user != nil {
		return c.user.Policies
	}
	if c.role != nil {
		return c.role.Policies
	}
	return nil
}

// tags are the caller's principal tags: the user's tags, or the session's.
func (c *caller) tags() []idp.Tag {
	if c.user != nil {
		return c.user.Tags
	}
	if c.session != nil {
		return c.session.Tags
	}
	return nil
}

// identity is the caller as the audit trail names it.
func (c *caller) identity() audit.UserIdentity {
	if c.user != nil {
		return audit.IAMUser(c.user.ARN, c.user.ID, c.accessKeyID)
	}
	s := c.session
	return audit.AssumedRole(audit.RoleSession{
		RoleID:            s.RoleID,
		RoleARN:           s.RoleARN,
		SessionName:       s.SessionName,
		AccessKeyID:       s.AccessKeyID,
		Created:           s.issued(),
		MFA:               s.MFA,
		SourceIdentity:    s.SourceIdentity,
		FederatedProvider: webProvider(s),
	})
}

func webProvider(s *sessionClaims) string {
	if s.WebIdentity {
		return s.FederatedProvider
	}
	return ""
}

// authenticate verifies the SigV4 signature of a call and returns its
// caller. Errors carry AWS's codes: the sigv4 package's for malformed or
// mismatched signatures, InvalidClientTokenId for unknown keys, missing or
// foreign session tokens and revoked sessions, ExpiredToken for expired
// sessions. ident is the best-known identity of the caller even on failure
// (for the audit record), nil when none is known.
func (s *Service) authenticate(ctx context.Context, c *call) (who *caller, ident *audit.UserIdentity, e *Error) {
	signed, err := sigv4.Parse(c.r, c.body)
	if err != nil {
		return nil, nil, fromSigV4(err)
	}
	c.signedRegion = signed.Scope.Region
	key := signed.AccessKeyID
	switch {
	case strings.HasPrefix(key, "AKIA"):
		ak, ok := s.dir.accessKeys[key]
		if !ok {
			return nil, nil, invalidClientToken()
		}
		who = userCaller(ak.user, key)
		id := who.identity()
		if signed.SecurityToken != "" {
			return nil, &id, invalidClientToken()
		}
		if err := signed.VerifyIn(s.dir.SigningRegions, ak.secret, c.now); err != nil {
			return nil, &id, fromSigV4(err)
		}
		return who, &id, nil
	case strings.HasPrefix(key, "ASIA"):
		if signed.SecurityToken == "" {
			return nil, nil, invalidClientToken()
		}
		claims, err := s.sealer.open(signed.SecurityToken, key)
		if err != nil {
			return nil, nil, invalidClientToken()
		}
		who = s.sessionCaller(claims)
		id := who.identity()
		if !c.now.Before(claims.expires()) {
			return nil, &id, expiredToken()
		}
		if err := signed.VerifyIn(s.dir.SigningRegions, claims.Secret, c.now); err != nil {
			return nil, &id, fromSigV4(err)
		}
		rec, err := s.store.GetSTSSession(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, &id, invalidClientToken()
		case err != nil:
			return nil, &id, internal(err)
		}
		if subtle.ConstantTimeCompare(rec.TokenSHA256, tokenHash(signed.SecurityToken)) != 1 {
			return nil, &id, invalidClientToken()
		}
		if !rec.RevokedAt.IsZero() {
			// A revoked session's credentials are no longer valid anywhere.
			return nil, &id, invalidClientToken()
		}
		return who, &id, nil
	}
	return nil, nil, invalidClientToken()
}

func userCaller(u *User, key string) *caller {
	return &caller{
		accessKeyID: key,
		account:     u.Account,
		arn:         u.ARN,
		userID:      u.ID,
		user:        u,
		principal:   &policy.Principal{Kind: policy.IAMUser, Account: u.Account, ARN: u.ARN},
	}
}

func (s *Service) sessionCaller(cl *sessionClaims) *caller {
	arn := cl.sessionARN()
	who := &caller{
		accessKeyID: cl.AccessKeyID,
		account:     cl.Account,
		arn:         arn,
		userID:      cl.RoleID + ":" + cl.SessionName,
		session:     cl,
		principal:   &policy.Principal{Kind: policy.AssumedRole, Account: cl.Account, ARN: arn, RoleARN: cl.RoleARN},
	}
	if r, ok := s.dir.RoleByARN(cl.RoleARN); ok {
		who.role = r
	}
	if cl.Policy != "" || len(cl.PolicyARNs) > 0 {
		// Managed session policies (PolicyArns) are not known to idpbridge:
		// they allow nothing, so a session created with them may only do
		// what its inline session policy and role policies both allow
		// (UNCONF).
		who.sessionPolicies = []policy.Named{}
		if p, err := policy.Parse([]byte(cl.Policy)); err == nil && cl.Policy != "" {
			who.sessionPolicies = append(who.sessionPolicies, policy.Named{Name: "session-policy", Policy: p})
		}
	}
	return who
}

// fromSigV4 carries a sigv4 error over unchanged.
func fromSigV4(err error) *Error {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &Error{Code: se.Code, Message: se.Message, Status: se.Status}
	}
	return internal(err)
}

// principalContext adds the keys every signed request has (STS-SPEC §7).
func principalContext(ctx policy.Context, who *caller) {
	if who == nil {
		return
	}
	if who.user != nil {
		ctx.Set("aws:PrincipalArn", who.user.ARN)
		ctx.Set("aws:PrincipalType", "User")
		ctx.Set("aws:username", who.user.Name)
	} else {
		ctx.Set("aws:PrincipalArn", who.session.RoleARN)
		ctx.Set("aws:PrincipalType", "AssumedRole")
		ctx.Set("aws:TokenIssueTime", who.session.issued().Format(time.RFC3339))
		ctx.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(who.session.MFA))
		if who.session.SourceIdentity != "" {
			ctx.Set("aws:SourceIdentity", who.session.SourceIdentity)
		}
		if who.session.FederatedProvider != "" {
			ctx.Set("aws:FederatedProvider", who.session.FederatedProvider)
		}
	}
	ctx.Set("aws:PrincipalAccount", who.account)
	ctx.Set("aws:userid", who.userID)
	for _, t := range who.tags() {
		ctx.Set("aws:PrincipalTag/"+t.Key, t.Value)
	}
}

// assumedRoleARN is arn:aws:sts::<acct>:assumed-role/<RoleName>/<session>.
func assumedRoleARN(account, roleName, session string) string {
	return "arn:" + Partition + ":sts::" + account + ":assumed-role/" + roleName + "/" + session
}

// roleNameOf returns the name of a role ARN (its last path segment), ""
// when it is not an ARN.
func roleNameOf(roleARN string) string {
	a, err := idp.ParseARN(roleARN)
	if err != nil {
		return ""
	}
	return a.ResourceName()
}
