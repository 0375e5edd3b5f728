// Package simulate owns policy simulation: it answers "would these IAM
// policies allow this action on this resource, for this principal, with
// this request context?" for the `idpbridge policy simulate` command and
// for POST /admin/api/policy/simulate, with the same input and the same
// output (AWS SimulatePrincipalPolicy's words).
//
// Simulation is deterministic: the request context is exactly the keys the
// caller gives plus the principal keys derived from the principal ARN (see
// Run); no time, network or other keys are invented.
package simulate
