package store

import (
	"context"
	"time"
)

// AuditStore keeps the audit trail: an append-only table of events
// (audit_events) and the signed digests that seal them (audit_digests).
//
// Rows are never updated or deleted through this interface; the database
// refuses it too (a trigger), except for PruneAuditEvents, which removes
// whole months. Every method may run inside a transaction (InTx) except
// where its comment says otherwise.
//
// Chain order. The sealer folds rows into digests in chain order: by
// AuditPos (Txn, then Seq). Seq is assigned at insert, but transactions
// commit in any order, so a row with a lower Seq can become visible after
// one with a higher Seq. Txn orders rows by the transaction that inserted
// them: on PostgreSQL it is that transaction's ID, and a row is sealable
// only once every transaction with a lower ID has ended, so no row can ever
// appear before a sealed one. On SQLite, writers are serialised by the
// database lock and commit in Seq order; Txn is 0 and every visible row is
// sealable.
type AuditStore interface {
	// AppendAuditEvents inserts events in order. Seq and Txn are assigned
	// by the store; the values given are ignored. Empty index columns are
	// stored as NULL and read back as "".
	AppendAuditEvents(ctx context.Context, events []AuditEvent) error

	// LookupAuditEvents returns the events matching q, newest first (by
	// EventTime, then Seq), at most q.Limit of them, starting after q.After
	// when it is set (keyset paging: the last event of the previous page).
	LookupAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error)

	// ScanAuditEvents calls fn for every event with since <= EventTime <
	// until, oldest first (by EventTime, then Seq), streaming them: the
	// events are not held in memory. An error from fn stops the scan and is
	// returned. fn must not use the store.
	ScanAuditEvents(ctx context.Context, since, until time.Time, fn func(AuditEvent) error) error

	// ListSealableAuditEvents returns, in chain order, at most limit events
	// after position after that are sealable: committed, and such that no
	// event can later appear at a position before them. On PostgreSQL that
	// means inserted by a transaction older than every write transaction
	// still running on the server, so a long-running writer anywhere on it
	// (even in another database) holds sealing back until it ends. Call it
	// outside any transaction that has written.
	ListSealableAuditEvents(ctx context.Context, after AuditPos, limit int) ([]AuditEvent, error)

	// ScanAuditChain calls fn for every stored event with after < position
	// <= through, in chain order, streaming them. fn must not use the store.
	ScanAuditChain(ctx context.Context, after, through AuditPos, fn func(AuditEvent) error) error

	// CountAuditEventsAfter counts the stored events at positions after
	// after.
	CountAuditEventsAfter(ctx context.Context, after AuditPos) (int64, error)

	// AppendAuditDigest stores a digest. ErrConflict when its number is
	// taken (another sealer got there first).
	AppendAuditDigest(ctx context.Context, d AuditDigest) error

	// LastAuditDigest returns the digest with the highest number.
	// ErrNotFound when there is none.
	LastAuditDigest(ctx context.Context) (AuditDigest, error)

	// ListAuditDigests returns the digests numbered above after, lowest
	// number first, at most limit of them.
	ListAuditDigests(ctx context.Context, after int64, limit int) ([]AuditDigest, error)

	// AuditPrunable lists what PruneAuditEvents(ctx, before) would remove:
	// the months (first instant, UTC) wholly before before that hold
	// events, and how many events they hold.
	AuditPrunable(ctx context.Context, before time.Time) ([]AuditMonth, error)

	// PruneAuditEvents removes every event of the months wholly before
	// before (UTC): on PostgreSQL it drops their partitions, which needs the
	// table owner; on SQLite it deletes their rows through the one path the
	// append-only trigger permits. It first takes the sealer lock (waiting
	// for a running seal) so that no digest is written meanwhile. Events
	// outside monthly partitions (PostgreSQL's default partition) stay. It
	// returns the months removed. Call it inside InTx, with the digest that
	// records the prune and the event that audits it.
	PruneAuditEvents(ctx context.Context, before time.Time) ([]AuditMonth, error)

	// EnsureAuditPartitions makes sure every month from from to through
	// (UTC) has its own partition, so that events of those months do not
	// land in the default partition. Replicas may call it at once. No-op on
	// SQLite.
	EnsureAuditPartitions(ctx context.Context, from, through time.Time) error
}

