// Package postgres is the production Store on PostgreSQL through a pgx
// connection pool. Several idpbridge replicas may share one database:
// migrations serialise on an advisory lock, and nothing that must be shared
// lives in process memory.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"idpbridge/idp/store"
	"idpbridge/migrations"
)

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Migrations replaces the embedded migrations (tests only); it must hold
	// the files directly under "postgres/".
	Migrations fs.FS
	// MaxConns caps the pool; 0 is DefaultMaxConns.
	MaxConns int32
	// QueryTimeout bounds each call outside a transaction and each
	// transaction as a whole (InTx), including Ping; 0 means
	// store.DefaultQueryTimeout. Migrations, pruning and scans of the audit
	// trail are not bounded (see store.WithoutQueryTimeout). A call that
	// runs out of time fails with store.ErrUnavailable.
	QueryTimeout time.Duration
}

// DefaultMaxConns is the pool size when none is configured: measured with
// the STS end-to-end benchmarks at 16 concurrent clients on a 2-core
// machine with pools of 4, 8, 16 and 32 (BenchmarkPoolSize, BENCHMARKS.md).
// pgx's own default is 4 (or the number of CPUs).
const DefaultMaxConns int32 = 16

// MaxMaxConns bounds database.max_conns, against typos: a server's
// max_connections (100 by default) is shared by every replica.
const MaxMaxConns int32 = 1000

// DB is the PostgreSQL Store.
type DB struct {
	pool       *pgxpool.Pool
	migrations fs.FS
	timeout    time.Duration
	ops
}

var _ store.Store = (*DB)(nil)

// migrationLock is the advisory lock key that serialises migrations of
// replicas starting together ("idpbridge" in ASCII, truncated).
const migrationLock int64 = 0x6964706272696467

// Open connects to the database at url (postgres://...) and checks that it
// answers. The error names the host and the cause, without the password.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	if opt.Migrations == nil {
		opt.Migrations = migrations.Postgres
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database.url: %w", redactURLError(err))
	}
	switch {
	case opt.MaxConns < 0 || opt.MaxConns > MaxMaxConns:
		return nil, fmt.Errorf("postgres: max conns %d is not between 0 and %d", opt.MaxConns, MaxMaxConns)
	case opt.MaxConns > 0:
		cfg.MaxConns = opt.MaxConns
	default:
		cfg.MaxConns = DefaultMaxConns
	}
	if opt.QueryTimeout < 0 {
		return nil, fmt.Errorf("postgres: query timeout %s is not positive", opt.QueryTimeout)
	}
	if opt.QueryTimeout == 0 {
		opt.QueryTimeout = store.DefaultQueryTimeout
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		// A connection attempt that the server does not answer would
		// otherwise hold its place in the pool for good.
		cfg.ConnConfig.ConnectTimeout = opt.QueryTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, unwrapConnect(err))
	}
	return &DB{pool: pool, migrations: opt.Migrations, timeout: opt.QueryTimeout,
		ops: ops{q: bounded{q: pool, StatementBound: store.StatementBound{Timeout: opt.QueryTimeout}}}}, nil
}

// Pool exposes the connection pool to the packages that run their own SQL
// on the same database (tests and benchmarks).
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Backend implements store.Store.
func (d *DB) Backend() string { return "postgres" }

// Close implements store.Store.
func (d *DB) Close() error { d.pool.Close(); return nil }

// Ping implements store.Store, under the query timeout.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := d.callContext(ctx)
	defer cancel()
	return unavailable(ctx, d.pool.Ping(ctx))
}

// callContext bounds one call, or one whole transaction, by the query
// timeout unless ctx is exempt.
func (d *DB) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if store.QueryTimeoutExempt(ctx) {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.timeout)
}

// InTx implements store.Store. The whole transaction, from taking a
// connection to the answer to COMMIT, runs under one query timeout (unless
// ctx is exempt). When COMMIT gets no answer in time the error is
// store.ErrUnavailable and the outcome is unknown to this side: the server
// either committed everything or nothing.
func (d *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	tctx, cancel := d.callContext(ctx)
	defer cancel()
	tx, err := d.pool.Begin(tctx)
	if err != nil {
		return fmt.Errorf("begin: %w", unavailable(tctx, err))
	}
	defer func() {
		if p := recover(); p != nil {
			d.rollback(ctx, tx)
			panic(p)
		}
		if err != nil {
			d.rollback(ctx, tx)
		}
	}()
	deadline, _ := tctx.Deadline()
	if err = fn(ops{q: bounded{q: tx, StatementBound: store.StatementBound{InTx: true, Until: deadline}}}); err != nil {
		return unavailable(tctx, err)
	}
	if err = tx.Commit(tctx); err != nil {
		return fmt.Errorf("commit: %w", unavailable(tctx, err))
	}
	return nil
}

// rollback ends a failed transaction; a connection that does not answer
// in time is closed by pgx, which ends the transaction on the server.
func (d *DB) rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
	defer cancel()
	tx.Rollback(ctx)
}

// Migrate implements store.Store. Replicas migrating at once serialise on an
// advisory lock; each migration is one transaction.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT NOT NULL PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	pending, err := d.pending(ctx, conn)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range pending {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s failed, rolled back: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)`, m.Name, m.Checksum); err != nil {
				return fmt.Errorf("migration %s: record: %w", m.Name, err)
			}
			return nil
		})
		if err != nil {
			return applied, err
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// MigrationStatus implements store.Store.
func (d *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	pending, err := d.pending(ctx, d.pool)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(pending))
	for i, m := range pending {
		names[i] = m.Name
	}
	return names, nil
}

func (d *DB) pending(ctx context.Context, q querier) ([]store.Migration, error) {
	known, err := store.LoadMigrations(d.migrations, "postgres")
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	if !exists {
		return known, nil
	}
	rows, err := q.Query(ctx, `SELECT name, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[string]string{}
	var n, c string
	_, err = pgx.ForEachRow(rows, []any{&n, &c}, func() error { applied[n] = c; return nil })
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return store.PendingMigrations(known, applied)
}

// querier is what the pool, a connection and a transaction share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ops implements store.Ops on a querier.
type ops struct{ q querier }

func isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

// unwrapConnect keeps the cause of a failed connection and drops pgx's
// repetition of the connection string.
func unwrapConnect(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return ne
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return errors.New(msg)
}

// redactURLError makes sure a parse error of the URL never echoes a password.
func redactURLError(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the PostgreSQL URL (expected postgres://user@host:port/dbname)")
	}
	return err
}
