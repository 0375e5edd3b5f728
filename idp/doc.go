// Package idp holds idpbridge's domain types: who a person is (Identity), the
// deliberate errors users may see (Error), and the small value types every
// other package shares. It imports only the standard library and has no I/O,
// no clock and no randomness.
package idp
