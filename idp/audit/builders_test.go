package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func members(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

func marshal(t *testing.T, r Record) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// STS-SPEC §9 vector 15, second half.
func TestAssumeRoleEvent_DeniedHasNullResponse(t *testing.T) {
	t.Parallel()
	r := deniedAssumeRole()
	b := marshal(t, r)
	if !strings.Contains(string(b), `"responseElements":null`) {
		t.Errorf("responseElements is not written as null: %s", b)
	}
	m := members(t, b)
	if m["errorCode"] != "AccessDenied" {
		t.Errorf("errorCode = %v", m["errorCode"])
	}
	wantMsg := "User: " + devUserARN + " is not authorized to perform: sts:SetSourceIdentity on resource: " + devRoleARN
	if m["errorMessage"] != wantMsg {
		t.Errorf("errorMessage = %v, want %v", m["errorMessage"], wantMsg)
	}
	req := m["requestParameters"].(map[string]any)
	if req["sourceIdentity"] != "Bob" || req["roleArn"] != devRoleARN {
		t.Errorf("requestParameters = %v", req)
	}
	if len(r.Resources) != 1 || r.Resources[0] != (Resource{AccountID: acctA, Type: ResourceRole, ARN: devRoleARN}) {
		t.Errorf("resources = %+v", r.Resources)
	}

	// An output passed with an error is ignored.
	withOut := AssumeRoleEvent(call(devUser(), acctA, cliUA), AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: "x1"},
		&AssumeRoleOutput{AccessKeyID: "ASIAQ3EGVEXAMPLENEW9"}, &APIError{Code: "AccessDenied", Message: "no"})
	if withOut.ResponseElements != nil {
		t.Errorf("responseElements with an error = %s, want null", withOut.ResponseElements)
	}
}

// STS-SPEC §9 vector 15, first half.
func TestAssumeRoleWithSAMLEvent_SourceIdentity(t *testing.T) {
	t.Parallel()
	r := samlAssumeRole()
	if r.UserIdentity.Type != TypeSAMLUser || r.UserIdentity.PrincipalID != nameQualifier+":DiegoRamirez" ||
		r.UserIdentity.IdentityProvider != nameQualifier || r.UserIdentity.UserName != "DiegoRamirez" {
		t.Errorf("userIdentity = %+v", r.UserIdentity)
	}
	var req SAMLParams
	if err := json.Unmarshal(r.RequestParameters, &req); err != nil {
		t.Fatal(err)
	}
	var resp SAMLResponseElements
	if err := json.Unmarshal(r.ResponseElements, &resp); err != nil {
		t.Fatal(err)
	}
	if req.SourceIdentity != "DiegoRamirez" || resp.SourceIdentity != "DiegoRamirez" {
		t.Errorf("sourceIdentity: request %q, response %q, want DiegoRamirez in both", req.SourceIdentity, resp.SourceIdentity)
	}
	if resp.Credentials.SessionToken != Hidden {
		t.Errorf("sessionToken = %q", resp.Credentials.SessionToken)
	}
	want := []Resource{
		{AccountID: acctA, Type: ResourceRole, ARN: samlRoleARN},
		{AccountID: acctA, Type: ResourceSAMLProvider, ARN: samlProviderARN},
	}
	if len(r.Resources) != 2 || r.Resources[0] != want[0] || r.Resources[1] != want[1] {
		t.Errorf("resources = %+v, want %+v", r.Resources, want)
	}
}

func TestCredentials_Format(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		expires time.Time
		want    string
	}{
		{"morning", time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC), "Jan 2, 2026, 4:04:05 AM"},
		{"evening", time.Date(2019, 10, 2, 23, 12, 29, 0, time.UTC), "Oct 2, 2019, 11:12:29 PM"},
		{"noon", time.Date(2019, 10, 2, 12, 0, 0, 0, time.UTC), "Oct 2, 2019, 12:00:00 PM"},
		{"other zone is written in UTC", time.Date(2019, 10, 3, 1, 12, 29, 0, time.FixedZone("CEST", 2*3600)), "Oct 2, 2019, 11:12:29 PM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := AssumeRoleOutput{AccessKeyID: "ASIAQ3EGVEXAMPLENEW1", Expiration: tc.expires}.credentials()
			if c.Expiration != tc.want {
				t.Errorf("expiration = %q, want %q", c.Expiration, tc.want)
			}
			if c.SessionToken != Hidden {
				t.Errorf("sessionToken = %q, want %q", c.SessionToken, Hidden)
			}
		})
	}
}

