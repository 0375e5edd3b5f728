package sts

import (
	"context"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/store"
)

// grant is what an authorized AssumeRole* call is about to issue.
type grant struct {
	role              *Role
	sessionName       string
	sourceIdentity    string
	tags              []idp.Tag
	transitive        []string
	duration          time.Duration
	policy            string
	policyARNs        []string
	federatedProvider string
	webIdentity       bool
	// callerARN is who asked: user, session or provider ARN.
	callerARN string
	// parentAccessKeyID is the calling role session's key when chaining.
	parentAccessKeyID string
	// packed is the packed size percentage; reported when packedShown.
	packed      int
	packedShown bool
}

// issued are the credentials a grant produced.
type issued struct {
	accessKeyID   string
	secret        string
	token         string
	expiration    time.Time
	assumedRoleID string
	arn           string
}

func (g *grant) packedSize() *int {
	if !g.packedShown {
		return nil
	}
	n := g.packed
	return &n
}

// output is the audit view of what was issued.
func (g *grant) output(i *issued) audit.AssumeRoleOutput {
	o := audit.AssumeRoleOutput{
		AccessKeyID:    i.accessKeyID,
		Expiration:     i.expiration,
		AssumedRoleID:  i.assumedRoleID,
		ARN:            i.arn,
		SourceIdentity: g.sourceIdentity,
	}
	if g.packedShown {
		o.PackedPolicySize = g.packed
	}
	return o
}

// mint creates the credentials of g and stores their session record with
// the audit records records returns, in one transaction: if the trail
// cannot be written, nothing is issued. The issued secret and token are
// passed to the audit redaction as known secrets.
func (s *Service) mint(ctx context.Context, c *call, g *grant, records func(*issued) []audit.Record) (*issued, *Error) {
	out, e := s.credentials(c, g)
	if e != nil {
		return nil, e
	}
	recs := records(out)
	if c.idErr != nil {
		return nil, internal(c.idErr)
	}
	for i := range recs {
		if paths := audit.Redact(&recs[i], out.secret, out.token); len(paths) > 0 {
			s.log.Warn("sts: audit record carried a secret, redacted", "request_id", c.requestID, "paths", paths)
		}
	}
	if e := s.issue(ctx, g.sessionRecord(c, out), recs...); e != nil {
		return nil, e
	}
	return out, nil
}

// credentials draws the key and secret of g and seals its session token.
func (s *Service) credentials(c *call, g *grant) (*issued, *Error) {
	akid, err := newAccessKeyID(s.rand)
	if err != nil {
		return nil, internal(err)
	}
	secret, err := newSecret(s.rand)
	if err != nil {
		return nil, internal(err)
	}
	issuedAt := c.now.Truncate(time.Second)
	expires := issuedAt.Add(g.duration)
	claims := &sessionClaims{
		AccessKeyID:       akid,
		Secret:            secret,
		Account:           g.role.Account,
		RoleARN:           g.role.ARN,
		RoleID:            g.role.ID,
		SessionName:       g.sessionName,
		SourceIdentity:    g.sourceIdentity,
		Tags:              g.tags,
		TransitiveKeys:    g.transitive,
		Issued:            issuedAt.Unix(),
		Expires:           expires.Unix(),
		FederatedProvider: g.federatedProvider,
		WebIdentity:       g.webIdentity,
		Policy:            g.policy,
		PolicyARNs:        g.policyARNs,
	}
	token, err := s.sealer.seal(s.rand, claims)
	if err != nil {
		return nil, internal(err)
	}
	return &issued{
		accessKeyID:   akid,
		secret:        secret,
		token:         token,
		expiration:    expires,
		assumedRoleID: g.role.ID + ":" + g.sessionName,
		arn:           assumedRoleARN(g.role.Account, g.role.Name, g.sessionName),
	}, nil
}

// sessionRecord is the store's record of the session out issued for g.
func (g *grant) sessionRecord(c *call, out *issued) store.STSSession {
	return store.STSSession{
		AccessKeyID:       out.accessKeyID,
		AccountID:         g.role.Account,
		RoleARN:           g.role.ARN,
		SessionName:       g.sessionName,
		SourceIdentity:    g.sourceIdentity,
		TransitiveTagKeys: g.transitive,
		CallerARN:         g.callerARN,
		TokenSHA256:       tokenHash(out.token),
		IssuedAt:          c.now.Truncate(time.Second),
		ExpiresAt:         out.expiration,
		ParentAccessKeyID: g.parentAccessKeyID,
		Tags:              g.tags,
	}
}
