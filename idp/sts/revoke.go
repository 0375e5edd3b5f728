package sts

import (
	"context"
	"time"

	"idpbridge/idp/store"
)

// Revocation is what a revoke did.
type Revocation struct {
	// Session is the session named by its access key ID, as it was before
	// the revoke (zero for a revoke by source identity).
	Session store.STSSession
	// Revoked are the sessions revoked: for a revoke by access key ID the
	// named session first (unless it was revoked already), then the live
	// sessions chained from it.
	Revoked []store.STSSession
}

// Revoker revokes STS sessions in the store every replica reads: from the
// next request on, every replica refuses their credentials. Store is
// required; Now defaults to time.Now.
type Revoker struct {
	Store store.Store
	Now   func() time.Time
	// Record, when set, writes the revocation's audit record in the
	// revoking transaction: if it fails, nothing is revoked.
	Record func(ctx context.Context, tx store.Tx, r Revocation) error
}

// Session revokes the session with the given access key ID and every live
// session chained from it, to any depth. store.ErrNotFound when there is
// no such session.
func (r Revoker) Session(ctx context.Context, accessKeyID string) (Revocation, error) {
	var out Revocation
	err := r.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if out.Session, err = tx.GetSTSSession(ctx, accessKeyID); err != nil {
			return err
		}
		if out.Revoked, err = tx.RevokeSTSSessionChain(ctx, accessKeyID, r.now()); err != nil {
			return err
		}
		return r.record(ctx, tx, out)
	})
	if err != nil {
		return Revocation{}, err
	}
	return out, nil
}

// SourceIdentity revokes every live session carrying sourceIdentity, in
// any role and account (sessions chained from them carry it too).
func (r Revoker) SourceIdentity(ctx context.Context, sourceIdentity string) (Revocation, error) {
	var out Revocation
	err := r.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if out.Revoked, err = tx.RevokeSTSSessionsBySourceIdentity(ctx, sourceIdentity, r.now()); err != nil {
			return err
		}
		return r.record(ctx, tx, out)
	})
	if err != nil {
		return Revocation{}, err
	}
	return out, nil
}

func (r Revoker) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC()
	}
	return r.Now().UTC()
}

func (r Revoker) record(ctx context.Context, tx store.Tx, out Revocation) error {
	if r.Record == nil {
		return nil
	}
	return r.Record(ctx, tx, out)
}

// Revoker is the service's revoker, on its store and clock, recording
// nothing itself.
func (s *Service) Revoker() Revoker { return Revoker{Store: s.store, Now: s.now} }

// Revoke revokes the session with the given access key ID at the current
// time, and every live session chained from it: from then on every replica
// refuses their credentials. store.ErrNotFound when there is no such
// session.
func (s *Service) Revoke(ctx context.Context, accessKeyID string) error {
	_, err := s.Revoker().Session(ctx, accessKeyID)
	return err
}