func TestEventTime_UTCSeconds(t *testing.T) {
	t.Parallel()
	c := call(devUser(), acctA, cliUA)
	c.Time = time.Date(2026, 1, 2, 4, 4, 5, 987654321, time.FixedZone("X", 3600))
	b := marshal(t, GetCallerIdentityEvent(c, nil))
	if m := members(t, b); m["eventTime"] != "2026-01-02T03:04:05Z" {
		t.Errorf("eventTime = %v, want 2026-01-02T03:04:05Z", m["eventTime"])
	}
}

func TestGetCallerIdentityEvent(t *testing.T) {
	t.Parallel()
	r := sessionGetCallerIdentity()
	b := marshal(t, r)
	m := members(t, b)
	if m["readOnly"] != true {
		t.Errorf("readOnly = %v, want true", m["readOnly"])
	}
	if _, ok := m["resources"]; ok {
		t.Errorf("resources present: %s", b)
	}
	if !strings.Contains(string(b), `"requestParameters":null,"responseElements":null`) {
		t.Errorf("parameters and response are not null: %s", b)
	}
	if got := r.UserIdentity.SessionContext.SourceIdentity; got != "Saanvi" {
		t.Errorf("sessionContext.sourceIdentity = %q", got)
	}
}

func TestIdentityConstructors(t *testing.T) {
	t.Parallel()
	t.Run("IAMUser with path", func(t *testing.T) {
		id := IAMUser("arn:aws:iam::123456789012:user/division/DevUser", "AIDAEXAMPLE", "AKIAEXAMPLE")
		if id.AccountID != acctA || id.UserName != "DevUser" || id.Type != TypeIAMUser {
			t.Errorf("%+v", id)
		}
	})
	t.Run("IAMUser with a bad ARN", func(t *testing.T) {
		id := IAMUser("not-an-arn", "AIDAEXAMPLE", "AKIAEXAMPLE")
		if id.AccountID != "" || id.UserName != "" || id.ARN != "not-an-arn" {
			t.Errorf("%+v", id)
		}
	})
	t.Run("AssumedRole drops the role path", func(t *testing.T) {
		id := AssumedRole(RoleSession{
			RoleID: "AROAEXAMPLE", RoleARN: "arn:aws-cn:iam::123456789012:role/team/Dev", SessionName: "s1",
			AccessKeyID: "ASIAEXAMPLE", Created: testNow, MFA: true, FederatedProvider: "https://xyz.com",
		})
		if id.ARN != "arn:aws-cn:sts::123456789012:assumed-role/Dev/s1" || id.PrincipalID != "AROAEXAMPLE:s1" || id.AccountID != acctA {
			t.Errorf("%+v", id)
		}
		sc := id.SessionContext
		if sc.SessionIssuer != (SessionIssuer{Type: "Role", PrincipalID: "AROAEXAMPLE", ARN: "arn:aws-cn:iam::123456789012:role/team/Dev", AccountID: acctA, UserName: "Dev"}) {
			t.Errorf("sessionIssuer = %+v", sc.SessionIssuer)
		}
		if sc.Attributes.MFAAuthenticated != "true" || !sc.Attributes.CreationDate.Equal(testNow) {
			t.Errorf("attributes = %+v", sc.Attributes)
		}
		if sc.WebIDFederationData.FederatedProvider != "https://xyz.com" || sc.SourceIdentity != "" {
			t.Errorf("sessionContext = %+v", sc)
		}
	})
	t.Run("AssumedRole writes an empty webIdFederationData and no sourceIdentity", func(t *testing.T) {
		id := AssumedRole(RoleSession{RoleID: "AROAEXAMPLE", RoleARN: devRoleARN, SessionName: "s1", Created: testNow})
		b, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, `"webIdFederationData":{}`) || strings.Contains(s, "sourceIdentity") ||
			!strings.Contains(s, `"mfaAuthenticated":"false","creationDate":"2026-01-02T03:04:05Z"`) {
			t.Errorf("%s", s)
		}
	})
	t.Run("WebIdentityUser", func(t *testing.T) {
		id := WebIdentityUser("https://xyz.com", "ac_oic_client", "johndoe")
		if id.PrincipalID != "https://xyz.com:ac_oic_client:johndoe" || id.UserName != "johndoe" || id.IdentityProvider != "https://xyz.com" {
			t.Errorf("%+v", id)
		}
	})
	t.Run("IdpbridgeUser and Anonymous", func(t *testing.T) {
		if id := IdpbridgeUser("saanvi", "ldap"); id.PrincipalID != "ldap:saanvi" || id.Connector != "ldap" || id.UserName != "saanvi" {
			t.Errorf("%+v", id)
		}
		b, _ := json.Marshal(Anonymous())
		if string(b) != `{"type":"Anonymous"}` {
			t.Errorf("%s", b)
		}
	})
}

