// Package policy owns idpbridge's IAM policy language: it parses policy
// documents strictly, validates them as trust (resource) or identity policies,
// and evaluates requests against them the way AWS IAM does.
//
// The package is pure: standard library only, no I/O, no clock, no
// randomness. Callers pass everything a decision depends on (the caller's
// Principal, the action, the resource and the request Context, including
// aws:CurrentTime) in a Request.
//
// Decisions have three values: an explicit Deny in any applying statement
// wins, otherwise an applying Allow allows, otherwise there is no decision
// (an implicit deny). The set of condition operators is closed; see
// Condition for the exact semantics, including the choices made where AWS
// leaves behaviour undocumented.
package policy
