package audit

import (
	"time"

	"idpbridge/idp"
)

// Fixed inputs shared by the tests: accounts from STS-SPEC's vectors and
// seed scenarios, a fixed clock and fixed IDs.
var (
	testNow    = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testExpiry = testNow.Add(time.Hour)
)

const (
	acctA  = "123456789012"
	acct1  = "111111111111"
	acct2  = "222222222222"
	region = "us-east-1"
	cliUA  = "aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#sts.assume-role"
	sdkUA  = "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/sts#1.52.0 m/E"
	webUA  = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

	eventID1  = "6f1c1a52-0d6e-4a5e-9d0e-0a7b9c1d2e01"
	eventID2  = "6f1c1a52-0d6e-4a5e-9d0e-0a7b9c1d2e02"
	sharedID  = "0b5e2f4c-7a1d-4c3b-8e9f-1a2b3c4d5e6f"
	requestID = "c2a9e5f1-4b7d-4e8a-9f3c-2d1e0b9a8c7d"

	devUserARN = "arn:aws:iam::" + acctA + ":user/DevUser"
	devUserID  = "AIDAQ3EGVEXAMPLEUSER1"
	devUserKey = "AKIAQ3EGVEXAMPLEKEY1"
	devRoleARN = "arn:aws:iam::" + acctA + ":role/Developer_Role"
	devRoleID  = "AROAQ3EGVEXAMPLEROLE1"

	criticalRoleARN  = "arn:aws:iam::" + acct1 + ":role/CriticalRole"
	criticalRoleID   = "AROAQ3EGVEXAMPLECRIT1"
	criticalRole2ARN = "arn:aws:iam::" + acct2 + ":role/CriticalRole_2"
	criticalRole2ID  = "AROAQ3EGVEXAMPLECRIT2"

	samlProviderARN = "arn:aws:iam::" + acctA + ":saml-provider/MySAMLIdP"
	samlRoleARN     = "arn:aws:iam::" + acctA + ":role/FederatedDeveloper"
	samlRoleID      = "AROAQ3EGVEXAMPLESAML1"
	nameQualifier   = "1uAJanUnBc2XeUkHURMht+xam2c="

	webRoleARN = "arn:aws:iam::" + acctA + ":role/WebIdentityRole"
	webRoleID  = "AROAQ3EGVEXAMPLEWEB01"
)

func call(id UserIdentity, recipient, ua string) Call {
	return Call{
		EventID:          eventID1,
		RequestID:        requestID,
		Time:             testNow,
		Region:           region,
		SourceIP:         "203.0.113.10",
		UserAgent:        ua,
		RecipientAccount: recipient,
		Identity:         id,
	}
}

func devUser() UserIdentity { return IAMUser(devUserARN, devUserID, devUserKey) }

// saanviSession is a session of CriticalRole (seed scenario 6) carrying the
// source identity Saanvi.
func saanviSession() UserIdentity {
	return AssumedRole(RoleSession{
		RoleID:         criticalRoleID,
		RoleARN:        criticalRoleARN,
		SessionName:    "Saanvi",
		AccessKeyID:    "ASIAQ3EGVEXAMPLESES1",
		Created:        testNow.Add(-10 * time.Minute),
		SourceIdentity: "Saanvi",
	})
}

func idpCall(id UserIdentity) Call {
	c := call(id, "", webUA)
	c.SourceIP = "198.51.100.7"
	return c
}

// iamUserAssumeRole is seed scenario 1: DevUser assumes Developer_Role with
// source identity DevUser.
func iamUserAssumeRole() Record {
	return AssumeRoleEvent(call(devUser(), acctA, cliUA),
		AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: "Dev-project", DurationSeconds: 3600, SourceIdentity: "DevUser"},
		&AssumeRoleOutput{
			AccessKeyID:    "ASIAQ3EGVEXAMPLENEW1",
			Expiration:     testExpiry,
			AssumedRoleID:  devRoleID + ":Dev-project",
			ARN:            "arn:aws:sts::" + acctA + ":assumed-role/Developer_Role/Dev-project",
			SourceIdentity: "DevUser",
		}, nil)
}