func TestCrossAccountCopies(t *testing.T) {
	t.Parallel()
	r := chainedAssumeRole()
	caller, owner := CrossAccountCopies(r, acct1, acct2, eventID2, sharedID)

	if caller.RequestID != owner.RequestID || caller.RequestID != requestID {
		t.Errorf("requestID: caller %q, owner %q, want %q", caller.RequestID, owner.RequestID, requestID)
	}
	if caller.SharedEventID != sharedID || owner.SharedEventID != sharedID {
		t.Errorf("sharedEventID: caller %q, owner %q", caller.SharedEventID, owner.SharedEventID)
	}
	if caller.EventID != eventID1 || owner.EventID != eventID2 {
		t.Errorf("eventID: caller %q, owner %q", caller.EventID, owner.EventID)
	}
	if caller.RecipientAccountID != acct1 || owner.RecipientAccountID != acct2 {
		t.Errorf("recipientAccountId: caller %q, owner %q", caller.RecipientAccountID, owner.RecipientAccountID)
	}
	if caller.UserIdentity.Type != TypeAssumedRole || caller.UserIdentity.SessionContext == nil {
		t.Errorf("caller identity = %+v", caller.UserIdentity)
	}
	wantOwner := UserIdentity{Type: TypeAWSAccount, PrincipalID: criticalRoleID + ":Saanvi", AccountID: acct1}
	if owner.UserIdentity.Type != wantOwner.Type || owner.UserIdentity.PrincipalID != wantOwner.PrincipalID ||
		owner.UserIdentity.AccountID != wantOwner.AccountID || owner.UserIdentity.SessionContext != nil || owner.UserIdentity.ARN != "" {
		t.Errorf("owner identity = %+v, want %+v", owner.UserIdentity, wantOwner)
	}
	if string(owner.RequestParameters) != string(r.RequestParameters) || string(owner.ResponseElements) != string(r.ResponseElements) {
		t.Errorf("owner copy lost the call's parameters or response")
	}

	// The copies share no memory with the original or each other.
	owner.Resources[0].ARN = "changed"
	owner.RequestParameters[0] = 'X'
	caller.UserIdentity.SessionContext.SourceIdentity = "changed"
	if r.Resources[0].ARN != criticalRole2ARN || caller.Resources[0].ARN != criticalRole2ARN {
		t.Errorf("resources shared between copies")
	}
	if r.RequestParameters[0] != '{' {
		t.Errorf("requestParameters shared between copies")
	}
	if r.UserIdentity.SessionContext.SourceIdentity != "Saanvi" {
		t.Errorf("sessionContext shared between copies")
	}
}

