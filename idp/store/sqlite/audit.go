package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"idpbridge/idp/store"
)

const auditColumns = `seq, event_time, event_id, source, name, coalesce(account, ''), coalesce(principal, ''),
	coalesce(role_arn, ''), coalesce(source_identity, ''), coalesce(error_code, ''), coalesce(client_address, ''),
	coalesce(request_id, ''), record, coalesce(second_source_identity, '')`

// nullable stores "" as NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// appendChunk bounds the rows of one INSERT (13 parameters each, well below
// SQLite's limit of 32766).
const appendChunk = 500

func (o ops) AppendAuditEvents(ctx context.Context, events []store.AuditEvent) error {
	for len(events) > 0 {
		chunk := events[:min(len(events), appendChunk)]
		events = events[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_events (event_time, event_id, source, name, account, principal, role_arn,
			source_identity, error_code, client_address, request_id, record, second_source_identity) VALUES `)
		args := make([]any, 0, 13*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, micros(e.EventTime), e.EventID, e.Source, e.Name, nullable(e.Account),
				nullable(e.Principal), nullable(e.RoleARN), nullable(e.SourceIdentity), nullable(e.ErrorCode),
				nullable(e.ClientAddress), nullable(e.RequestID), string(e.Record), nullable(e.SecondSourceIdentity))
		}
		if _, err := o.q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("append audit events: %w", err)
		}
	}
	return nil
}

func scanAuditEvent(row scanner) (store.AuditEvent, error) {
	var e store.AuditEvent
	var t int64
	var rec string
	err := row.Scan(&e.Seq, &t, &e.EventID, &e.Source, &e.Name, &e.Account, &e.Principal,
		&e.RoleARN, &e.SourceIdentity, &e.ErrorCode, &e.ClientAddress, &e.RequestID, &rec, &e.SecondSourceIdentity)
	e.EventTime = fromMicros(t)
	e.Record = []byte(rec)
	return e, err
}

func (o ops) LookupAuditEvents(ctx context.Context, q store.AuditQuery) ([]store.AuditEvent, error) {
	if q.Limit <= 0 {
		return nil, errors.New("lookup audit events: limit must be positive")
	}
	var where []string
	var args []any
	for _, f := range []struct{ col, v string }{
		{"principal", q.Principal}, {"role_arn", q.RoleARN}, {"name", q.Name},
	} {
		if f.v != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.v)
		}
	}
	switch q.ErrorCode {
	case "":
	case store.AnyError:
		where = append(where, "error_code IS NOT NULL")
	case store.NoError:
		where = append(where, "error_code IS NULL")
	default:
		where = append(where, "error_code = ?")
		args = append(args, q.ErrorCode)
	}
	if !q.Since.IsZero() {
		where = append(where, "event_time >= ?")
		args = append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "event_time < ?")
		args = append(args, micros(q.Until))
	}
	if q.After != nil {
		where = append(where, "(event_time, seq) < (?, ?)")
		args = append(args, micros(q.After.EventTime), q.After.Seq)
	}
	selectWhere := func(conds ...string) string {
		query := `SELECT ` + auditColumns + ` FROM audit_events`
		if conds = append(conds, where...); len(conds) > 0 {
			query += " WHERE " + strings.Join(conds, " AND ")
		}
		return query + " ORDER BY event_time DESC, seq DESC LIMIT ?"
	}
	filters := args
	query, args := selectWhere(), slices.Concat(filters, []any{q.Limit})
	if si := q.SourceIdentity; si != "" {
		// An event is found under either source identity column: two scans
		// of their indexes in order, merged; a row matches one side only.
		query = `SELECT * FROM (` + selectWhere("source_identity = ?") + `)
			UNION ALL SELECT * FROM (` + selectWhere("second_source_identity = ?", "source_identity IS NOT ?") + `)
			ORDER BY event_time DESC, seq DESC LIMIT ?`
		args = slices.Concat([]any{si}, filters, []any{q.Limit, si, si}, filters, []any{q.Limit, q.Limit})
	}
	var out []store.AuditEvent
	err := o.scanEach(ctx, "lookup audit events", func(e store.AuditEvent) error {
		out = append(out, e)
		return nil
	}, query, args...)
	return out, err
}

func (o ops) scanEach(ctx context.Context, what string, fn func(store.AuditEvent) error, query string, args ...any) error {
	rows, err := o.q.QueryContext(ctx, query, args...)
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
		WHERE event_time >= ? AND event_time < ? ORDER BY event_time, seq`, micros(since), micros(until))
}

// ListSealableAuditEvents: writers commit in seq order, so every visible
// row is sealable.
func (o ops) ListSealableAuditEvents(ctx context.Context, after store.AuditPos, limit int) ([]store.AuditEvent, error) {
	var out []store.AuditEvent
	err := o.scanEach(ctx, "list sealable audit events", func(e store.AuditEvent) error {
		out = append(out, e)
		return nil
	}, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, afterSeq(after), limit)
	return out, err
}

// afterSeq maps a chain position to the seq after which rows follow it:
// on SQLite every row has Txn 0, so a position with a higher Txn is past
// every row.
func afterSeq(p store.AuditPos) int64 {
	if p.Txn > 0 {
		return 1<<63 - 1
	}
	return p.Seq
}

func (o ops) ScanAuditChain(ctx context.Context, after, through store.AuditPos, fn func(store.AuditEvent) error) error {
	ctx = store.WithoutQueryTimeout(ctx) // a scan of the trail lasts as long as the trail is long
	if through.Txn < 0 || !after.Less(through) {
		return nil
	}
	return o.scanEach(ctx, "scan audit chain", fn, `SELECT `+auditColumns+` FROM audit_events
		WHERE seq > ? AND seq <= ? ORDER BY seq`, afterSeq(after), afterSeq(through))
}

func (o ops) CountAuditEventsAfter(ctx context.Context, after store.AuditPos) (int64, error) {
	var n int64
	if err := o.q.QueryRowContext(ctx, `SELECT count(*) FROM audit_events WHERE seq > ?`, afterSeq(after)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count audit events: %w", err)
	}
	return n, nil
}

const digestColumns = `number, last_seq, body, signature, entries, created_at`

func (o ops) AppendAuditDigest(ctx context.Context, d store.AuditDigest) error {
	if d.Last.Txn != 0 {
		return fmt.Errorf("append audit digest %d: SQLite positions have Txn 0, got %d", d.Number, d.Last.Txn)
	}
	_, err := o.q.ExecContext(ctx, `INSERT INTO audit_digests (`+digestColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		d.Number, d.Last.Seq, string(d.Body), d.Signature, d.Entries, micros(d.CreatedAt))
	if isConflict(err) {
		return fmt.Errorf("audit digest %d: %w", d.Number, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("append audit digest: %w", err)
	}
	return nil
}

func scanDigest(row scanner) (store.AuditDigest, error) {
	var d store.AuditDigest
	var body string
	var created int64
	err := row.Scan(&d.Number, &d.Last.Seq, &body, &d.Signature, &d.Entries, &created)
	d.Body = []byte(body)
	d.CreatedAt = fromMicros(created)
	return d, err
}

func (o ops) LastAuditDigest(ctx context.Context) (store.AuditDigest, error) {
	d, err := scanDigest(o.q.QueryRowContext(ctx, `SELECT `+digestColumns+` FROM audit_digests ORDER BY number DESC LIMIT 1`))
	if err != nil {
		return store.AuditDigest{}, notFound(err, "audit digest")
	}
	return d, nil
}

func (o ops) ListAuditDigests(ctx context.Context, after int64, limit int) ([]store.AuditDigest, error) {
	rows, err := o.q.QueryContext(ctx, `SELECT `+digestColumns+` FROM audit_digests WHERE number > ? ORDER BY number LIMIT ?`, after, limit)
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

// monthStart is the first instant of t's month (UTC).
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (o ops) AuditPrunable(ctx context.Context, before time.Time) ([]store.AuditMonth, error) {
	ctx = store.WithoutQueryTimeout(ctx) // pruning
	cutoff := monthStart(before)
	rows, err := o.q.QueryContext(ctx, `SELECT event_time FROM audit_events WHERE event_time < ? ORDER BY event_time`, micros(cutoff))
	if err != nil {
		return nil, fmt.Errorf("list prunable audit months: %w", err)
	}
	defer rows.Close()
	var out []store.AuditMonth
	for rows.Next() {
		var t int64
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list prunable audit months: %w", err)
		}
		m := monthStart(fromMicros(t))
		if n := len(out); n > 0 && out[n-1].Start.Equal(m) {
			out[n-1].Events++
		} else {
			out = append(out, store.AuditMonth{Start: m, Events: 1})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list prunable audit months: %w", err)
	}
	return out, nil
}

// PruneAuditEvents deletes the months before the cut-off through the permit
// the delete trigger checks, written and removed within this transaction.
// Called outside a transaction it would leave the permit visible between
// statements, so it refuses to.
func (o ops) PruneAuditEvents(ctx context.Context, before time.Time) ([]store.AuditMonth, error) {
	if !o.q.InTx {
		return nil, errors.New("prune audit events: must run inside a transaction")
	}
	months, err := o.AuditPrunable(ctx, before)
	if err != nil {
		return nil, err
	}
	cutoff := micros(monthStart(before))
	if _, err := o.q.ExecContext(ctx, `INSERT INTO audit_prune_permit (before_time) VALUES (?)`, cutoff); err != nil {
		return nil, fmt.Errorf("prune audit events: %w", err)
	}
	if _, err := o.q.ExecContext(ctx, `DELETE FROM audit_events WHERE event_time < ?`, cutoff); err != nil {
		return nil, fmt.Errorf("prune audit events: %w", err)
	}
	if _, err := o.q.ExecContext(ctx, `DELETE FROM audit_prune_permit`); err != nil {
		return nil, fmt.Errorf("prune audit events: %w", err)
	}
	return months, nil
}

// EnsureAuditPartitions: SQLite has no partitions.
func (o ops) EnsureAuditPartitions(context.Context, time.Time, time.Time) error { return nil }

// TryLockAuditSealer implements store.AuditSealLocker within this process.
func (d *DB) TryLockAuditSealer(context.Context) (func(), bool, error) {
	if !d.sealer.TryLock() {
		return nil, false, nil
	}
	return d.sealer.Unlock, true, nil
}
