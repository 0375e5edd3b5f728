package audit

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"idpbridge/idp/signing"
	"idpbridge/idp/store"
)

// Digest kinds (DigestBody.Kind).
const (
	// DigestRows seals rows: the ones after DigestBody.After up to and
	// including DigestBody.Last in chain order.
	DigestRows = "rows"
	// DigestPrune records a prune: the months before PrunedBefore were
	// removed, so rows of earlier digests dated before it may be missing.
	DigestPrune = "prune"
)

// DigestVersion is the version of DigestBody written.
const DigestVersion = 1

// entrySize is the size of one entry of a rows digest: the row's seq (8
// bytes, big-endian), its event time (Unix microseconds, 8 bytes) and its
// RowHash (32 bytes).
const entrySize = 8 + 8 + 32

// DigestBody is what a digest says, as signed. Digests form a chain like
// CloudTrail's digest files: each names the SHA-256 of the previous one's
// body, and a rows digest names the SHA-256 of its entries, which list the
// hash of every row it covers in chain order. Changing a row, removing or
// reordering one, or editing, removing or forging a digest breaks a hash,
// a link or a signature.
type DigestBody struct {
	Version int    `json:"version"`
	Number  int64  `json:"number"`
	Kind    string `json:"kind"`
	// PreviousHash is the hex SHA-256 of the previous digest's body, ""
	// for the first.
	PreviousHash string `json:"previousHash"`
	SealedAt     string `json:"sealedAt"`
	// KeyID names the signing key (signing.KeyID of its certificate).
	KeyID string `json:"keyId"`
	// After and Last bound the rows covered: after After, up to and
	// including Last. For a prune both are the previous digest's Last.
	After ChainPos `json:"after"`
	Last  ChainPos `json:"last"`
	// Count is the number of rows (entries).
	Count int `json:"count"`
	// FirstSeq and LastSeq are the lowest and highest seq covered (0 when
	// Count is 0); the seqs in between that are not listed belong to
	// transactions that rolled back or to other digests.
	FirstSeq int64 `json:"firstSeq"`
	LastSeq  int64 `json:"lastSeq"`
	// EntriesHash is the hex SHA-256 of the entries.
	EntriesHash string `json:"entriesHash"`
	// PrunedBefore (a prune) is the cut-off: the start of a month, UTC.
	PrunedBefore string `json:"prunedBefore,omitempty"`
	// PrunedMonths (a prune) lists the months removed ("2026-01") with
	// their event counts.
	PrunedMonths []PrunedMonth `json:"prunedMonths,omitempty"`
}

// PrunedMonth is a month a prune removed.
type PrunedMonth struct {
	Month  string `json:"month"`
	Events int64  `json:"events"`
}

// ChainPos is a position in chain order (store.AuditPos) as written in a
// digest.
type ChainPos struct {
	Txn int64 `json:"txn"`
	Seq int64 `json:"seq"`
}

func (p ChainPos) pos() store.AuditPos   { return store.AuditPos{Txn: p.Txn, Seq: p.Seq} }
func chainPos(p store.AuditPos) ChainPos { return ChainPos{Txn: p.Txn, Seq: p.Seq} }

// Signer signs digests.
type Signer interface {
	// KeyID names the key; Verify finds the public key by it.
	KeyID() string
	// SignDigest signs the SHA-256 hash of a digest body.
	SignDigest(hash []byte) ([]byte, error)
}

// KeySigner signs with an IdP signing key: RSA PKCS #1 v1.5 with SHA-256.
func KeySigner(k *signing.Key) Signer { return keySigner{k} }

type keySigner struct{ k *signing.Key }

// KeyID is derived from the certificate, as Verify derives it.
func (s keySigner) KeyID() string { return signing.KeyID(s.k.Certificate) }
func (s keySigner) SignDigest(hash []byte) ([]byte, error) {
	return rsa.SignPKCS1v15(nil, s.k.PrivateKey, crypto.SHA256, hash)
}

// signDigest encodes, hashes and signs body.
func signDigest(signer Signer, body DigestBody, entries []byte, now time.Time) (store.AuditDigest, error) {
	body.Version = DigestVersion
	body.KeyID = signer.KeyID()
	body.SealedAt = now.UTC().Format(time.RFC3339Nano)
	sum := sha256.Sum256(entries)
	body.EntriesHash = hex.EncodeToString(sum[:])
	b, err := json.Marshal(body)
	if err != nil {
		return store.AuditDigest{}, fmt.Errorf("audit digest: %w", err)
	}
	h := sha256.Sum256(b)
	sig, err := signer.SignDigest(h[:])
	if err != nil {
		return store.AuditDigest{}, fmt.Errorf("audit digest: sign: %w", err)
	}
	if entries == nil {
		entries = []byte{}
	}
	return store.AuditDigest{Number: body.Number, Last: body.Last.pos(), Body: b, Signature: sig, Entries: entries, CreatedAt: now.UTC()}, nil
}

// chainHead is where the chain ends: the last digest's number, body hash
// and last position; the zero value before the first digest.
type chainHead struct {
	number int64
	hash   string
	last   store.AuditPos
}

// headOf reads the chain head from the last digest.
func headOf(ctx context.Context, s store.Ops) (chainHead, error) {
	d, err := s.LastAuditDigest(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return chainHead{}, nil
	}
	if err != nil {
		return chainHead{}, err
	}
	var body DigestBody
	if err := json.Unmarshal(d.Body, &body); err != nil {
		return chainHead{}, fmt.Errorf("audit digest %d: unreadable body: %w", d.Number, err)
	}
	h := sha256.Sum256(d.Body)
	return chainHead{number: d.Number, hash: hex.EncodeToString(h[:]), last: body.Last.pos()}, nil
}

