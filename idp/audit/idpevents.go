package audit

import "strings"

// Error codes of IdP events (errorCode).
const (
	// CodeInvalidCredentials: the name or the password was wrong.
	CodeInvalidCredentials = "InvalidCredentials"
	// CodeRateLimited: too many failed sign-ins for the name or the address.
	CodeRateLimited = "RateLimited"
	// CodeAccountDisabled: the account exists but is disabled.
	CodeAccountDisabled = "AccountDisabled"
	// CodeMappingFailed: the attribute mapping could not build an assertion.
	CodeMappingFailed = "MappingFailed"
)

// SignInParams is SignIn's requestParameters. UserName is the account's
// name, or Hidden when the name typed matched no account: people type
// passwords into the name field, so an unknown name is never recorded
// (CloudTrail does the same for ConsoleLogin).
type SignInParams struct {
	UserName  string `json:"userName"`
	Connector string `json:"connector"`
}

// SignInResponse is SignIn's responseElements on success: {"SignIn":"Success"},
// as CloudTrail writes {"ConsoleLogin":"Success"}.
type SignInResponse struct {
	SignIn string `json:"SignIn"`
}

// SignInEvent returns the record of a sign-in attempt through connector
// (eventType AwsConsoleSignIn). c.Identity is IdpbridgeUser when the
// connector knows the account (success, wrong password, disabled account)
// and Anonymous when the name matched no account; the recorded userName
// follows it (see SignInParams). c.SourceIP is the client address. On
// failure err carries CodeInvalidCredentials, CodeRateLimited or
// CodeAccountDisabled and the message shown to the person, and
// responseElements is null.
func SignInEvent(c Call, connector string, err *APIError) Record {
	r := newRecord(c, SourceIdP, EventSignIn, EventTypeConsoleSignIn, err)
	name := Hidden
	if c.Identity.Type == TypeIdpbridgeUser {
		name = c.Identity.UserName
	}
	r.RequestParameters = encode(SignInParams{UserName: name, Connector: connector})
	if err == nil {
		r.ResponseElements = encode(SignInResponse{SignIn: "Success"})
	}
	return finish(r)
}

// SignOutEvent returns the record of a person signing out (eventType
// AwsConsoleSignIn; requestParameters and responseElements null).
// c.Identity is the person's IdpbridgeUser.
func SignOutEvent(c Call) Record {
	return finish(newRecord(c, SourceIdP, EventSignOut, EventTypeConsoleSignIn, nil))
}

// AssertionRequest is IssueAssertion's requestParameters: the service
// provider the assertion is for.
type AssertionRequest struct {
	// ServiceProvider is the SP's configured name.
	ServiceProvider string `json:"serviceProvider"`
	// EntityID is the SP's SAML entity ID.
	EntityID string `json:"entityId"`
}

// AssertionResponse is IssueAssertion's responseElements: what the signed
// assertion says, never the assertion itself.
type AssertionResponse struct {
	AssertionID  string `json:"assertionId"`
	NameID       string `json:"nameId"`
	NameIDFormat string `json:"nameIdFormat,omitempty"`
	// SourceIdentity is the SourceIdentity attribute put in the assertion.
	SourceIdentity  string `json:"sourceIdentity,omitempty"`
	RoleSessionName string `json:"roleSessionName,omitempty"`
	// Roles lists the role ARNs of the assertion's Role attribute values
	// (without their provider ARNs).
	Roles           []string          `json:"roles,omitempty"`
	SessionDuration int               `json:"sessionDuration,omitempty"`
	PrincipalTags   map[string]string `json:"principalTags,omitempty"`
}

// IssueAssertionEvent returns the record of a SAML assertion issued to a
// service provider (eventType AwsServiceEvent). c.Identity is the person's
// IdpbridgeUser. resources lists every role of resp.Roles that is an ARN
// with an account.
func IssueAssertionEvent(c Call, req AssertionRequest, resp AssertionResponse) Record {
	r := newRecord(c, SourceIdP, EventIssueAssertion, EventTypeServiceEvent, nil)
	r.RequestParameters = encode(req)
	r.ResponseElements = encode(resp)
	for _, role := range resp.Roles {
		if res, ok := resourceOf(role, ResourceRole); ok {
			r.Resources = append(r.Resources, res)
		}
	}
	return finish(r)
}

