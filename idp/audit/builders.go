package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"

	"idpbridge/idp"
)

// Call is what every event shares: who asked, from where, when, and the IDs
// the caller generated for it.
type Call struct {
	// EventID is a fresh UUID for this record.
	EventID string
	// RequestID is the ID returned to the client (the STS RequestId, or the
	// IdP's request ID).
	RequestID string
	// Time is when the request was handled; it is written in UTC to the
	// second.
	Time time.Time
	// Region is the STS region (awsRegion).
	Region string
	// SourceIP is the client address (sourceIPAddress).
	SourceIP string
	// UserAgent is the client's User-Agent header.
	UserAgent string
	// RecipientAccount is the account whose trail gets the record: for
	// AssumeRole and GetCallerIdentity the caller's account (see
	// CrossAccountCopies for the role owner's copy), for AssumeRoleWithSAML
	// and AssumeRoleWithWebIdentity the role's account, empty for IdP events.
	RecipientAccount string
	// Identity is the caller, built with one of this package's identity
	// constructors.
	Identity UserIdentity
}

// APIError is a failed call's outcome: the error code and message returned
// to the client (AWS's, for STS calls). A nil *APIError means success.
type APIError struct {
	Code    string
	Message string
}

// PolicyARN is an entry of policyArns.
type PolicyARN struct {
	ARN string `json:"arn"`
}

// AssumeRoleParams is AssumeRole's requestParameters: the request as the
// caller sent it (with incomingTransitiveTags, the transitive tags the
// calling session passed on). Empty fields are omitted. There is no
// tokenCode: a one-time MFA code is not recorded.
type AssumeRoleParams struct {
	RoleARN                string            `json:"roleArn"`
	RoleSessionName        string            `json:"roleSessionName"`
	DurationSeconds        int               `json:"durationSeconds,omitempty"`
	ExternalID             string            `json:"externalId,omitempty"`
	SourceIdentity         string            `json:"sourceIdentity,omitempty"`
	SerialNumber           string            `json:"serialNumber,omitempty"`
	Tags                   []idp.Tag         `json:"tags,omitempty"`
	TransitiveTagKeys      []string          `json:"transitiveTagKeys,omitempty"`
	IncomingTransitiveTags map[string]string `json:"incomingTransitiveTags,omitempty"`
	PolicyARNs             []PolicyARN       `json:"policyArns,omitempty"`
	Policy                 string            `json:"policy,omitempty"`
}

// SAMLParams is AssumeRoleWithSAML's requestParameters: the API parameters
// plus what the STS read from the assertion (its ID, RoleSessionName,
// SourceIdentity, PrincipalTag and TransitiveTagKeys attributes). The
// assertion itself is never recorded. Empty fields are omitted, except
// roleArn and principalArn.
type SAMLParams struct {
	SAMLAssertionID   string            `json:"sAMLAssertionID,omitempty"`
	RoleSessionName   string            `json:"roleSessionName,omitempty"`
	SourceIdentity    string            `json:"sourceIdentity,omitempty"`
	PrincipalTags     map[string]string `json:"principalTags,omitempty"`
	TransitiveTagKeys []string          `json:"transitiveTagKeys,omitempty"`
	DurationSeconds   int               `json:"durationSeconds,omitempty"`
	RoleARN           string            `json:"roleArn"`
	PrincipalARN      string            `json:"principalArn"`
	PolicyARNs        []PolicyARN       `json:"policyArns,omitempty"`
	Policy            string            `json:"policy,omitempty"`
}

