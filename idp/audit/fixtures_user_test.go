package audit

func adminUserUpdated() Record {
	return AdminEvent(idpCall(admin()), AdminUserUpdated,
		AdminChange{TargetType: TargetUser, Target: "diego", Details: map[string]string{
			"before": `{"attributes":{"mail":["diego@example.com"]},"groups":["AWS-123456789012-Developer"]}`,
			"after":  `{"attributes":{"mail":["diego.ramirez@example.com"]},"groups":["AWS-123456789012-Admin"]}`,
		}}, nil)
}

func adminUserDeleted() Record {
	return AdminEvent(idpCall(admin()), AdminUserDeleted,
		AdminChange{TargetType: TargetUser, Target: "saanvi", Details: map[string]string{
			"browserSessionsRevoked": "2",
			"before":                 `{"attributes":{},"disabled":false,"groups":["AWS-123456789012-Developer"]}`,
		}}, nil)
}
