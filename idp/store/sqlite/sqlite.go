// Package sqlite is the embedded Store: one SQLite file (modernc.org/sqlite,
// pure Go) in WAL mode with a busy timeout and foreign keys on. It is the
// default when no database URL is configured.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"idpbridge/idp/store"
	"idpbridge/migrations"
)

// Options tune Open. The zero value is the production setting.
type Options struct {
	// Migrations replaces the embedded migrations (tests only); it must hold
	// the files directly under "sqlite/".
	Migrations fs.FS
	// BusyTimeout is how long a writer waits for the lock; default 5s.
	BusyTimeout time.Duration
	// QueryTimeout bounds each call outside a transaction and each
	// transaction as a whole (InTx, from the wait for the write lock to
	// COMMIT), including Ping; 0 means store.DefaultQueryTimeout.
	// Migrations, pruning and scans of the audit trail are not bounded (see
	// store.WithoutQueryTimeout). A call that runs out of time fails with
	// store.ErrUnavailable.
	QueryTimeout time.Duration
	// Synchronous is SQLite's synchronous setting: "full" (the default) or
	// "normal". With full, a commit is on disk before it is acknowledged.
	// With normal (in WAL mode) the last commits can be lost on a power
	// loss or an OS crash (not on a crash of the process alone): credentials
	// issued just before would then be refused on use, their session row
	// and audit row missing.
	Synchronous string
}

// The values of Options.Synchronous.
const (
	SynchronousFull   = "full"
	SynchronousNormal = "normal"
)

// DB is the SQLite Store.
type DB struct {
	db         *sql.DB
	migrations fs.FS
	sealer     sync.Mutex // see TryLockAuditSealer
	// writer admits one InTx at a time, in arrival order. SQLite has one
	// write lock and InTx takes it at BEGIN (IMMEDIATE); left to SQLite,
	// waiting writers poll for it and a busy process can starve one past
	// the busy timeout. Other processes (the CLI beside serve) still wait
	// on the busy timeout.
	writer  chan struct{}
	timeout time.Duration
	ops
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path. Use ":memory:"
// only in tests: each connection would see its own database, so Open limits
// the pool to one connection for it.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if opt.BusyTimeout == 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.Migrations == nil {
		opt.Migrations = migrations.SQLite
	}
	if opt.QueryTimeout < 0 {
		return nil, fmt.Errorf("sqlite: query timeout %s is not positive", opt.QueryTimeout)
	}
	if opt.QueryTimeout == 0 {
		opt.QueryTimeout = store.DefaultQueryTimeout
	}
	var synchronous string
	switch opt.Synchronous {
	case "", SynchronousFull:
		synchronous = "FULL"
	case SynchronousNormal:
		synchronous = "NORMAL"
	default:
		return nil, fmt.Errorf("sqlite: synchronous %q is not one of full, normal", opt.Synchronous)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{db: db, migrations: opt.Migrations, writer: make(chan struct{}, 1), timeout: opt.QueryTimeout,
		ops: ops{q: bounded{q: db, StatementBound: store.StatementBound{Timeout: opt.QueryTimeout}}}}, nil
}

// Backend implements store.Store.
func (d *DB) Backend() string { return "sqlite" }

// Close implements store.Store.
func (d *DB) Close() error { return d.db.Close() }

// Ping implements store.Store, under the query timeout.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := d.callContext(ctx)
	defer cancel()
	return unavailable(ctx, d.db.PingContext(ctx))
}

// callContext bounds one call, or one whole transaction, by the query
// timeout unless ctx is exempt.
func (d *DB) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if store.QueryTimeoutExempt(ctx) {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.timeout)
}

// InTx implements store.Store. SQLite transactions begin IMMEDIATE, so a
// writer takes the lock at the start and never fails to upgrade midway.
// The whole transaction, from the wait for the lock to COMMIT, runs under
// one query timeout (unless ctx is exempt).
func (d *DB) InTx(ctx context.Context, fn func(tx store.Tx) error) (err error) {
	tctx, cancel := d.callContext(ctx)
	defer cancel()
	select {
	case d.writer <- struct{}{}:
	case <-tctx.Done():
		return fmt.Errorf("begin: waiting for the write lock: %w", unavailable(tctx, tctx.Err()))
	}
	defer func() { <-d.writer }()
	tx, err := d.db.BeginTx(tctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", unavailable(tctx, err))
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	deadline, _ := tctx.Deadline()
	if err = fn(ops{q: bounded{q: tx, StatementBound: store.StatementBound{InTx: true, Until: deadline}}}); err != nil {
		return unavailable(tctx, err)
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", unavailable(tctx, err))
	}
	return nil
}

// Migrate implements store.Store.
func (d *DB) Migrate(ctx context.Context) ([]string, error) {
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT NOT NULL PRIMARY KEY, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	pending, err := d.pending(ctx)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range pending {
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("migration %s: begin: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migration %s failed, rolled back: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, checksum, applied_at) VALUES (?, ?, ?)`,
			m.Name, m.Checksum, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			if isConflict(err) {
				// Another process applied it meanwhile.
				continue
			}
			return applied, fmt.Errorf("migration %s: record: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migration %s: commit: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}

// MigrationStatus implements store.Store.
func (d *DB) MigrationStatus(ctx context.Context) ([]string, error) {
	pending, err := d.pending(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(pending))
	for i, m := range pending {
		names[i] = m.Name
	}
	return names, nil
}

func (d *DB) pending(ctx context.Context) ([]store.Migration, error) {
	known, err := store.LoadMigrations(d.migrations, "sqlite")
	if err != nil {
		return nil, err
	}
	var tables int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&tables); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	if tables == 0 {
		return known, nil
	}
	applied := map[string]string{}
	rows, err := d.db.QueryContext(ctx, `SELECT name, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n, c string
		if err := rows.Scan(&n, &c); err != nil {
			return nil, err
		}
		applied[n] = c
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return store.PendingMigrations(known, applied)
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ops implements store.Ops on a querier under the query timeout.
type ops struct{ q bounded }

func isConflict(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return true
		}
	}
	return false
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return err
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
