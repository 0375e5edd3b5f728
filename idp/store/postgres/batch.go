package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"idpbridge/idp/store"
)

var _ store.WriteBatcher = (*DB)(nil)

// errReadInBatch: a write batch cannot answer a read.
var errReadInBatch = errors.New("postgres: a write batch cannot read: use InTx")

// InWriteBatch implements store.WriteBatcher. The statements fn makes are
// collected, then sent with BEGIN and COMMIT in one pipeline: one round trip
// to the server (plus, once per connection, the preparation of each
// statement). It is one transaction, committed or rolled back as a whole,
// under one query timeout like InTx; when the answer to the pipeline does
// not come in time the error is store.ErrUnavailable and, as with InTx, the
// server either committed everything or nothing.
//
// fn may only write: a read fails and nothing is sent. fn cannot see what
// its writes did before the commit: each is reported to it as changing one
// row, and a write that changes none makes InWriteBatch fail (after the
// commit). So only writes that change at least one row whenever they
// succeed belong in a batch (CreateSTSSession of a session without a
// parent, AppendAuditEvents).
func (d *DB) InWriteBatch(ctx context.Context, fn func(tx store.Tx) error) error {
	var rec recorder
	if err := fn(ops{q: &rec}); err != nil {
		return err
	}
	if rec.err != nil {
		return rec.err
	}
	if len(rec.stmts) == 0 {
		return nil
	}
	tctx, cancel := d.callContext(ctx)
	defer cancel()
	conn, err := d.pool.Acquire(tctx)
	if err != nil {
		return fmt.Errorf("begin: %w", unavailable(tctx, err))
	}
	defer conn.Release()
	c := conn.Conn()
	b := &pgconn.Batch{}
	b.ExecParams("begin", nil, nil, nil, nil)
	for _, s := range rec.stmts {
		// Prepared once per connection; later batches only bind.
		sd, err := c.Prepare(tctx, batchStatementName(s.sql), s.sql)
		if err != nil {
			return fmt.Errorf("%s: prepare: %w", s.what(), unavailable(tctx, err))
		}
		var eqb pgx.ExtendedQueryBuilder
		if err := eqb.Build(c.TypeMap(), sd, s.args); err != nil {
			return fmt.Errorf("%s: %w", s.what(), err)
		}
		b.ExecPrepared(sd.Name, eqb.ParamValues, eqb.ParamFormats, eqb.ResultFormats)
	}
	b.ExecParams("commit", nil, nil, nil, nil)
	results, err := c.PgConn().ExecBatch(tctx, b).ReadAll()
	// results[0] answers begin, results[i+1] statement i; the first that
	// failed names the failure. Without an answer to the pipeline, the
	// failure is the commit's: its outcome is unknown.
	failed := -1
	for i, r := range results {
		if r.Err != nil {
			err, failed = r.Err, i
			break
		}
	}
	if err == nil {
		for i, st := range rec.stmts {
			if i+1 < len(results) && results[i+1].CommandTag.RowsAffected() == 0 {
				return fmt.Errorf("%s: changed no row, although its caller was told it changed one", st.what())
			}
		}
		return nil
	}
	what := "commit"
	switch {
	case failed == 0:
		what = "begin"
	case failed > 0 && failed-1 < len(rec.stmts):
		what = rec.stmts[failed-1].what()
	}
	if c.PgConn().TxStatus() != 'I' && !c.PgConn().IsClosed() {
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
		c.PgConn().Exec(rctx, "rollback").ReadAll()
		rcancel()
	}
	if isConflict(err) {
		return fmt.Errorf("%s: %w: %w", what, store.ErrConflict, err)
	}
	return fmt.Errorf("%s: %w", what, unavailable(tctx, err))
}

// batchStatementName names a statement of a write batch by its SQL; short,
// as the server truncates long names.
func batchStatementName(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return "idpbridge_batch_" + hex.EncodeToString(sum[:12])
}

// recorder is the querier of a write batch: it keeps the statements.
type recorder struct {
	stmts []recorded
	err   error
}

type recorded struct {
	sql  string
	args []any
}

// what names the statement in an error: its first words.
func (r recorded) what() string {
	s := r.sql
	if len(s) > 40 {
		s = s[:40]
	}
	return fmt.Sprintf("statement %q", s)
}

// batchTag is what a write in a batch reports: one row changed.
var batchTag = pgconn.NewCommandTag("INSERT 0 1")

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.stmts = append(r.stmts, recorded{sql: sql, args: args})
	return batchTag, nil
}

func (r *recorder) Query(context.Context, string, ...any) (pgx.Rows, error) {
	r.err = errReadInBatch
	return nil, errReadInBatch
}

func (r *recorder) QueryRow(context.Context, string, ...any) pgx.Row {
	r.err = errReadInBatch
	return errRow{errReadInBatch}
}

type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }
