package audit

import (
	"time"

	"idpbridge/idp"
)

// Identity types (the userIdentity type field).
const (
	TypeIAMUser         = "IAMUser"
	TypeAssumedRole     = "AssumedRole"
	TypeSAMLUser        = "SAMLUser"
	TypeWebIdentityUser = "WebIdentityUser"
	TypeAWSAccount      = "AWSAccount"
	// TypeIdpbridgeUser is a person known to the IdP (its own events).
	TypeIdpbridgeUser = "IdpbridgeUser"
	// TypeAnonymous is the caller of an IdP event whose person is not known,
	// such as a sign-in with a name that matched no account.
	TypeAnonymous = "Anonymous"
)

// UserIdentity is the userIdentity element: who made the request. One struct
// holds every variant; build it with the constructor of its type (IAMUser,
// AssumedRole, SAMLUser, WebIdentityUser, AWSAccount, IdpbridgeUser,
// Anonymous), which sets exactly the fields CloudTrail writes for that type.
// Empty fields are omitted.
type UserIdentity struct {
	Type             string          `json:"type"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"`
	UserName         string          `json:"userName,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
	// Connector names the IdP connector that knows an IdpbridgeUser.
	Connector string `json:"connector,omitempty"`
}

// SessionContext describes the role session behind an AssumedRole caller.
type SessionContext struct {
	SessionIssuer       SessionIssuer       `json:"sessionIssuer"`
	WebIDFederationData WebIDFederationData `json:"webIdFederationData"`
	Attributes          SessionAttributes   `json:"attributes"`
	// SourceIdentity is the source identity the session carries, omitted
	// when it has none (STS-SPEC §0).
	SourceIdentity string `json:"sourceIdentity,omitempty"`
}

// SessionIssuer is the role a session was issued for.
type SessionIssuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// WebIDFederationData is always written, as {} unless the session came from
// AssumeRoleWithWebIdentity.
type WebIDFederationData struct {
	FederatedProvider string `json:"federatedProvider,omitempty"`
}

// SessionAttributes are the session's MFA flag ("true"/"false", a string as
// CloudTrail writes it) and creation time.
type SessionAttributes struct {
	MFAAuthenticated string `json:"mfaAuthenticated"`
	CreationDate     Time   `json:"creationDate"`
}

// IAMUser returns the identity of a request signed with an IAM user's
// long-term key. userARN is "arn:aws:iam::<acct>:user[/path]/<name>";
// principalID is the user's ID (AIDA...); accessKeyID the key that signed
// the request. The account and user name are taken from userARN and are
// empty when it is not an ARN.
func IAMUser(userARN, principalID, accessKeyID string) UserIdentity {
	id := UserIdentity{Type: TypeIAMUser, PrincipalID: principalID, ARN: userARN, AccessKeyID: accessKeyID}
	if a, err := idp.ParseARN(userARN); err == nil {
		id.AccountID, id.UserName = a.Account(), a.ResourceName()
	}
	return id
}

// RoleSession describes a role session for AssumedRole.
type RoleSession struct {
	// RoleID is the role's unique ID (AROA...).
	RoleID string
	// RoleARN is "arn:aws:iam::<acct>:role[/path]/<name>".
	RoleARN string
	// SessionName is the RoleSessionName the session was created with.
	SessionName string
	// AccessKeyID is the session's temporary key (ASIA...).
	AccessKeyID string
	// Created is when the session was issued.
	Created time.Time
	// MFA reports whether the session was created with MFA.
	MFA bool
	// SourceIdentity is the session's source identity, "" for none.
	SourceIdentity string
	// FederatedProvider is the web identity provider of a session from
	// AssumeRoleWithWebIdentity, "" otherwise.
	FederatedProvider string
}

// AssumedRole returns the identity of a request signed with a role session's
// temporary credentials: principalId "<RoleID>:<SessionName>", the
// assumed-role ARN "arn:<partition>:sts::<acct>:assumed-role/<RoleName>/<SessionName>"
// (role path removed), and a sessionContext naming the role and carrying the
// session's source identity. Account, partition and role name come from
// s.RoleARN; they are empty when it is not an ARN.
func AssumedRole(s RoleSession) UserIdentity {
	a, _ := idp.ParseARN(s.RoleARN) // the zero ARN when it is not one
	roleName := ""
	sessionARN := ""
	if !a.IsZero() {
		roleName = a.ResourceName()
		sessionARN = "arn:" + a.Partition() + ":sts::" + a.Account() + ":assumed-role/" + roleName + "/" + s.SessionName
	}
	mfa := "false"
	if s.MFA {
		mfa = "true"
	}
	return UserIdentity{
		Type:        TypeAssumedRole,
		PrincipalID: s.RoleID + ":" + s.SessionName,
		ARN:         sessionARN,
		AccountID:   a.Account(),
		AccessKeyID: s.AccessKeyID,
		SessionContext: &SessionContext{
			SessionIssuer: SessionIssuer{
				Type:        "Role",
				PrincipalID: s.RoleID,
				ARN:         s.RoleARN,
				AccountID:   a.Account(),
				UserName:    roleName,
			},
			WebIDFederationData: WebIDFederationData{FederatedProvider: s.FederatedProvider},
			Attributes:          SessionAttributes{MFAAuthenticated: mfa, CreationDate: NewTime(s.Created)},
			SourceIdentity:      s.SourceIdentity,
		},
	}
}

// SAMLUser returns the identity of an AssumeRoleWithSAML caller:
// principalId "<nameQualifier>:<subject>", userName the assertion's NameID
// (subject), identityProvider the NameQualifier
// (Base64(SHA1(Issuer + AccountId + "/" + ProviderName))).
func SAMLUser(nameQualifier, subject string) UserIdentity {
	return UserIdentity{
		Type:             TypeSAMLUser,
		PrincipalID:      nameQualifier + ":" + subject,
		UserName:         subject,
		IdentityProvider: nameQualifier,
	}
}

// WebIdentityUser returns the identity of an AssumeRoleWithWebIdentity
// caller: principalId "<issuer>:<audience>:<subject>", userName the token's
// sub, identityProvider its iss.
func WebIdentityUser(issuer, audience, subject string) UserIdentity {
	return UserIdentity{
		Type:             TypeWebIdentityUser,
		PrincipalID:      issuer + ":" + audience + ":" + subject,
		UserName:         subject,
		IdentityProvider: issuer,
	}
}

// AWSAccount returns the identity the role owner sees in its copy of a
// cross-account call: the caller's principal ID and account, nothing more.
func AWSAccount(principalID, accountID string) UserIdentity {
	return UserIdentity{Type: TypeAWSAccount, PrincipalID: principalID, AccountID: accountID}
}

// IdpbridgeUser returns the identity of a person known to the IdP, named by
// the connector that knows them: principalId "<connector>:<userName>".
func IdpbridgeUser(userName, connector string) UserIdentity {
	return UserIdentity{
		Type:        TypeIdpbridgeUser,
		PrincipalID: connector + ":" + userName,
		UserName:    userName,
		Connector:   connector,
	}
}

// Anonymous returns the identity of an IdP event whose person is not known.
func Anonymous() UserIdentity {
	return UserIdentity{Type: TypeAnonymous}
}

// Who names the caller for a table of events, as `audit lookup` shows it:
// the principal ARN of IAM users and role sessions; the user name of a
// SAML assertion (its NameID) or of a web identity token (its subject);
// connector:user for people signed in to the IdP and the CLI (what
// --principal takes). The SAML provider's hash (identityProvider) is left
// out.
func (u UserIdentity) Who() string {
	switch u.Type {
	case TypeIAMUser, TypeAssumedRole:
		return u.ARN
	case TypeSAMLUser, TypeWebIdentityUser:
		return u.UserName
	case TypeAWSAccount:
		return "account " + u.AccountID
	case TypeIdpbridgeUser:
		return u.PrincipalID
	}
	return ""
}
