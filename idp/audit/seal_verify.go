package audit

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"time"

	"idpbridge/idp/signing"
	"idpbridge/idp/store"
)

// Problem is one place where the trail does not match its digests.
type Problem struct {
	// Digest is the digest concerned.
	Digest int64
	// Seq is the row concerned; 0 when the problem is the digest itself.
	Seq     int64
	Message string
}

func (p Problem) String() string {
	if p.Seq != 0 {
		return fmt.Sprintf("row %d (digest %d): %s", p.Seq, p.Digest, p.Message)
	}
	return fmt.Sprintf("digest %d: %s", p.Digest, p.Message)
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	// Digests is the number of digests read; Prunes how many of them record
	// a prune.
	Digests int64
	Prunes  int64
	// Head is the last digest: its number, the hex SHA-256 of its body and
	// when it was sealed. Compare it with a copy kept outside the database
	// (the sealer logs each one) to detect a chain cut short.
	HeadNumber   int64
	HeadHash     string
	HeadSealedAt string
	// Rows is the number of rows checked against their digest.
	Rows int64
	// Pruned is the number of rows listed by digests and removed by a
	// recorded prune.
	Pruned int64
	// Unsealed is the number of rows after the last digest: not yet sealed,
	// so not verifiable yet (not a problem).
	Unsealed int64
	// KeyIDs lists the keys that signed digests.
	KeyIDs []string
	// Problems lists what does not match, in chain order, at most
	// MaxProblems; TotalProblems counts them all.
	Problems      []Problem
	TotalProblems int
}

// MaxProblems caps VerifyReport.Problems.
const MaxProblems = 100

// OK reports whether the chain is intact.
func (r *VerifyReport) OK() bool { return r.TotalProblems == 0 }

func (r *VerifyReport) add(p Problem) {
	r.TotalProblems++
	if len(r.Problems) < MaxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// PublicKeys returns the digest verification keys of every signing key in
// the store (active, next and retired), by key ID. The ID is derived from
// each certificate, not taken from the store. Keys kept in the same
// database as the trail prove nothing against someone who can write it:
// pass certificates kept elsewhere to Verify for that (CertificateKeys).
func PublicKeys(ctx context.Context, s store.SigningKeyStore) (map[string]*rsa.PublicKey, error) {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var pems [][]byte
	for _, k := range keys {
		pems = append(pems, k.CertPEM)
	}
	return CertificateKeys(pems...)
}

// CertificateKeys returns the RSA public keys of PEM certificates, by key
// ID (signing.KeyID).
func CertificateKeys(pems ...[]byte) (map[string]*rsa.PublicKey, error) {
	out := map[string]*rsa.PublicKey{}
	for _, p := range pems {
		for len(p) > 0 {
			var b *pem.Block
			b, p = pem.Decode(p)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("audit: certificate: %w", err)
			}
			pub, ok := cert.PublicKey.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("audit: certificate %s: not an RSA key", cert.Subject)
			}
			out[signing.KeyID(cert)] = pub
		}
	}
	return out, nil
}

