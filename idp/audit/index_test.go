package audit

import (
	"encoding/json"
	"testing"
)

func TestIndex(t *testing.T) {
	t.Parallel()
	sessionARN := "arn:aws:sts::" + acct1 + ":assumed-role/CriticalRole/Saanvi"
	tests := []struct {
		name           string
		rec            Record
		principal      string
		roleARN        string
		sourceIdentity string
		errorCode      string
		account        string
	}{
		{"IAM user sets a source identity", iamUserAssumeRole(), devUserARN, devRoleARN, "DevUser", "", acctA},
		{"IAM user requests a source identity and is denied", deniedAssumeRole(), devUserARN, devRoleARN, "Bob", "AccessDenied", acctA},
		{"IAM user without source identity",
			AssumeRoleEvent(call(devUser(), acctA, cliUA), AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: "plain"}, nil,
				&APIError{Code: "AccessDenied", Message: "denied"}),
			devUserARN, devRoleARN, "", "AccessDenied", acctA},
		{"session-carried, later call", sessionGetCallerIdentity(), sessionARN, criticalRoleARN, "Saanvi", "", acct1},
		{"session-carried, chained call", callerCopy(chainedAssumeRole()), sessionARN, criticalRole2ARN, "Saanvi", "", acct1},
		{"session-carried wins over a different requested value", deniedChainedAssumeRole(), sessionARN, criticalRole2ARN, "Saanvi", "AccessDenied", acct1},
		{"owner copy of a chained call: the issued session's value", ownerCopy(chainedAssumeRole()), acct1, criticalRole2ARN, "Saanvi", "", acct2},
		{"owner copy of a denied call that requested one", ownerCopy(deniedChainedAssumeRole()), acct1, criticalRole2ARN, "Diego", "AccessDenied", acct2},
		{"SAML", samlAssumeRole(), nameQualifier, samlRoleARN, "DiegoRamirez", "", acctA},
		{"web identity", webIdentityAssumeRole(), "https://xyz.com", webRoleARN, "Saanvi", "", acctA},
		{"assertion with one role", issueAssertion(samlRoleARN), "ldap:diego.ramirez", samlRoleARN, "DiegoRamirez", "", ""},
		{"assertion with several roles", issueAssertion(samlRoleARN, devRoleARN), "ldap:diego.ramirez", "", "DiegoRamirez", "", ""},
		{"sign-in of an unknown name", signInUnknownUser(), "", "", "", CodeInvalidCredentials, ""},
		{"admin change", adminPasswordChanged(), "local:admin", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.rec.Index()
			if f.Principal != tc.principal {
				t.Errorf("Principal = %q, want %q", f.Principal, tc.principal)
			}
			if f.RoleARN != tc.roleARN {
				t.Errorf("RoleARN = %q, want %q", f.RoleARN, tc.roleARN)
			}
			if f.SourceIdentity != tc.sourceIdentity {
				t.Errorf("SourceIdentity = %q, want %q", f.SourceIdentity, tc.sourceIdentity)
			}
			if f.ErrorCode != tc.errorCode {
				t.Errorf("ErrorCode = %q, want %q", f.ErrorCode, tc.errorCode)
			}
			if f.Account != tc.account {
				t.Errorf("Account = %q, want %q", f.Account, tc.account)
			}
			if !f.EventTime.Equal(testNow) || f.EventID != tc.rec.EventID || f.RequestID != requestID ||
				f.Source != tc.rec.EventSource || f.Name != tc.rec.EventName || f.ClientAddress != tc.rec.SourceIPAddress {
				t.Errorf("plain columns = %+v", f)
			}
		})
	}
}

func TestIndex_UnreadableElements(t *testing.T) {
	t.Parallel()
	r := iamUserAssumeRole()
	r.RequestParameters = json.RawMessage(`{"roleArn": 7`)
	r.ResponseElements = json.RawMessage(`"just a string"`)
	f := r.Index()
	if f.RoleARN != devRoleARN {
		t.Errorf("RoleARN = %q, want the resource %q", f.RoleARN, devRoleARN)
	}
	if f.SourceIdentity != "" {
		t.Errorf("SourceIdentity = %q, want empty", f.SourceIdentity)
	}
}
