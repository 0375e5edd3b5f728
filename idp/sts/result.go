package sts

import (
	"time"

	"idpbridge/idp"
)

// Credentials are temporary security credentials.
type Credentials struct {
	AccessKeyID     string // ASIA...
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time // UTC, to the second
}

// AssumedRole is the role session the credentials act as.
type AssumedRole struct {
	// ARN is arn:aws:sts::<account>:assumed-role/<RoleName>/<RoleSessionName>.
	ARN string
	// ID is <RoleId>:<RoleSessionName>.
	ID string
	// Role is the IAM ARN of the role (its path kept).
	Role idp.ARN
	// SessionName is the role session name.
	SessionName string
}

// Session is what an AssumeRole* call issued.
type Session struct {
	RequestID      string
	Credentials    Credentials
	AssumedRole    AssumedRole
	SourceIdentity string // "" when the session has none
	// PackedPolicySize is the percentage of the allotted space the session
	// policies and tags take; nil when the call passed neither.
	PackedPolicySize *int
}

// SAMLSession is what AssumeRoleWithSAML issued.
type SAMLSession struct {
	Session
	Issuer        string // the assertion's Issuer
	Audience      string // its Recipient
	Subject       string // its NameID
	SubjectType   string // the NameID Format (SubjectType)
	NameQualifier string
}

// WebIdentitySession is what AssumeRoleWithWebIdentity issued.
type WebIdentitySession struct {
	Session
	Provider string // the token's iss
	Audience string // the client ID the token was issued to
	Subject  string // the token's sub
}

// newSession is the session a grant issued as out.
func newSession(c *call, g *grant, out *issued) Session {
	// The directory made the role's ARN: it parses.
	role, _ := idp.ParseARN(g.role.ARN)
	return Session{
		RequestID: c.requestID,
		Credentials: Credentials{AccessKeyID: out.accessKeyID, SecretAccessKey: out.secret, SessionToken: out.token,
			Expires: out.expiration.UTC()},
		AssumedRole:      AssumedRole{ARN: out.arn, ID: out.assumedRoleID, Role: role, SessionName: g.sessionName},
		SourceIdentity:   g.sourceIdentity,
		PackedPolicySize: g.packedSize(),
	}
}

// The Query API's XML results, made only at its edge.

func (s *Session) credentialsXML() CredentialsXML {
	c := s.Credentials
	return CredentialsXML{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: formatExpiration(c.Expires)}
}

func (s *Session) assumedRoleXML() AssumedRoleUserXML {
	return AssumedRoleUserXML{Arn: s.AssumedRole.ARN, AssumedRoleID: s.AssumedRole.ID}
}

func (s *Session) assumeRoleXML() *AssumeRoleResult {
	return &AssumeRoleResult{SourceIdentity: s.SourceIdentity, AssumedRoleUser: s.assumedRoleXML(),
		Credentials: s.credentialsXML(), PackedPolicySize: s.PackedPolicySize}
}

func (s *SAMLSession) xml() *AssumeRoleWithSAMLResult {
	return &AssumeRoleWithSAMLResult{
		Issuer:           s.Issuer,
		AssumedRoleUser:  s.assumedRoleXML(),
		Credentials:      s.credentialsXML(),
		Audience:         s.Audience,
		SourceIdentity:   s.SourceIdentity,
		PackedPolicySize: s.PackedPolicySize,
		NameQualifier:    s.NameQualifier,
		Subject:          s.Subject,
		SubjectType:      s.SubjectType,
	}
}

func (s *WebIdentitySession) xml() *AssumeRoleWithWebIdentityResult {
	return &AssumeRoleWithWebIdentityResult{
		SubjectFromWebIdentityToken: s.Subject,
		Audience:                    s.Audience,
		AssumedRoleUser:             s.assumedRoleXML(),
		Credentials:                 s.credentialsXML(),
		SourceIdentity:              s.SourceIdentity,
		PackedPolicySize:            s.PackedPolicySize,
		Provider:                    s.Provider,
	}
}