// MappingFailure is MappingFailed's requestParameters: the service provider
// and the mapping that could not produce an assertion.
type MappingFailure struct {
	ServiceProvider string `json:"serviceProvider"`
	EntityID        string `json:"entityId,omitempty"`
	Mapping         string `json:"mapping"`
}

// MappingFailedEvent returns the record of a mapping that could not build an
// assertion for a person (eventType AwsServiceEvent): errorCode
// CodeMappingFailed, errorMessage the problems joined by "; " (or "mapping
// failed" when none are given), responseElements null. c.Identity is the
// person's IdpbridgeUser.
func MappingFailedEvent(c Call, p MappingFailure, problems []string) Record {
	msg := strings.Join(problems, "; ")
	if msg == "" {
		msg = "mapping failed"
	}
	r := newRecord(c, SourceIdP, EventMappingFailed, EventTypeServiceEvent,
		&APIError{Code: CodeMappingFailed, Message: msg})
	r.RequestParameters = encode(p)
	return finish(r)
}

// AdminAction is the eventName of an administrator's change. The set is
// open; every name starts with "Admin".
type AdminAction string

// Admin actions.
const (
	AdminUserAdded           AdminAction = "AdminUserAdded"
	AdminUserPasswordChanged AdminAction = "AdminUserPasswordChanged"
	AdminUserDisabled        AdminAction = "AdminUserDisabled"
	AdminUserEnabled         AdminAction = "AdminUserEnabled"
	AdminKeyCreated          AdminAction = "AdminKeyCreated"
	AdminKeyRotated          AdminAction = "AdminKeyRotated"
	AdminKeyActivated        AdminAction = "AdminKeyActivated"
	AdminKeyRetired          AdminAction = "AdminKeyRetired"
	AdminAuditPruned         AdminAction = "AdminAuditPruned"
	AdminSessionRevoked      AdminAction = "AdminSessionRevoked"
	// AdminSessionsRevoked: STS sessions revoked together (a session with
	// those chained from it, or every session of a source identity);
	// details name the count, the reason and the access key IDs.
	AdminSessionsRevoked AdminAction = "AdminSessionsRevoked"
)

// Admin actions on local accounts beyond adding, passwords and disabling.
const (
	// AdminUserUpdated: attributes or groups replaced; details hold the
	// values before and after.
	AdminUserUpdated AdminAction = "AdminUserUpdated"
	// AdminUserDeleted: a local account removed, and every browser session
	// of it ended (details: browserSessionsRevoked).
	AdminUserDeleted AdminAction = "AdminUserDeleted"
)

// Admin actions on the attribute mappings edited in the console (target
// type TargetMapping, target the mapping's name; details "before" and
// "after" hold the versions as compact JSON).
const (
	// AdminMappingUpdated: a new version saved (edited, copied from the
	// config file, or withdrawn back to it).
	AdminMappingUpdated AdminAction = "AdminMappingUpdated"
	// AdminMappingRolledBack: a new version saved with an earlier
	// version's body.
	AdminMappingRolledBack AdminAction = "AdminMappingRolledBack"
)

// Admin target types (AdminChange.TargetType).
const (
	TargetUser            = "User"
	TargetSigningKey      = "SigningKey"
	TargetAuditTrail      = "AuditTrail"
	TargetSession         = "Session"
	TargetServiceProvider = "ServiceProvider"
	TargetMapping         = "Mapping"
)

// AdminChange is an Admin* event's requestParameters: what was changed.
// Target names it without revealing a secret: a user name, a key ID, a
// session's public handle (never its cookie or bearer value). Details holds
// other non-secret facts ("before": "2026-01-01T00:00:00Z", "rows": "120");
// a password, secret or token has no place here, and Redact removes values
// under such keys.
type AdminChange struct {
	TargetType string            `json:"targetType"`
	Target     string            `json:"target"`
	Details    map[string]string `json:"details,omitempty"`
}

// AdminEvent returns the record of an administrator's change (eventType
// AwsApiCall: a request to the admin API or CLI). c.Identity is the acting
// administrator (IdpbridgeUser; for the CLI, connector "cli" and the
// operating-system user). responseElements is null.
func AdminEvent(c Call, action AdminAction, ch AdminChange, err *APIError) Record {
	r := newRecord(c, SourceIdP, string(action), EventTypeAPICall, err)
	r.RequestParameters = encode(ch)
	return finish(r)
}