// deniedAssumeRole is STS-SPEC §9 vector 7 with Bob: AccessDenied on
// sts:SetSourceIdentity.
func deniedAssumeRole() Record {
	return AssumeRoleEvent(call(devUser(), acctA, cliUA),
		AssumeRoleParams{RoleARN: devRoleARN, RoleSessionName: "Dev-project", SourceIdentity: "Bob"},
		nil, &APIError{
			Code:    "AccessDenied",
			Message: "User: " + devUserARN + " is not authorized to perform: sts:SetSourceIdentity on resource: " + devRoleARN,
		})
}

// chainedAssumeRole is seed scenario 6: the Saanvi session of CriticalRole
// assumes CriticalRole_2 in another account without passing a source
// identity; the new session inherits Saanvi.
func chainedAssumeRole() Record {
	return AssumeRoleEvent(call(saanviSession(), acct1, sdkUA),
		AssumeRoleParams{
			RoleARN:                criticalRole2ARN,
			RoleSessionName:        "Saanvi-chained",
			DurationSeconds:        3600,
			Tags:                   []idp.Tag{{Key: "Project", Value: "Unicorn"}},
			TransitiveTagKeys:      []string{"Project"},
			IncomingTransitiveTags: map[string]string{"Department": "Engineering", "CostCenter": "987654"},
		},
		&AssumeRoleOutput{
			AccessKeyID:      "ASIAQ3EGVEXAMPLENEW2",
			Expiration:       testExpiry,
			AssumedRoleID:    criticalRole2ID + ":Saanvi-chained",
			ARN:              "arn:aws:sts::" + acct2 + ":assumed-role/CriticalRole_2/Saanvi-chained",
			SourceIdentity:   "Saanvi",
			PackedPolicySize: 4,
		}, nil)
}

// deniedChainedAssumeRole is seed scenario 6 passing Diego from a Saanvi
// session: denied.
func deniedChainedAssumeRole() Record {
	return AssumeRoleEvent(call(saanviSession(), acct1, sdkUA),
		AssumeRoleParams{RoleARN: criticalRole2ARN, RoleSessionName: "Saanvi-chained", SourceIdentity: "Diego"},
		nil, &APIError{
			Code: "AccessDenied",
			Message: "User: arn:aws:sts::" + acct1 + ":assumed-role/CriticalRole/Saanvi is not authorized to perform: " +
				"sts:SetSourceIdentity on resource: " + criticalRole2ARN,
		})
}

// samlAssumeRole is STS-SPEC §9 vector 15 with seed scenario 3: an
// assertion carrying SourceIdentity DiegoRamirez.
func samlAssumeRole() Record {
	return AssumeRoleWithSAMLEvent(call(SAMLUser(nameQualifier, "DiegoRamirez"), acctA, sdkUA),
		SAMLParams{
			SAMLAssertionID:   "id-4f7a2c9e1b3d5f708192a3b4c5d6e7f8",
			RoleSessionName:   "DiegoRamirez",
			SourceIdentity:    "DiegoRamirez",
			PrincipalTags:     map[string]string{"Project": "Unicorn", "Department": "Engineering"},
			TransitiveTagKeys: []string{"Project"},
			DurationSeconds:   3600,
			RoleARN:           samlRoleARN,
			PrincipalARN:      samlProviderARN,
		},
		&SAMLOutput{
			AssumeRoleOutput: AssumeRoleOutput{
				AccessKeyID:    "ASIAQ3EGVEXAMPLENEW3",
				Expiration:     testExpiry,
				AssumedRoleID:  samlRoleID + ":DiegoRamirez",
				ARN:            "arn:aws:sts::" + acctA + ":assumed-role/FederatedDeveloper/DiegoRamirez",
				SourceIdentity: "DiegoRamirez",
			},
			SubjectType:   "persistent",
			Issuer:        "https://example.com/saml",
			NameQualifier: nameQualifier,
			Subject:       "DiegoRamirez",
			Audience:      "https://signin.aws.amazon.com/saml",
		}, nil)
}

