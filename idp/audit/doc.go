// Package audit owns idpbridge's audit records: CloudTrail-format events
// (Record), the identities that appear in them (UserIdentity and its
// constructors), the builders that turn an STS call or an IdP event into a
// Record, the index columns a store keeps beside each record (Record.Index),
// and the last-line guard that keeps secrets out of records (Redact).
//
// Records follow the CloudTrail record format, eventVersion "1.08", field for
// field and in CloudTrail's order, so an exported trail reads like one AWS
// wrote. STS events use eventSource "sts.amazonaws.com"; the IdP's own events
// use eventSource "idpbridge" (see the IdP builders for their shapes).
//
// The builders are pure: they take the event ID, the request ID and the
// time as arguments, read no clock, draw no randomness and do no I/O. The
// trail itself sits beside them in this package:
//
//   - Writer stores records (store.AuditStore): Append inside the caller's
//     transaction, Log in group commits for high-rate events; both fail
//     closed.
//   - Sealer folds committed rows, in chain order, into digests signed with
//     the IdP's key, each naming the previous one's hash (like CloudTrail's
//     log-file integrity digests); Verify recomputes the chain and names
//     the first row or digest that does not match; Prune removes whole
//     months and records that in the chain.
//   - Lookup pages through the trail newest first (Events serves it
//     as JSON); ExportFiles and ExportStream write CloudTrail log files.
//
// Secrets never enter a record. The builders' inputs have no field for a
// session token, secret key, password or assertion; the one place CloudTrail
// shows a session token holds the literal Hidden marker; and every builder
// passes its result through Redact, which replaces any value that still looks
// like a secret.
package audit