// Verify recomputes the digest chain over the stored rows and reports every
// mismatch in chain order: a row changed, removed, added or moved after it
// was sealed; a digest missing, altered, out of the chain or not signed by
// one of keys. Rows missing because a later prune digest removed their
// month are counted as pruned, not reported. An error means the check could
// not run (the database failed), not that the chain is broken.
func Verify(ctx context.Context, s store.AuditStore, keys map[string]*rsa.PublicKey) (*VerifyReport, error) {
	r := &VerifyReport{}
	// First pass: the prune digests, which excuse rows of earlier digests.
	type prune struct {
		number int64
		before time.Time
	}
	var prunes []prune
	err := eachDigest(ctx, s, func(d store.AuditDigest) error {
		var body DigestBody
		if json.Unmarshal(d.Body, &body) != nil || body.Kind != DigestPrune || checkSignature(d, body, keys) != "" {
			return nil
		}
		before, err := time.Parse(time.RFC3339, body.PrunedBefore)
		if err == nil {
			prunes = append(prunes, prune{number: d.Number, before: before})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// prunedBefore is the latest cut-off recorded after digest n.
	prunedBefore := func(n int64) time.Time {
		var t time.Time
		for _, p := range prunes {
			if p.number > n && p.before.After(t) {
				t = p.before
			}
		}
		return t
	}

	var prev chainHead
	err = eachDigest(ctx, s, func(d store.AuditDigest) error {
		r.Digests++
		if d.Number != prev.number+1 {
			r.add(Problem{Digest: prev.number + 1, Message: fmt.Sprintf("missing: the chain goes from digest %d to digest %d", prev.number, d.Number)})
		}
		h := sha256.Sum256(d.Body)
		hash := hex.EncodeToString(h[:])
		var body DigestBody
		if err := json.Unmarshal(d.Body, &body); err != nil {
			r.add(Problem{Digest: d.Number, Message: "body is not a digest: " + err.Error()})
			prev = chainHead{number: d.Number, hash: hash, last: d.Last}
			return nil
		}
		r.HeadNumber, r.HeadHash, r.HeadSealedAt = d.Number, hash, body.SealedAt
		if !contains(r.KeyIDs, body.KeyID) {
			r.KeyIDs = append(r.KeyIDs, body.KeyID)
		}
		if msg := checkSignature(d, body, keys); msg != "" {
			r.add(Problem{Digest: d.Number, Message: msg})
		}
		if body.Number != d.Number {
			r.add(Problem{Digest: d.Number, Message: fmt.Sprintf("stored as number %d but signed as number %d", d.Number, body.Number)})
		}
		if body.PreviousHash != prev.hash {
			r.add(Problem{Digest: d.Number, Message: fmt.Sprintf("does not follow digest %d: previous hash %s, digest %d hashes to %s",
				prev.number, short(body.PreviousHash), prev.number, short(prev.hash))})
		}
		if body.After.pos() != prev.last {
			r.add(Problem{Digest: d.Number, Message: fmt.Sprintf("starts after row position %+v, but the previous digest ended at %+v", body.After, prev.last)})
		}
		es := sha256.Sum256(d.Entries)
		entriesOK := hex.EncodeToString(es[:]) == body.EntriesHash
		if !entriesOK {
			r.add(Problem{Digest: d.Number, Message: "its list of row hashes was altered (entries hash mismatch)"})
		}
		switch body.Kind {
		case DigestPrune:
			r.Prunes++
		case DigestRows:
			if !entriesOK {
				break
			}
			entries, err := decodeEntries(d.Entries)
			if err != nil || len(entries) != body.Count {
				r.add(Problem{Digest: d.Number, Message: fmt.Sprintf("lists %d rows, says %d", len(entries), body.Count)})
				break
			}
			if err := checkRows(ctx, s, r, d.Number, body, entries, prunedBefore(d.Number)); err != nil {
				return err
			}
		default:
			r.add(Problem{Digest: d.Number, Message: fmt.Sprintf("unknown kind %q", body.Kind)})
		}
		prev = chainHead{number: d.Number, hash: hash, last: body.Last.pos()}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.Unsealed, err = s.CountAuditEventsAfter(ctx, prev.last); err != nil {
		return nil, err
	}
	sort.Strings(r.KeyIDs)
	return r, nil
}

func eachDigest(ctx context.Context, s store.AuditStore, fn func(store.AuditDigest) error) error {
	var after int64
	for {
		page, err := s.ListAuditDigests(ctx, after, 100)
		if err != nil {
			return err
		}
		for _, d := range page {
			if err := fn(d); err != nil {
				return err
			}
			after = d.Number
		}
		if len(page) < 100 {
			return nil
		}
	}
}

// checkSignature returns why d's signature is not good, "" when it is.
func checkSignature(d store.AuditDigest, body DigestBody, keys map[string]*rsa.PublicKey) string {
	pub := keys[body.KeyID]
	if pub == nil {
		return fmt.Sprintf("signed with key %q, which is not a trusted key", body.KeyID)
	}
	h := sha256.Sum256(d.Body)
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], d.Signature) != nil {
		return fmt.Sprintf("signature does not verify with key %s (the digest was altered or forged)", body.KeyID)
	}
	return ""
}

// checkRows compares the stored rows of a digest's range with its entries.
func checkRows(ctx context.Context, s store.AuditStore, r *VerifyReport, number int64, body DigestBody, entries []entry, prunedBefore time.Time) error {
	type row struct {
		seq  int64
		hash [32]byte
		err  error
	}
	var rows []row
	err := s.ScanAuditChain(ctx, body.After.pos(), body.Last.pos(), func(e store.AuditEvent) error {
		h, err := RowHash(e)
		rows = append(rows, row{seq: e.Seq, hash: h, err: err})
		return nil
	})
	if err != nil {
		return err
	}
	index := make(map[int64]int, len(entries))
	for i, e := range entries {
		index[e.seq] = i
	}
	// Problems sort by where they sit in chain order: entry i at 2i, a row
	// not in the digest just after the entry before it.
	type keyed struct {
		key int
		p   Problem
	}
	var found []keyed
	present := make(map[int64]bool, len(rows))
	lastIndex := -1
	for _, rw := range rows {
		i, ok := index[rw.seq]
		switch {
		case !ok:
			found = append(found, keyed{2*lastIndex + 1, Problem{Digest: number, Seq: rw.seq,
				Message: "not covered by its digest: added after sealing"}})
			continue
		case present[rw.seq]:
			found = append(found, keyed{2*i + 1, Problem{Digest: number, Seq: rw.seq, Message: "stored twice"}})
			continue
		}
		present[rw.seq] = true
		r.Rows++
		switch {
		case rw.err != nil:
			found = append(found, keyed{2 * i, Problem{Digest: number, Seq: rw.seq, Message: "unreadable: " + rw.err.Error()}})
		case rw.hash != entries[i].hash:
			found = append(found, keyed{2 * i, Problem{Digest: number, Seq: rw.seq,
				Message: "does not match its digest: its record or columns changed after sealing"}})
		case i < lastIndex:
			found = append(found, keyed{2 * i, Problem{Digest: number, Seq: rw.seq,
				Message: "out of order: it was moved after sealing"}})
		}
		lastIndex = max(lastIndex, i)
	}
	for i, e := range entries {
		if present[e.seq] {
			continue
		}
		if e.at.Before(prunedBefore) {
			r.Pruned++
			continue
		}
		found = append(found, keyed{2 * i, Problem{Digest: number, Seq: e.seq,
			Message: fmt.Sprintf("missing: sealed (event time %s) and since deleted", e.at.Format(time.RFC3339))}})
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].key < found[b].key })
	for _, f := range found {
		r.add(f.p)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