// Sealer folds committed rows into signed digests. Sealing reads rows and
// writes digests only; it never holds a lock that writers wait for. Any
// number of replicas may run a Sealer: one seals at a time (the store's
// sealer lock), and a digest whose number another sealer took meanwhile
// is discarded.
type Sealer struct {
	Store  store.Store
	Signer Signer
	// EveryRows is the most rows one digest covers, and the number of
	// waiting rows that triggers a seal; default 1000.
	EveryRows int
	// Interval is how long rows may wait before they are sealed even if
	// fewer than EveryRows are waiting; default one minute.
	Interval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives a line per digest (its number and hash: a copy of
	// the chain head outside the database) and errors; default
	// slog.Default().
	Logger *slog.Logger
}

func (s *Sealer) everyRows() int {
	if s.EveryRows <= 0 {
		return 1000
	}
	return s.EveryRows
}

func (s *Sealer) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sealer) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// errStale: the chain moved on while a digest was being made.
var errStale = errors.New("audit: chain head moved")

// SealOnce writes one digest of up to EveryRows sealable rows and returns
// how many it covered: 0 when no row was waiting, or when another sealer
// holds the lock or got there first.
func (s *Sealer) SealOnce(ctx context.Context) (int, error) {
	release, ok, err := s.Store.TryLockAuditSealer(ctx)
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	head, err := headOf(ctx, s.Store)
	if err != nil {
		return 0, err
	}
	rows, err := s.Store.ListSealableAuditEvents(ctx, head.last, s.everyRows())
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	entries := make([]byte, 0, len(rows)*entrySize)
	body := DigestBody{
		Number:       head.number + 1,
		Kind:         DigestRows,
		PreviousHash: head.hash,
		After:        chainPos(head.last),
		Last:         chainPos(rows[len(rows)-1].Pos()),
		Count:        len(rows),
		FirstSeq:     rows[0].Seq,
		LastSeq:      rows[0].Seq,
	}
	for _, r := range rows {
		h, err := RowHash(r)
		if err != nil {
			return 0, err
		}
		entries = appendEntry(entries, r.Seq, r.EventTime, h)
		body.FirstSeq, body.LastSeq = min(body.FirstSeq, r.Seq), max(body.LastSeq, r.Seq)
	}
	d, err := signDigest(s.Signer, body, entries, s.now())
	if err != nil {
		return 0, err
	}
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		cur, err := headOf(ctx, tx)
		if err != nil {
			return err
		}
		if cur.number != head.number {
			return errStale
		}
		return tx.AppendAuditDigest(ctx, d)
	})
	if errors.Is(err, errStale) || errors.Is(err, store.ErrConflict) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("audit: write digest %d: %w", d.Number, err)
	}
	h := sha256.Sum256(d.Body)
	s.logger().Info("audit digest sealed", "number", d.Number, "rows", len(rows),
		"first_seq", body.FirstSeq, "last_seq", body.LastSeq, "hash", hex.EncodeToString(h[:]))
	return len(rows), nil
}

// SealAll seals until no sealable row is left (or another sealer holds the
// lock) and returns how many rows it covered.
func (s *Sealer) SealAll(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.SealOnce(ctx)
		total += n
		if err != nil || n < s.everyRows() {
			return total, err
		}
	}
}

// Run seals until ctx ends: as soon as EveryRows rows wait, and at least
// every Interval while any row waits. It also keeps monthly partitions
// created ahead (this month and the next), at start and hourly. Errors are
// logged and retried at the next round; Run returns nil when ctx ends.
func (s *Sealer) Run(ctx context.Context) error {
	interval := s.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	poll := min(interval, time.Second)
	lastSeal := s.now()
	var lastPartitions time.Time
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		now := s.now()
		if lastPartitions.IsZero() || now.Sub(lastPartitions) >= time.Hour {
			if err := s.Store.EnsureAuditPartitions(ctx, now, now.AddDate(0, 1, 0)); err != nil && ctx.Err() == nil {
				s.logger().Error("audit partitions", "err", err)
			}
			lastPartitions = now
		}
		if err := s.round(ctx, now, interval, &lastSeal); err != nil && ctx.Err() == nil {
			s.logger().Error("audit sealer", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Sealer) round(ctx context.Context, now time.Time, interval time.Duration, lastSeal *time.Time) error {
	head, err := headOf(ctx, s.Store)
	if err != nil {
		return err
	}
	waiting, err := s.Store.CountAuditEventsAfter(ctx, head.last)
	if err != nil || waiting == 0 {
		if waiting == 0 {
			*lastSeal = now
		}
		return err
	}
	if waiting < int64(s.everyRows()) && now.Sub(*lastSeal) < interval {
		return nil
	}
	n, err := s.SealAll(ctx)
	if n > 0 {
		*lastSeal = now
	}
	return err
}

func appendEntry(b []byte, seq int64, at time.Time, h [32]byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.BigEndian.AppendUint64(b, uint64(at.UnixMicro()))
	return append(b, h[:]...)
}

// entry is one decoded entry of a rows digest.
type entry struct {
	seq  int64
	at   time.Time
	hash [32]byte
}

func decodeEntries(b []byte) ([]entry, error) {
	if len(b)%entrySize != 0 {
		return nil, fmt.Errorf("entries are %d bytes, not a multiple of %d", len(b), entrySize)
	}
	out := make([]entry, len(b)/entrySize)
	for i := range out {
		e := b[i*entrySize:]
		out[i].seq = int64(binary.BigEndian.Uint64(e))
		out[i].at = time.UnixMicro(int64(binary.BigEndian.Uint64(e[8:]))).UTC()
		copy(out[i].hash[:], e[16:48])
	}
	return out, nil
}