// webIdentityAssumeRole is seed scenario 4 with source identity Saanvi
// (STS-SPEC §9 vector 11, success).
func webIdentityAssumeRole() Record {
	return AssumeRoleWithWebIdentityEvent(call(WebIdentityUser("https://xyz.com", "ac_oic_client", "johndoe"), acctA, sdkUA),
		WebIdentityParams{RoleARN: webRoleARN, RoleSessionName: "johndoe-session", DurationSeconds: 3600, SourceIdentity: "Saanvi"},
		&WebIdentityOutput{
			AssumeRoleOutput: AssumeRoleOutput{
				AccessKeyID:    "ASIAQ3EGVEXAMPLENEW4",
				Expiration:     testExpiry,
				AssumedRoleID:  webRoleID + ":johndoe-session",
				ARN:            "arn:aws:sts::" + acctA + ":assumed-role/WebIdentityRole/johndoe-session",
				SourceIdentity: "Saanvi",
			},
			Provider:                    "https://xyz.com",
			SubjectFromWebIdentityToken: "johndoe",
			Audience:                    "ac_oic_client",
		}, nil)
}

// ownerCopy is the role owner's copy of chainedAssumeRole.
func ownerCopy(r Record) Record {
	_, owner := CrossAccountCopies(r, acct1, acct2, eventID2, sharedID)
	return owner
}

func callerCopy(r Record) Record {
	caller, _ := CrossAccountCopies(r, acct1, acct2, eventID2, sharedID)
	return caller
}

func sessionGetCallerIdentity() Record {
	return GetCallerIdentityEvent(call(saanviSession(), acct1, sdkUA), nil)
}

func signInSuccess() Record {
	return SignInEvent(idpCall(IdpbridgeUser("diego.ramirez", "ldap")), "ldap", nil)
}

func signInUnknownUser() Record {
	return SignInEvent(idpCall(Anonymous()), "ldap",
		&APIError{Code: CodeInvalidCredentials, Message: "Invalid username or password."})
}

func signInDisabled() Record {
	return SignInEvent(idpCall(IdpbridgeUser("saanvi", "local")), "local",
		&APIError{Code: CodeAccountDisabled, Message: "Invalid username or password."})
}

func signInRateLimited() Record {
	return SignInEvent(idpCall(IdpbridgeUser("saanvi", "local")), "local",
		&APIError{Code: CodeRateLimited, Message: "Too many attempts. Try again later."})
}

func signOut() Record {
	return SignOutEvent(idpCall(IdpbridgeUser("diego.ramirez", "ldap")))
}

func issueAssertion(roles ...string) Record {
	return IssueAssertionEvent(idpCall(IdpbridgeUser("diego.ramirez", "ldap")),
		AssertionRequest{ServiceProvider: "aws-prod", EntityID: "urn:amazon:webservices"},
		AssertionResponse{
			AssertionID:     "id-4f7a2c9e1b3d5f708192a3b4c5d6e7f8",
			NameID:          "diego.ramirez@example.com",
			NameIDFormat:    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
			SourceIdentity:  "DiegoRamirez",
			RoleSessionName: "diego.ramirez@example.com",
			Roles:           roles,
			SessionDuration: 3600,
			PrincipalTags:   map[string]string{"Department": "Engineering"},
		})
}

func mappingFailed() Record {
	return MappingFailedEvent(idpCall(IdpbridgeUser("john doe", "local")),
		MappingFailure{ServiceProvider: "aws-prod", EntityID: "urn:amazon:webservices", Mapping: "aws-prod"},
		[]string{
			`source_identity: value "John Doe" does not match [A-Za-z0-9_+=,.@-]{2,64}`,
			"roles: no group of the person maps to a role",
		})
}

func admin() UserIdentity { return IdpbridgeUser("admin", "local") }

func adminPasswordChanged() Record {
	return AdminEvent(idpCall(admin()), AdminUserPasswordChanged,
		AdminChange{TargetType: TargetUser, Target: "saanvi"}, nil)
}

func adminKeyRotated() Record {
	return AdminEvent(idpCall(admin()), AdminKeyRotated,
		AdminChange{TargetType: TargetSigningKey, Target: "key-2026-01", Details: map[string]string{"previous": "key-2025-07", "algorithm": "RSA-SHA256"}}, nil)
}

func adminAuditPrunedDenied() Record {
	return AdminEvent(idpCall(IdpbridgeUser("auditor", "ldap")), AdminAuditPruned,
		AdminChange{TargetType: TargetAuditTrail, Target: "trail", Details: map[string]string{"before": "2025-01-01T00:00:00Z"}},
		&APIError{Code: "forbidden", Message: "You may not do this."})
}
