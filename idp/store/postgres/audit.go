package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"idpbridge/idp/store"
)

// sealerLock is the advisory lock key held by the one running audit sealer
// and taken by prune ("idpbridge-audit-sealer").
const sealerLock int64 = 0x6964706175646974

const auditColumns = `seq, txn, event_time, event_id, source, name, coalesce(account, ''), coalesce(principal, ''),
	coalesce(role_arn, ''), coalesce(source_identity, ''), coalesce(error_code, ''), coalesce(client_address, ''),
	coalesce(request_id, ''), record::text, coalesce(second_source_identity, '')`

func (o ops) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	var (
		times                                     = make([]time.Time, n)
		ids, sources, names, accounts, principals = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		roles, sis, errs, addrs, reqs, records    = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seconds                                   = make([]string, n)
	)
	for i, e := range events {
		times[i], ids[i], sources[i], names[i] = e.EventTime, e.EventID, e.Source, e.Name
		accounts[i], principals[i], roles[i], sis[i] = e.Account, e.Principal, e.RoleARN, e.SourceIdentity
		errs[i], addrs[i], reqs[i], records[i] = e.ErrorCode, e.ClientAddress, e.RequestID, string(e.Record)
		seconds[i] = e.SecondSourceIdentity
	}
	_, err := o.q.Exec(ctx, `INSERT INTO audit_events (event_time, event_id, source, name, account, principal, role_arn,
			source_identity, error_code, client_address, request_id, record, second_source_identity)
		SELECT t, id, src, nm, nullif(acct, ''), nullif(pr, ''), nullif(ro, ''), nullif(si, ''), nullif(ec, ''),
			nullif(ca, ''), nullif(rq, ''), rec::jsonb, nullif(si2, '')
		FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
			WITH ORDINALITY AS u(t, id, src, nm, acct, pr, ro, si, ec, ca, rq, rec, si2, ord)
		ORDER BY ord`,
		times, ids, sources, names, accounts, principals, roles, sis, errs, addrs, reqs, records, seconds)
	if err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	return nil
}

func scanAuditEvent(row pgx.Row) (store.AuditEvent, error) {
	var e store.AuditEvent
	var rec string
	err := row.Scan(&e.Seq, &e.Txn, &e.EventTime, &e.EventID, &e.Source, &e.Name, &e.Account, &e.Principal,
		&e.RoleARN, &e.SourceIdentity, &e.ErrorCode, &e.ClientAddress, &e.RequestID, &rec, &e.SecondSourceIdentity)
	e.EventTime = e.EventTime.UTC()
	e.Record = []byte(rec)
	return e, err
}

func (o ops) LookupAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if q.Limit <= 0 {
		return nil, errors.New("lookup audit events: limit must be positive")
	}
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	for _, f := range []struct{ col, v string }{
		{"principal", q.Principal}, {"role_arn", q.RoleARN}, {"name", q.Name},
	} {
		if f.v != "" {
			where = append(where, f.col+" = "+arg(f.v))
		}
	}
	switch q.ErrorCode {
	case "":
	case store.AnyError:
		where = append(where, "error_code IS NOT NULL")
	case store.NoError:
		where = append(where, "error_code IS NULL")
	default:
		where = append(where, "error_code = "+arg(q.ErrorCode))
	}
	if !q.Since.IsZero() {
		where = append(where, "event_time >= "+arg(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "event_time < "+arg(q.Until))
	}
	if q.After != nil {
		where = append(where, "(event_time, seq) < ("+arg(q.After.EventTime)+", "+arg(q.After.Seq)+")")
	}
	limit := arg(q.Limit)
	selectWhere := func(conds ...string) string {
		sql := `SELECT ` + auditColumns + ` FROM audit_events`
		if conds = append(conds, where...); len(conds) > 0 {
			sql += " WHERE " + strings.Join(conds, " AND ")
		}
		return sql + " ORDER BY event_time DESC, seq DESC LIMIT " + limit
	}
	sql := selectWhere()
	if q.SourceIdentity != "" {
		// An event is found under either source identity column: two scans
		// of their indexes in order, merged; a row matches one side only.
		si := arg(q.SourceIdentity)
		sql = `SELECT * FROM (` + selectWhere("source_identity = "+si) + `) AS first
			UNION ALL SELECT * FROM (` + selectWhere("second_source_identity = "+si, "source_identity IS DISTINCT FROM "+si) + `) AS second
			ORDER BY event_time DESC, seq DESC LIMIT ` + limit
	}
	rows, err := o.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("lookup audit events: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEvent
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("lookup audit events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lookup audit events: %w", err)
	}
	return out, nil
}