func TestBuilders_DoNotShareCallerIdentity(t *testing.T) {
	t.Parallel()
	id := saanviSession()
	r := GetCallerIdentityEvent(call(id, acct1, sdkUA), nil)
	r.UserIdentity.SessionContext.SourceIdentity = "changed"
	if id.SessionContext.SourceIdentity != "Saanvi" {
		t.Errorf("record shares the caller's session context")
	}
}

func TestIdPEvents_Envelope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rec       Record
		eventName string
		eventType string
		errorCode string
		nullResp  bool
	}{
		{"sign-in success", signInSuccess(), EventSignIn, EventTypeConsoleSignIn, "", false},
		{"sign-in unknown user", signInUnknownUser(), EventSignIn, EventTypeConsoleSignIn, CodeInvalidCredentials, true},
		{"sign-in disabled", signInDisabled(), EventSignIn, EventTypeConsoleSignIn, CodeAccountDisabled, true},
		{"sign-in rate limited", signInRateLimited(), EventSignIn, EventTypeConsoleSignIn, CodeRateLimited, true},
		{"sign-out", signOut(), EventSignOut, EventTypeConsoleSignIn, "", true},
		{"issue assertion", issueAssertion(samlRoleARN), EventIssueAssertion, EventTypeServiceEvent, "", false},
		{"mapping failed", mappingFailed(), EventMappingFailed, EventTypeServiceEvent, CodeMappingFailed, true},
		{"admin", adminKeyRotated(), string(AdminKeyRotated), EventTypeAPICall, "", true},
		{"admin denied", adminAuditPrunedDenied(), string(AdminAuditPruned), EventTypeAPICall, "forbidden", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rec
			if r.EventSource != SourceIdP || r.EventName != tc.eventName || r.EventType != tc.eventType ||
				r.ErrorCode != tc.errorCode || r.EventVersion != EventVersion || !r.ManagementEvent ||
				r.EventCategory != CategoryManagement || r.ReadOnly {
				t.Errorf("envelope = source %q name %q type %q error %q", r.EventSource, r.EventName, r.EventType, r.ErrorCode)
			}
			if (r.ResponseElements == nil) != tc.nullResp {
				t.Errorf("responseElements = %s", r.ResponseElements)
			}
			if r.SourceIPAddress != "198.51.100.7" {
				t.Errorf("sourceIPAddress = %q", r.SourceIPAddress)
			}
			if strings.Contains(string(marshal(t, r)), "recipientAccountId") {
				t.Errorf("IdP event names an account")
			}
		})
	}
}

func TestSignInEvent_UserName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  Record
		want SignInParams
	}{
		{"known account", signInSuccess(), SignInParams{UserName: "diego.ramirez", Connector: "ldap"}},
		{"known account, failed", signInDisabled(), SignInParams{UserName: "saanvi", Connector: "local"}},
		{"no such account", signInUnknownUser(), SignInParams{UserName: Hidden, Connector: "ldap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got SignInParams
			if err := json.Unmarshal(tc.rec.RequestParameters, &got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("requestParameters = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMappingFailedEvent_Message(t *testing.T) {
	t.Parallel()
	r := mappingFailed()
	want := `source_identity: value "John Doe" does not match [A-Za-z0-9_+=,.@-]{2,64}; roles: no group of the person maps to a role`
	if r.ErrorMessage != want {
		t.Errorf("errorMessage = %q, want %q", r.ErrorMessage, want)
	}
	empty := MappingFailedEvent(idpCall(admin()), MappingFailure{ServiceProvider: "sp", Mapping: "m"}, nil)
	if empty.ErrorMessage != "mapping failed" || empty.ErrorCode != CodeMappingFailed {
		t.Errorf("no problems: %q %q", empty.ErrorCode, empty.ErrorMessage)
	}
}

func TestIssueAssertionEvent_Resources(t *testing.T) {
	t.Parallel()
	r := issueAssertion(samlRoleARN, "not-an-arn", devRoleARN)
	if len(r.Resources) != 2 || r.Resources[0].ARN != samlRoleARN || r.Resources[1].ARN != devRoleARN {
		t.Errorf("resources = %+v", r.Resources)
	}
}