// WebIdentityParams is AssumeRoleWithWebIdentity's requestParameters: the
// API parameters plus the source identity and tags the token's claims
// carried. The token itself is never recorded. Empty fields are omitted.
type WebIdentityParams struct {
	RoleARN           string            `json:"roleArn"`
	RoleSessionName   string            `json:"roleSessionName"`
	DurationSeconds   int               `json:"durationSeconds,omitempty"`
	SourceIdentity    string            `json:"sourceIdentity,omitempty"`
	PrincipalTags     map[string]string `json:"principalTags,omitempty"`
	TransitiveTagKeys []string          `json:"transitiveTagKeys,omitempty"`
	PolicyARNs        []PolicyARN       `json:"policyArns,omitempty"`
	Policy            string            `json:"policy,omitempty"`
}

// AssumeRoleOutput is what a successful AssumeRole* issued, as far as the
// trail may know it. It has no field for the secret key or the session
// token: the record shows the session token as Hidden.
type AssumeRoleOutput struct {
	// AccessKeyID is the new temporary key (ASIA...).
	AccessKeyID string
	// Expiration is when the credentials expire.
	Expiration time.Time
	// AssumedRoleID is "<RoleId>:<RoleSessionName>".
	AssumedRoleID string
	// ARN is the session's assumed-role ARN.
	ARN string
	// SourceIdentity is the new session's source identity (set by the call
	// or inherited by chaining), "" for none.
	SourceIdentity string
	// PackedPolicySize is the packed size percentage, 0 when the call had no
	// session policy or tags.
	PackedPolicySize int
}

// SAMLOutput is what a successful AssumeRoleWithSAML issued.
type SAMLOutput struct {
	AssumeRoleOutput
	// SubjectType is the NameID format without
	// "urn:oasis:names:tc:SAML:2.0:nameid-format:" ("transient", ...).
	SubjectType   string
	Issuer        string
	NameQualifier string
	Subject       string
	// Audience is the assertion's Recipient.
	Audience string
}

// WebIdentityOutput is what a successful AssumeRoleWithWebIdentity issued.
type WebIdentityOutput struct {
	AssumeRoleOutput
	Provider                    string
	SubjectFromWebIdentityToken string
	Audience                    string
}

// Credentials is the credentials element of responseElements. SessionToken
// is always Hidden; the secret key has no field.
type Credentials struct {
	AccessKeyID  string `json:"accessKeyId"`
	SessionToken string `json:"sessionToken"`
	// Expiration is written as CloudTrail writes it: "Oct 2, 2019, 11:12:29 PM" (UTC).
	Expiration string `json:"expiration"`
}

// AssumedRoleUser is the assumedRoleUser element of responseElements.
type AssumedRoleUser struct {
	AssumedRoleID string `json:"assumedRoleId"`
	ARN           string `json:"arn"`
}

// AssumeRoleResponse is AssumeRole's responseElements.
type AssumeRoleResponse struct {
	Credentials      Credentials     `json:"credentials"`
	AssumedRoleUser  AssumedRoleUser `json:"assumedRoleUser"`
	PackedPolicySize int             `json:"packedPolicySize,omitempty"`
	SourceIdentity   string          `json:"sourceIdentity,omitempty"`
}

// SAMLResponseElements is AssumeRoleWithSAML's responseElements, in the
// order CloudTrail writes them.
type SAMLResponseElements struct {
	SubjectType      string          `json:"subjectType,omitempty"`
	Issuer           string          `json:"issuer,omitempty"`
	Credentials      Credentials     `json:"credentials"`
	NameQualifier    string          `json:"nameQualifier,omitempty"`
	AssumedRoleUser  AssumedRoleUser `json:"assumedRoleUser"`
	PackedPolicySize int             `json:"packedPolicySize,omitempty"`
	Subject          string          `json:"subject,omitempty"`
	SourceIdentity   string          `json:"sourceIdentity,omitempty"`
	Audience         string          `json:"audience,omitempty"`
}

