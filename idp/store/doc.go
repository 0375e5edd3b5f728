// Package store defines idpbridge's persistence contract: one Store
// interface implemented by store/postgres (pgx) and store/sqlite (embedded),
// both held to the same behaviour by the storetest conformance suite.
//
// Implementations know SQL and nothing about HTTP. Errors that callers act on
// are the sentinels ErrNotFound and ErrConflict, checked with errors.Is, and
// ErrUnavailable: every call, and every transaction as a whole, runs under
// the query timeout (see WithoutQueryTimeout for the exceptions).
package store
