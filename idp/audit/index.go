package audit

import (
	"encoding/json"
	"time"
)

// IndexFields are the columns a store keeps beside each record so that the
// trail can be searched without reading the JSON.
type IndexFields struct {
	EventTime time.Time
	EventID   string
	Source    string // eventSource
	Name      string // eventName
	Account   string // recipientAccountId
	// Principal is who called: the arn of an IAMUser or AssumedRole caller,
	// the identityProvider of a SAMLUser or WebIdentityUser, the accountId
	// of an AWSAccount (role owner's copy), the principalId
	// ("<connector>:<userName>") of an IdpbridgeUser, "" for Anonymous.
	Principal string
	// RoleARN is the role concerned: requestParameters.roleArn (the role an
	// AssumeRole* call assumed or tried to), else the one role of resources
	// (an IssueAssertion naming a single role), else the role of the
	// caller's session (sessionContext.sessionIssuer.arn), else "".
	RoleARN string
	// SourceIdentity is the first non-empty of: the source identity the
	// calling session carries (sessionContext.sourceIdentity), the one the
	// call set or tried to set (requestParameters.sourceIdentity), and the
	// one the call issued (responseElements.sourceIdentity: a chained
	// session's inherited value in the role owner's copy, or the
	// SourceIdentity an IssueAssertion put in the assertion).
	SourceIdentity string
	ErrorCode      string
	ClientAddress  string // sourceIPAddress
	RequestID      string

	// SecondSourceIdentity is a second source identity the record carries,
	// "" when it carries at most one: the value a chained call tried to set
	// while its session carries another (AccessDenied). The record is
	// found under either.
	SecondSourceIdentity string
}

// Index returns r's index columns. It reads only r and never fails: a part
// of the record that cannot be read contributes nothing.
func (r *Record) Index() IndexFields {
	req := elementKeys(r.RequestParameters)
	resp := elementKeys(r.ResponseElements)
	id := r.UserIdentity

	f := IndexFields{
		EventTime:     r.EventTime.Time,
		EventID:       r.EventID,
		Source:        r.EventSource,
		Name:          r.EventName,
		Account:       r.RecipientAccountID,
		ErrorCode:     r.ErrorCode,
		ClientAddress: r.SourceIPAddress,
		RequestID:     r.RequestID,
	}

	switch id.Type {
	case TypeIAMUser, TypeAssumedRole:
		f.Principal = id.ARN
	case TypeSAMLUser, TypeWebIdentityUser:
		f.Principal = id.IdentityProvider
	case TypeAWSAccount:
		f.Principal = id.AccountID
	case TypeIdpbridgeUser:
		f.Principal = id.PrincipalID
	}

	f.RoleARN = req.RoleARN
	if f.RoleARN == "" {
		var roles []string
		for _, res := range r.Resources {
			if res.Type == ResourceRole {
				roles = append(roles, res.ARN)
			}
		}
		if len(roles) == 1 {
			f.RoleARN = roles[0]
		}
	}
	if f.RoleARN == "" && id.SessionContext != nil {
		f.RoleARN = id.SessionContext.SessionIssuer.ARN
	}

	var carried string
	if id.SessionContext != nil {
		carried = id.SessionContext.SourceIdentity
	}
	for _, si := range []string{carried, req.SourceIdentity, resp.SourceIdentity} {
		f.addSourceIdentity(si)
	}
	return f
}

// addSourceIdentity files si as the first or second source identity of f,
// unless it is empty or already there. A record carries at most two
// distinct values (a session's and a different one it tried to set); a
// third would be dropped.
func (f *IndexFields) addSourceIdentity(si string) {
	switch {
	case si == "" || si == f.SourceIdentity || si == f.SecondSourceIdentity:
	case f.SourceIdentity == "":
		f.SourceIdentity = si
	case f.SecondSourceIdentity == "":
		f.SecondSourceIdentity = si
	}
}

// indexKeys are the members of requestParameters and responseElements the
// index reads; they have the same names in every event that has them.
type indexKeys struct {
	RoleARN        string `json:"roleArn"`
	SourceIdentity string `json:"sourceIdentity"`
}

// elementKeys reads the index members of an element; a null, absent or
// unreadable element gives none.
func elementKeys(raw json.RawMessage) indexKeys {
	var k indexKeys
	if len(raw) == 0 {
		return k
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return indexKeys{}
	}
	return k
}