// AuditSealLocker is the sealer's mutual exclusion: one sealer at a time
// across every replica sharing the database.
type AuditSealLocker interface {
	// TryLockAuditSealer takes the sealer lock without waiting. ok is false
	// when another sealer holds it. release frees it and must be called
	// once when ok is true. On PostgreSQL it is a session advisory lock on
	// a connection held until release; on SQLite a lock within this
	// process (a sealer in another process is caught by the digest number
	// being taken, see AppendAuditDigest).
	TryLockAuditSealer(ctx context.Context) (release func(), ok bool, err error)
}

// AuditEvent is one row of the audit trail: the record (CloudTrail JSON)
// and the columns it is searched by.
type AuditEvent struct {
	// Seq is the sequence number, assigned at insert, unique and increasing
	// in insert order (gaps where a transaction rolled back).
	Seq int64
	// Txn orders rows by inserting transaction (see AuditStore).
	Txn int64

	EventTime      time.Time
	EventID        string
	Source         string
	Name           string
	Account        string
	Principal      string
	RoleARN        string
	SourceIdentity string
	ErrorCode      string
	ClientAddress  string
	RequestID      string
	// Record is the record's JSON. PostgreSQL keeps it as jsonb and gives
	// back an equivalent document (member order and spacing may differ).
	Record []byte

	// SecondSourceIdentity is a second source identity the event is found
	// under (AuditQuery.SourceIdentity), "" for none.
	SecondSourceIdentity string
}

// Pos returns the event's position in chain order.
func (e AuditEvent) Pos() AuditPos { return AuditPos{Txn: e.Txn, Seq: e.Seq} }

// AuditPos is a position in chain order: by Txn, then Seq. The zero value
// is before every event.
type AuditPos struct {
	Txn int64
	Seq int64
}

// Less reports whether p comes before q in chain order.
func (p AuditPos) Less(q AuditPos) bool {
	return p.Txn < q.Txn || p.Txn == q.Txn && p.Seq < q.Seq
}

// AnyError matches every event that failed (AuditQuery.ErrorCode).
const AnyError = "*"

// NoError matches every event that succeeded (AuditQuery.ErrorCode).
const NoError = "-"

// AuditQuery selects events. Empty fields do not filter; the filters that
// are set must all match.
type AuditQuery struct {
	// SourceIdentity matches SourceIdentity or SecondSourceIdentity.
	SourceIdentity string
	Principal      string
	RoleARN        string
	Name           string
	// ErrorCode matches the error code exactly, any error when it is
	// AnyError, and no error (a success) when it is NoError.
	ErrorCode string
	// Since and Until bound EventTime: Since <= EventTime < Until. Zero
	// means unbounded.
	Since time.Time
	Until time.Time
	// After, when set, continues a listing after the event at (EventTime,
	// Seq) in newest-first order.
	After *AuditCursor
	// Limit caps the result; it must be positive.
	Limit int
}

// AuditCursor is a position in newest-first order.
type AuditCursor struct {
	EventTime time.Time
	Seq       int64
}

// AuditDigest is one link of the audit trail's digest chain, as the sealer
// wrote it: a signed JSON document (Body) and, for a digest of rows, the
// rows it covers (Entries). The store keeps them verbatim; the audit
// package gives them meaning.
type AuditDigest struct {
	// Number is 1 for the first digest and one more for each next.
	Number int64
	// Last is the chain position of the last row the chain covers up to and
	// including this digest (the next digest starts after it).
	Last      AuditPos
	Body      []byte
	Signature []byte
	Entries   []byte
	CreatedAt time.Time
}

// AuditMonth is one month of the trail.
type AuditMonth struct {
	// Start is the first instant of the month (UTC).
	Start time.Time
	// Events is how many events the month holds.
	Events int64
}
