package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"idpbridge/idp/store"
)

// bounded runs statements under the query timeout: on the pool each
// statement under its own timeout, in a transaction each statement under
// the deadline of the whole transaction. A statement that misses its
// deadline, or a connection that fails, is reported as
// store.ErrUnavailable. When the deadline passes, pgx closes the
// connection, so a stalled server cannot hold the caller.
type bounded struct {
	q querier
	store.StatementBound
}

var _ querier = bounded{}

func (b bounded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	sctx, cancel := b.StatementContext(ctx)
	defer cancel()
	tag, err := b.q.Exec(sctx, sql, args...)
	return tag, unavailable(sctx, err)
}

func (b bounded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	sctx, cancel := b.StatementContext(ctx)
	rows, err := b.q.Query(sctx, sql, args...)
	if err != nil {
		cancel()
		return rows, unavailable(sctx, err)
	}
	return &boundedRows{Rows: rows, ctx: sctx, cancel: cancel}, nil
}

func (b bounded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	sctx, cancel := b.StatementContext(ctx)
	return boundedRow{row: b.q.QueryRow(sctx, sql, args...), ctx: sctx, cancel: cancel}
}

// boundedRows keeps the statement's context until the rows are read or
// closed.
type boundedRows struct {
	pgx.Rows
	ctx    context.Context
	cancel context.CancelFunc
}

func (r *boundedRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.cancel() // pgx closed the rows
	return false
}

func (r *boundedRows) Close() { r.Rows.Close(); r.cancel() }

func (r *boundedRows) Err() error { return unavailable(r.ctx, r.Rows.Err()) }

type boundedRow struct {
	row    pgx.Row
	ctx    context.Context
	cancel context.CancelFunc
}

func (r boundedRow) Scan(dest ...any) error {
	defer r.cancel()
	return unavailable(r.ctx, r.row.Scan(dest...))
}

// unavailable marks err with store.ErrUnavailable when the statement's
// context ran out of time or the connection failed; other errors (and a
// caller that cancelled) pass unchanged.
func unavailable(ctx context.Context, err error) error {
	switch {
	case err == nil || errors.Is(err, store.ErrUnavailable):
		return err
	case errors.Is(context.Cause(ctx), context.DeadlineExceeded) || pgconn.Timeout(err):
		return fmt.Errorf("%w: no answer in time: %w", store.ErrUnavailable, err)
	case ctx.Err() != nil:
		return err
	case connectionFailed(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// connectionFailed: err says that the server could not be reached or the
// connection broke, rather than that the server refused the statement.
func connectionFailed(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
		pe *pgconn.PgError
	)
	switch {
	case errors.As(err, &pe):
		// Class 08: connection exception; 57P0x: the server is shutting
		// down or starting; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P0") || pe.Code == "53300"
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, net.ErrClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return pgconn.SafeToRetry(err)
}
