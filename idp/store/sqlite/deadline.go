package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"idpbridge/idp/store"
)

// bounded runs statements under the query timeout: on the database each
// statement under its own timeout, in a transaction each statement under
// the deadline of the whole transaction. A statement that misses its
// deadline, or finds the database locked past the busy timeout, is
// reported as store.ErrUnavailable.
type bounded struct {
	q querier
	store.StatementBound
}

func (b bounded) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	sctx, cancel := b.StatementContext(ctx)
	defer cancel()
	res, err := b.q.ExecContext(sctx, query, args...)
	return res, unavailable(sctx, err)
}

func (b bounded) QueryContext(ctx context.Context, query string, args ...any) (*boundedRows, error) {
	sctx, cancel := b.StatementContext(ctx)
	rows, err := b.q.QueryContext(sctx, query, args...)
	if err != nil {
		cancel()
		return nil, unavailable(sctx, err)
	}
	return &boundedRows{Rows: rows, ctx: sctx, cancel: cancel}, nil
}

func (b bounded) QueryRowContext(ctx context.Context, query string, args ...any) *boundedRow {
	sctx, cancel := b.StatementContext(ctx)
	return &boundedRow{Row: b.q.QueryRowContext(sctx, query, args...), ctx: sctx, cancel: cancel}
}

// boundedRows keeps the statement's context until the rows are read or
// closed.
type boundedRows struct {
	*sql.Rows
	ctx    context.Context
	cancel context.CancelFunc
}

func (r *boundedRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.cancel() // database/sql closed the rows
	return false
}

func (r *boundedRows) Close() error {
	err := r.Rows.Close()
	r.cancel()
	return err
}

func (r *boundedRows) Err() error { return unavailable(r.ctx, r.Rows.Err()) }

type boundedRow struct {
	*sql.Row
	ctx    context.Context
	cancel context.CancelFunc
}

func (r *boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return unavailable(r.ctx, r.Row.Scan(dest...))
}

// unavailable marks err with store.ErrUnavailable when the statement's
// context ran out of time or the database stayed locked; other errors (and
// a caller that cancelled) pass unchanged.
func unavailable(ctx context.Context, err error) error {
	switch {
	case err == nil || errors.Is(err, store.ErrUnavailable):
		return err
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded):
		return fmt.Errorf("%w: no answer in time: %w", store.ErrUnavailable, err)
	case ctx.Err() != nil:
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
