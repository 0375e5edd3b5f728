package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"idpbridge/idp/store"
)

// ErrWriterClosed is returned by Log after Close.
var ErrWriterClosed = errors.New("audit: writer closed")

// Writer stores records in the audit trail. It fails closed: every error is
// returned to the caller, whose action must then fail; nothing is dropped
// or retried behind its back. Every record passes Redact before it is
// stored (the paths Redact changed are logged).
//
// Two paths:
//   - Append writes inside the caller's transaction, so the record and the
//     action it records commit together or not at all (the STS issues
//     credentials and writes their record in one transaction).
//   - Log is for high-rate events that have no transaction of their own
//     (sign-ins): concurrent callers are grouped into shared transactions
//     (group commit), and each call returns only once its own records have
//     committed, or with the error that prevented it.
//
// A Writer is safe for concurrent use.
type Writer struct {
	store       store.Store
	log         *slog.Logger
	maxBatch    int
	concurrency int
	timeout     time.Duration

	mu       sync.Mutex
	queue    []*batch // waiting to commit; Log adds to the last one
	inflight int      // batches committing
	closed   bool
	wg       sync.WaitGroup
}

// WriterOptions tune NewWriter. The zero value gives the defaults.
type WriterOptions struct {
	// Logger receives what Redact removed; default slog.Default().
	Logger *slog.Logger
	// MaxBatch caps the records of one group commit; default 500.
	MaxBatch int
	// Concurrency is how many group commits may run at once; default 1 on
	// SQLite (one writer at a time anyway) and 2 on PostgreSQL.
	Concurrency int
	// CommitTimeout bounds one group commit; default 10s.
	CommitTimeout time.Duration
}

// NewWriter returns a Writer on s. s may be nil for a Writer used only
// with Append.
func NewWriter(s store.Store, opt WriterOptions) *Writer {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 500
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 2
		if s != nil && s.Backend() == "sqlite" {
			opt.Concurrency = 1
		}
	}
	if opt.CommitTimeout <= 0 {
		opt.CommitTimeout = 10 * time.Second
	}
	return &Writer{store: s, log: opt.Logger, maxBatch: opt.MaxBatch, concurrency: opt.Concurrency, timeout: opt.CommitTimeout}
}

// Append stores recs within tx, the caller's transaction: they commit or
// roll back with it. An error means nothing was stored and the caller must
// roll back (return the error from its InTx function).
func (w *Writer) Append(ctx context.Context, tx store.Tx, recs ...Record) error {
	events, err := w.events(recs)
	if err != nil || len(events) == 0 {
		return err
	}
	if err := tx.AppendAuditEvents(ctx, events); err != nil {
		return fmt.Errorf("audit: write %d records: %w", len(events), err)
	}
	return nil
}

// Log stores recs in a transaction shared with concurrent callers and
// returns once they have committed. An error means they may not have been
// stored: the action they record must fail. When ctx ends first Log returns
// its error; the records may still commit.
func (w *Writer) Log(ctx context.Context, recs ...Record) error {
	events, err := w.events(recs)
	if err != nil || len(events) == 0 {
		return err
	}
	w.mu.Lock()
	if w.closed || w.store == nil {
		w.mu.Unlock()
		return ErrWriterClosed
	}
	var b *batch
	if n := len(w.queue); n > 0 && len(w.queue[n-1].events)+len(events) <= w.maxBatch {
		b = w.queue[n-1]
	} else {
		b = &batch{done: make(chan struct{})}
		w.queue = append(w.queue, b)
	}
	b.events = append(b.events, events...)
	w.startLocked()
	w.mu.Unlock()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return fmt.Errorf("audit: %w", ctx.Err())
	}
}

// Close waits for the group commits under way and makes later Log calls
// fail. Append is not affected.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.wg.Wait()
	return nil
}

// batch is one group commit.
type batch struct {
	events []store.AuditEvent
	done   chan struct{} // closed once err is set
	err    error
}

// startLocked starts a committer for each waiting batch while fewer than
// w.concurrency run. A lone record finds a committer free and commits at
// once; under load, records queue up while committers are busy and the next
// committer takes them all.
func (w *Writer) startLocked() {
	for w.inflight < w.concurrency && len(w.queue) > 0 {
		b := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.inflight++
		w.wg.Add(1)
		go w.commit(b)
	}
}

