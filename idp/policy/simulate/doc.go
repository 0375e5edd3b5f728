// Package simulate owns policy simulation: it answers "would these IAM
// policies allow this action on this resource, for this principal, with
// this request context?" for the `idpbridge policy simulate` command and
// for POST /admin/api/policy/simulate, with the same input and the same
// output (AWS SimulatePrincipalPolicy's words). Asked to explain, it says
// for every statement which element did not match and for every condition
// it reached whether the request meets it (--explain, "explain": true, the
// console's simulator). Validate checks a document against the grammar
// with the position of the problem, for the console's policy editor
// (POST /admin/api/policy/validate).
//
// Simulation is deterministic: the request context is exactly the keys the
// caller gives plus the principal keys derived from the principal ARN (see
// Run); no time, network or other keys are invented.
package simulate