// scanEach runs a query and calls fn for each event as it arrives.
func (o ops) scanEach(ctx context.Context, what string, fn func(store.AuditEvent) error, sql string, args ...any) error {
	rows, err := o.q.Query(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAuditEvent(rows)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (o ops) ScanAuditEvents(ctx context.Context, since, until time.Time, fn func(store.AuditEvent) error) error {
	ctx = store.WithoutQueryTimeout(ctx) // a scan of the trail lasts as long as the trail is long
	return o.scanEach(ctx, "scan audit events", fn, `SELECT `+auditColumns+` FROM audit_events
		WHERE event_time >= $1 AND event_time < $2 ORDER BY event_time, seq`, since, until)
}

// ListSealableAuditEvents returns rows inserted by transactions older than
// the oldest one still running: those have all ended, so no row can appear
// before them any more. The horizon and the rows come from one snapshot.
func (o ops) ListSealableAuditEvents(ctx context.Context, after store.AuditPos, limit int) ([]store.AuditEvent, error) {
	var out []store.AuditEvent
	err := o.scanEach(ctx, "list sealable audit events", func(e store.AuditEvent) error {
		out = append(out, e)
		return nil
	}, `SELECT `+auditColumns+` FROM audit_events
		WHERE (txn, seq) > ($1, $2) AND txn < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
		ORDER BY txn, seq LIMIT $3`, after.Txn, after.Seq, limit)
	return out, err
}

func (o ops) ScanAuditChain(ctx context.Context, after, through store.AuditPos, fn func(store.AuditEvent) error) error {
	ctx = store.WithoutQueryTimeout(ctx) // a scan of the trail lasts as long as the trail is long
	return o.scanEach(ctx, "scan audit chain", fn, `SELECT `+auditColumns+` FROM audit_events
		WHERE (txn, seq) > ($1, $2) AND (txn, seq) <= ($3, $4) ORDER BY txn, seq`,
		after.Txn, after.Seq, through.Txn, through.Seq)
}

func (o ops) CountAuditEventsAfter(ctx context.Context, after store.AuditPos) (int64, error) {
	var n int64
	err := o.q.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE (txn, seq) > ($1, $2)`, after.Txn, after.Seq).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return n, nil
}

const digestColumns = `number, last_txn, last_seq, body, signature, entries, created_at`

func (o ops) AppendAuditDigest(ctx context.Context, d store.AuditDigest) error {
	_, err := o.q.Exec(ctx, `INSERT INTO audit_digests (`+digestColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		d.Number, d.Last.Txn, d.Last.Seq, string(d.Body), d.Signature, d.Entries, d.CreatedAt)
	if isConflict(err) {
		return fmt.Errorf("audit digest %d: %w", d.Number, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("append audit digest: %w", err)
	}
	return nil
}

func scanDigest(row pgx.Row) (store.AuditDigest, error) {
	var d store.AuditDigest
	var body string
	err := row.Scan(&d.Number, &d.Last.Txn, &d.Last.Seq, &body, &d.Signature, &d.Entries, &d.CreatedAt)
	d.Body = []byte(body)
	d.CreatedAt = d.CreatedAt.UTC()
	return d, err
}

func (o ops) LastAuditDigest(ctx context.Context) (store.AuditDigest, error) {
	d, err := scanDigest(o.q.QueryRow(ctx, `SELECT `+digestColumns+` FROM audit_digests ORDER BY number DESC LIMIT 1`))
	if err != nil {
		return store.AuditDigest{}, notFound(err, "audit digest")
	}
	return d, nil
}

func (o ops) ListAuditDigests(ctx context.Context, after int64, limit int) ([]store.AuditDigest, error) {
	rows, err := o.q.Query(ctx, `SELECT `+digestColumns+` FROM audit_digests WHERE number > $1 ORDER BY number LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit digests: %w", err)
	}
	defer rows.Close()
	var out []store.AuditDigest
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit digests: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit digests: %w", err)
	}
	return out, nil
}

var partitionName = regexp.MustCompile(`^audit_events_y([0-9]{4})m([0-9]{2})$`)

// auditPartition is one monthly partition.
type auditPartition struct {
	name  string
	start time.Time
}

// monthlyPartitions lists the monthly partitions of audit_events wholly
// before before, oldest first.
func (o ops) monthlyPartitions(ctx context.Context, before time.Time) ([]auditPartition, error) {
	rows, err := o.q.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'audit_events'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("list audit partitions: %w", err)
	}
	var names []string
	var name string
	if _, err := pgx.ForEachRow(rows, []any{&name}, func() error { names = append(names, name); return nil }); err != nil {
		return nil, fmt.Errorf("list audit partitions: %w", err)
	}
	var out []auditPartition
	for _, n := range names {
		m := partitionName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		start := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
		if !start.AddDate(0, 1, 0).After(before) {
			out = append(out, auditPartition{name: n, start: start})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out, nil
}

func (o ops) AuditPrunable(ctx context.Context, before time.Time) ([]store.AuditMonth, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	parts, err := o.monthlyPartitions(ctx, before)
	if err != nil {
		return nil, err
	}
	return o.countMonths(ctx, parts)
}

func (o ops) countMonths(ctx context.Context, parts []auditPartition) ([]store.AuditMonth, error) {
	var out []store.AuditMonth
	for _, p := range parts {
		var n int64
		if err := o.q.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{p.name}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("count audit partition %s: %w", p.name, err)
		}
		if n > 0 {
			out = append(out, store.AuditMonth{Start: p.start, Events: n})
		}
	}
	return out, nil
}

func (o ops) PruneAuditEvents(ctx context.Context, before time.Time) ([]store.AuditMonth, error) {
	if _, err := o.q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, sealerLock); err != nil {
		return nil, fmt.Errorf("prune audit events: lock: %w", err)
	}
	parts, err := o.monthlyPartitions(ctx, before)
	if err != nil {
		return nil, err
	}
	months, err := o.countMonths(ctx, parts)
	if err != nil {
		return nil, err
	}
	for _, p := range parts {
		if _, err := o.q.Exec(ctx, `DROP TABLE `+pgx.Identifier{p.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("prune audit events: drop %s: %w", p.name, err)
		}
	}
	return months, nil
}

func (o ops) EnsureAuditPartitions(ctx context.Context, from, through time.Time) error {
	m := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	for !m.After(through) {
		if _, err := o.q.Exec(ctx, `SELECT audit_ensure_partition($1)`, m); err != nil {
			return fmt.Errorf("create audit partition for %s: %w", m.Format("2006-01"), err)
		}
		m = m.AddDate(0, 1, 0)
	}
	return nil
}

// TryLockAuditSealer implements store.AuditSealLocker with a session
// advisory lock on a connection kept out of the pool until release.
func (d *DB) TryLockAuditSealer(ctx context.Context) (func(), bool, error) {
	ctx, cancel := d.callContext(ctx)
	defer cancel()
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("audit sealer lock: %w", unavailable(ctx, err))
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, sealerLock).Scan(&ok); err != nil {
		err = unavailable(ctx, err)
		conn.Release()
		return nil, false, fmt.Errorf("audit sealer lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, sealerLock); err != nil {
				// A connection that may still hold the lock must not go back to the pool.
				conn.Conn().Close(ctx)
			}
			conn.Release()
		})
	}, true, nil
}
