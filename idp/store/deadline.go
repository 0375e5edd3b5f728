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

// StatementBound is the deadline rule of the stores' statements: on the
// database each statement under Timeout (unless the caller's context is
// exempt), in a transaction each statement under the deadline of the whole
// transaction (Until; zero when the transaction is unbounded).
type StatementBound struct {
	// Timeout bounds each statement outside a transaction; zero disables it.
	Timeout time.Duration
	// InTx: statements belong to a transaction, bounded by Until.
	InTx  bool
	Until time.Time
}

// StatementContext derives the context of one statement from the caller's.
func (b StatementBound) StatementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case b.InTx && !b.Until.IsZero():
		return context.WithDeadline(ctx, b.Until)
	case !b.InTx && b.Timeout > 0 && !QueryTimeoutExempt(ctx):
		return context.WithTimeout(ctx, b.Timeout)
	}
	return ctx, func() {}
}