// WebIdentityResponseElements is AssumeRoleWithWebIdentity's
// responseElements, in the order CloudTrail writes them.
type WebIdentityResponseElements struct {
	Provider                    string          `json:"provider,omitempty"`
	SubjectFromWebIdentityToken string          `json:"subjectFromWebIdentityToken,omitempty"`
	Audience                    string          `json:"audience,omitempty"`
	Credentials                 Credentials     `json:"credentials"`
	AssumedRoleUser             AssumedRoleUser `json:"assumedRoleUser"`
	PackedPolicySize            int             `json:"packedPolicySize,omitempty"`
	SourceIdentity              string          `json:"sourceIdentity,omitempty"`
}

func (o AssumeRoleOutput) credentials() Credentials {
	return Credentials{
		AccessKeyID:  o.AccessKeyID,
		SessionToken: Hidden,
		Expiration:   o.Expiration.UTC().Format(expirationLayout),
	}
}

func (o AssumeRoleOutput) assumedRoleUser() AssumedRoleUser {
	return AssumedRoleUser{AssumedRoleID: o.AssumedRoleID, ARN: o.ARN}
}

// AssumeRoleEvent returns the record of an AssumeRole call. On success (err
// nil) out must describe what was issued; on failure out is ignored,
// errorCode and errorMessage are err's and responseElements is null. A nil
// out with a nil err also gives a null responseElements. resources lists
// p.RoleARN when it is an ARN with an account, whatever the outcome.
func AssumeRoleEvent(c Call, p AssumeRoleParams, out *AssumeRoleOutput, err *APIError) Record {
	r := newRecord(c, SourceSTS, EventAssumeRole, EventTypeAPICall, err)
	r.RequestParameters = encode(p)
	if err == nil && out != nil {
		r.ResponseElements = encode(AssumeRoleResponse{
			Credentials:      out.credentials(),
			AssumedRoleUser:  out.assumedRoleUser(),
			PackedPolicySize: out.PackedPolicySize,
			SourceIdentity:   out.SourceIdentity,
		})
	}
	r.Resources = resources(p.RoleARN, "")
	return finish(r)
}

// AssumeRoleWithSAMLEvent returns the record of an AssumeRoleWithSAML call,
// with the same outcome rules as AssumeRoleEvent. c.Identity is normally
// SAMLUser; a call rejected before the assertion was read may use
// Anonymous. resources lists the role and the SAML provider.
func AssumeRoleWithSAMLEvent(c Call, p SAMLParams, out *SAMLOutput, err *APIError) Record {
	r := newRecord(c, SourceSTS, EventAssumeRoleWithSAML, EventTypeAPICall, err)
	r.RequestParameters = encode(p)
	if err == nil && out != nil {
		r.ResponseElements = encode(SAMLResponseElements{
			SubjectType:      out.SubjectType,
			Issuer:           out.Issuer,
			Credentials:      out.credentials(),
			NameQualifier:    out.NameQualifier,
			AssumedRoleUser:  out.assumedRoleUser(),
			PackedPolicySize: out.PackedPolicySize,
			Subject:          out.Subject,
			SourceIdentity:   out.SourceIdentity,
			Audience:         out.Audience,
		})
	}
	r.Resources = resources(p.RoleARN, p.PrincipalARN)
	return finish(r)
}

// AssumeRoleWithWebIdentityEvent returns the record of an
// AssumeRoleWithWebIdentity call, with the same outcome rules as
// AssumeRoleEvent. c.Identity is normally WebIdentityUser. resources lists
// the role.
func AssumeRoleWithWebIdentityEvent(c Call, p WebIdentityParams, out *WebIdentityOutput, err *APIError) Record {
	r := newRecord(c, SourceSTS, EventAssumeRoleWithWebIdentity, EventTypeAPICall, err)
	r.RequestParameters = encode(p)
	if err == nil && out != nil {
		r.ResponseElements = encode(WebIdentityResponseElements{
			Provider:                    out.Provider,
			SubjectFromWebIdentityToken: out.SubjectFromWebIdentityToken,
			Audience:                    out.Audience,
			Credentials:                 out.credentials(),
			AssumedRoleUser:             out.assumedRoleUser(),
			PackedPolicySize:            out.PackedPolicySize,
			SourceIdentity:              out.SourceIdentity,
		})
	}
	r.Resources = resources(p.RoleARN, "")
	return finish(r)
}

