package store

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable: the database did not answer in time or could not be
// reached. The operation may or may not have taken effect (a transaction
// whose COMMIT got no answer); callers report a temporary failure.
var ErrUnavailable = errors.New("database unavailable")

// DefaultQueryTimeout bounds every store call when the configuration sets
// no database.query_timeout.
const DefaultQueryTimeout = 5 * time.Second

type noTimeoutKey struct{}

// WithoutQueryTimeout marks ctx so that the store calls and transactions
// made with it are bounded only by ctx itself, not by the query timeout.
// It is for the work whose length grows with the data: pruning old rows
// and partitions, and scans of the audit trail.
func WithoutQueryTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTimeoutKey{}, true)
}

// QueryTimeoutExempt reports whether ctx was marked by WithoutQueryTimeout.
func QueryTimeoutExempt(ctx context.Context) bool {
	v, _ := ctx.Value(noTimeoutKey{}).(bool)
	return v
}
