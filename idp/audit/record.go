package audit

import (
	"encoding/json"
	"fmt"
	"time"

	"idpbridge/idp"
)

// Fixed values of the record envelope.
const (
	// EventVersion is the CloudTrail record format version written.
	EventVersion = "1.08"
	// SourceSTS is the eventSource of every STS event.
	SourceSTS = "sts.amazonaws.com"
	// SourceIdP is the eventSource of the IdP's own events.
	SourceIdP = "idpbridge"
	// CategoryManagement is the eventCategory of every record.
	CategoryManagement = "Management"
	// Hidden replaces a value that must not be shown: the session token in
	// responseElements, a sign-in name that matched no account, and anything
	// Redact removes. It is the marker CloudTrail itself writes.
	Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
)

// Event types (the eventType field).
const (
	// EventTypeAPICall marks a request made to an API: every STS call and
	// every Admin* change (an administrator's request to the admin API or CLI).
	EventTypeAPICall = "AwsApiCall"
	// EventTypeConsoleSignIn marks a person signing in to or out of the IdP
	// (SignIn, SignOut), as CloudTrail marks ConsoleLogin.
	EventTypeConsoleSignIn = "AwsConsoleSignIn"
	// EventTypeServiceEvent marks what the IdP did on its own as a result of
	// a sign-in: IssueAssertion and MappingFailed.
	EventTypeServiceEvent = "AwsServiceEvent"
)

// Event names (the eventName field).
const (
	EventAssumeRole                = "AssumeRole"
	EventAssumeRoleWithSAML        = "AssumeRoleWithSAML"
	EventAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
	EventGetCallerIdentity         = "GetCallerIdentity"
	EventSignIn                    = "SignIn"
	EventSignOut                   = "SignOut"
	EventIssueAssertion            = "IssueAssertion"
	EventMappingFailed             = "MappingFailed"
)

// Resource types (the type field of a Resource).
const (
	ResourceRole         = "AWS::IAM::Role"
	ResourceSAMLProvider = "AWS::IAM::SAMLProvider"
)

// Record is one audit event as a CloudTrail record. Its JSON encoding is the
// stored and exported form: fields appear in CloudTrail's order, and
// json.Marshal of the same Record always yields the same bytes.
//
// RequestParameters, ResponseElements and AdditionalEventData hold the
// encoded JSON of the event-specific types of this package (AssumeRoleParams,
// AssumeRoleResponse, ...), written by the builders; decode them with
// json.Unmarshal into those types. A nil RequestParameters or
// ResponseElements is written as JSON null (responseElements is null for
// every failed call); a nil AdditionalEventData is omitted. A Record decoded
// from its JSON encodes back to the same bytes.
type Record struct {
	EventVersion        string          `json:"eventVersion"`
	UserIdentity        UserIdentity    `json:"userIdentity"`
	EventTime           Time            `json:"eventTime"`
	EventSource         string          `json:"eventSource"`
	EventName           string          `json:"eventName"`
	AWSRegion           string          `json:"awsRegion"`
	SourceIPAddress     string          `json:"sourceIPAddress"`
	UserAgent           string          `json:"userAgent"`
	ErrorCode           string          `json:"errorCode,omitempty"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	ResponseElements    json.RawMessage `json:"responseElements"`
	AdditionalEventData json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID           string          `json:"requestID"`
	EventID             string          `json:"eventID"`
	ReadOnly            bool            `json:"readOnly"`
	Resources           []Resource      `json:"resources,omitempty"`
	EventType           string          `json:"eventType"`
	ManagementEvent     bool            `json:"managementEvent"`
	// RecipientAccountID is the account whose trail holds the record; empty
	// (and omitted) for IdP events, which belong to no account.
	RecipientAccountID string `json:"recipientAccountId,omitempty"`
	// SharedEventID links the copies of one cross-account call (see
	// CrossAccountCopies); empty (and omitted) otherwise.
	SharedEventID string `json:"sharedEventID,omitempty"`
	EventCategory string `json:"eventCategory"`
}

// Resource is an entry of the resources list: the role an STS call assumed
// (or tried to), and the SAML provider of AssumeRoleWithSAML.
type Resource struct {
	AccountID string `json:"accountId"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

// Time is an instant as CloudTrail writes eventTime and creationDate:
// RFC 3339 in UTC to the second ("2019-10-02T22:12:29Z").
type Time struct{ time.Time }

// NewTime returns t in UTC, truncated to the second.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Second)} }

const timeLayout = "2006-01-02T15:04:05Z"

// MarshalJSON writes the instant in UTC to the second.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timeLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 instant.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("audit time: %w", err)
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("audit time: %w", err)
	}
	t.Time = v.UTC()
	return nil
}

// expirationLayout is how CloudTrail writes credential expirations in
// responseElements ("Oct 2, 2019, 11:12:29 PM"), always in UTC.
const expirationLayout = "Jan 2, 2006, 3:04:05 PM"

// resourceOf returns the resource entry for the ARN s of type typ, and false
// when s is not an ARN with an account.
func resourceOf(s, typ string) (Resource, bool) {
	a, err := idp.ParseARN(s)
	if err != nil || a.Account() == "" {
		return Resource{}, false
	}
	return Resource{AccountID: a.Account(), Type: typ, ARN: s}, true
}