// GetCallerIdentityEvent returns the record of a GetCallerIdentity call:
// readOnly true, requestParameters and responseElements null (as CloudTrail
// writes it), no resources.
func GetCallerIdentityEvent(c Call, err *APIError) Record {
	r := newRecord(c, SourceSTS, EventGetCallerIdentity, EventTypeAPICall, err)
	r.ReadOnly = true
	return finish(r)
}

// CrossAccountCopies returns the two records of a call made from
// callerAccount on a role in roleAccount (a cross-account AssumeRole): the
// caller's copy (r with recipientAccountId callerAccount) and the role
// owner's copy (eventID ownerEventID, recipientAccountId roleAccount, and
// userIdentity reduced to AWSAccount with the caller's principal ID and
// callerAccount). Both carry sharedEventID and keep r's requestID,
// parameters, response and resources. The copies share no memory with r.
func CrossAccountCopies(r Record, callerAccount, roleAccount, ownerEventID, sharedEventID string) (callerCopy, ownerCopy Record) {
	callerCopy = clone(r)
	callerCopy.RecipientAccountID = callerAccount
	callerCopy.SharedEventID = sharedEventID

	ownerCopy = clone(r)
	ownerCopy.EventID = ownerEventID
	ownerCopy.RecipientAccountID = roleAccount
	ownerCopy.SharedEventID = sharedEventID
	ownerCopy.UserIdentity = AWSAccount(r.UserIdentity.PrincipalID, callerAccount)
	return callerCopy, ownerCopy
}

// newRecord fills the envelope shared by every event.
func newRecord(c Call, source, name, eventType string, err *APIError) Record {
	r := Record{
		EventVersion:       EventVersion,
		UserIdentity:       c.Identity,
		EventTime:          NewTime(c.Time),
		EventSource:        source,
		EventName:          name,
		AWSRegion:          c.Region,
		SourceIPAddress:    c.SourceIP,
		UserAgent:          c.UserAgent,
		RequestID:          c.RequestID,
		EventID:            c.EventID,
		EventType:          eventType,
		ManagementEvent:    true,
		RecipientAccountID: c.RecipientAccount,
		EventCategory:      CategoryManagement,
	}
	if c.Identity.SessionContext != nil {
		sc := *c.Identity.SessionContext
		r.UserIdentity.SessionContext = &sc
	}
	if err != nil {
		r.ErrorCode, r.ErrorMessage = err.Code, err.Message
	}
	return r
}

// finish applies the secret guard to a built record.
func finish(r Record) Record {
	Redact(&r)
	return r
}

// resources lists the role and, when given, the SAML provider, skipping
// values that are not ARNs with an account.
func resources(roleARN, samlProviderARN string) []Resource {
	var rs []Resource
	if res, ok := resourceOf(roleARN, ResourceRole); ok {
		rs = append(rs, res)
	}
	if res, ok := resourceOf(samlProviderARN, ResourceSAMLProvider); ok {
		rs = append(rs, res)
	}
	return rs
}

// encode marshals one of this package's element types. They hold only
// strings, numbers, slices and string maps, so marshalling cannot fail; a
// failure would leave the element null rather than panic.
func encode(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// clone returns a copy of r that shares no slices, maps or pointers with it.
func clone(r Record) Record {
	c := r
	c.RequestParameters = bytes.Clone(r.RequestParameters)
	c.ResponseElements = bytes.Clone(r.ResponseElements)
	c.AdditionalEventData = bytes.Clone(r.AdditionalEventData)
	c.Resources = slices.Clone(r.Resources)
	if r.UserIdentity.SessionContext != nil {
		sc := *r.UserIdentity.SessionContext
		c.UserIdentity.SessionContext = &sc
	}
	return c
}