func (w *Writer) commit(b *batch) {
	defer w.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), w.timeout)
	err := w.store.InTx(ctx, func(tx store.Tx) error { return tx.AppendAuditEvents(ctx, b.events) })
	cancel()
	if err != nil {
		b.err = fmt.Errorf("audit: write %d records: %w", len(b.events), err)
	}
	close(b.done)
	w.mu.Lock()
	w.inflight--
	w.startLocked()
	w.mu.Unlock()
}

// events turns records into rows: redacted, encoded, indexed.
func (w *Writer) events(recs []Record) ([]store.AuditEvent, error) {
	out := make([]store.AuditEvent, 0, len(recs))
	for i := range recs {
		e, redacted, err := toEvent(recs[i])
		if err != nil {
			return nil, err
		}
		if len(redacted) > 0 {
			w.log.Warn("audit record had values that look like secrets; they were replaced",
				"event", recs[i].EventName, "event_id", recs[i].EventID, "paths", redacted)
		}
		out = append(out, e)
	}
	shareSourceIdentities(recs, out)
	return out, nil
}

// shareSourceIdentities indexes the copies of one cross-account call
// (records with the same sharedEventID) under the source identities of
// them all, so that a lookup by either name finds every copy: the role
// owner's copy of a chained call names the caller only as an account, not
// by the source identity its session carries.
func shareSourceIdentities(recs []Record, events []store.AuditEvent) {
	for i := range recs {
		shared := recs[i].SharedEventID
		if shared == "" {
			continue
		}
		for j := range recs {
			if j == i || recs[j].SharedEventID != shared {
				continue
			}
			f := IndexFields{SourceIdentity: events[i].SourceIdentity, SecondSourceIdentity: events[i].SecondSourceIdentity}
			f.addSourceIdentity(events[j].SourceIdentity)
			f.addSourceIdentity(events[j].SecondSourceIdentity)
			events[i].SourceIdentity, events[i].SecondSourceIdentity = f.SourceIdentity, f.SecondSourceIdentity
		}
	}
}

// toEvent redacts a copy of r, checks it and encodes it with its index
// columns. NUL characters, which PostgreSQL cannot store in text or jsonb,
// become U+FFFD.
func toEvent(r Record) (store.AuditEvent, []string, error) {
	r = clone(r)
	redacted := Redact(&r)
	if r.EventID == "" || r.EventName == "" || r.EventSource == "" || r.EventTime.IsZero() {
		return store.AuditEvent{}, nil, fmt.Errorf("audit: record %q of %q: eventID, eventSource, eventName and eventTime are required",
			r.EventID, r.EventName)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return store.AuditEvent{}, nil, fmt.Errorf("audit: encode record %s: %w", r.EventID, err)
	}
	if bytes.Contains(b, []byte(`\u0000`)) {
		if b, err = withoutNUL(b); err != nil {
			return store.AuditEvent{}, nil, fmt.Errorf("audit: encode record %s: %w", r.EventID, err)
		}
		r = Record{}
		if err := json.Unmarshal(b, &r); err != nil {
			return store.AuditEvent{}, nil, fmt.Errorf("audit: encode record: %w", err)
		}
	}
	f := r.Index()
	return store.AuditEvent{
		EventTime:      f.EventTime,
		EventID:        f.EventID,
		Source:         f.Source,
		Name:           f.Name,
		Account:        f.Account,
		Principal:      f.Principal,
		RoleARN:        f.RoleARN,
		SourceIdentity: f.SourceIdentity,
		ErrorCode:      f.ErrorCode,
		ClientAddress:  f.ClientAddress,
		RequestID:      f.RequestID,
		Record:         b,

		SecondSourceIdentity: f.SecondSourceIdentity,
	}, redacted, nil
}

// withoutNUL re-encodes the record JSON b with every NUL in its strings
// and member names replaced by U+FFFD, keeping the record's member order.
func withoutNUL(b []byte) ([]byte, error) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, err
	}
	clean, err := marshalCanonical(replaceNUL(v))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(clean, &r); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i := range x {
			x[i] = replaceNUL(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNUL(e)
		}
		return out
	}
	return v
}
