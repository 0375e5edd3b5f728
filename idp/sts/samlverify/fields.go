package samlverify

import "time"

// assertionFields is what the strict profile reads of an assertion: the
// values checkAssertion checks and returns. The verifier fills it from the
// verified tree; the oracle (tests) from crewjam's Assertion.
type assertionFields struct {
	ID, Version, Issuer string
	IssueInstant        time.Time
	Subject             *subjectFields    // nil without a Subject
	Conditions          *conditionsFields // nil without Conditions
	AuthnStatements     []authnFields
	AttributeStatements [][]attributeFields
}

type subjectFields struct {
	NameID        *nameIDFields // nil without a NameID
	Confirmations []confirmationFields
}

type nameIDFields struct{ Value, Format string }

type confirmationFields struct {
	Method string
	Data   *confirmationData // nil without SubjectConfirmationData
}

type confirmationData struct {
	Recipient               string
	NotBefore, NotOnOrAfter time.Time
}

type conditionsFields struct {
	NotBefore, NotOnOrAfter time.Time
	Audiences               [][]string // the Audiences of each AudienceRestriction
}

type authnFields struct {
	AuthnInstant        time.Time
	SessionNotOnOrAfter *time.Time
}

type attributeFields struct {
	Name   string
	Values []string
}

// replayUntil is the later of the assertion's NotOnOrAfter times.
func replayUntil(a *assertionFields) time.Time {
	until := a.Conditions.NotOnOrAfter
	if d := a.Subject.Confirmations[0].Data.NotOnOrAfter; d.After(until) {
		until = d
	}
	return until
}
