package sso

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/signing"
	"idpbridge/idp/store"
)

// KeySet is what the IdP signs with and publishes.
type KeySet struct {
	// Active signs every assertion, response and logout response.
	Active *signing.Key
	// Next are the other published certificates (state "next"): a key about
	// to be activated, or the previous signer until it is retired.
	Next []*x509.Certificate
}

// Published returns the certificates the metadata lists: the active one
// first, then the next ones.
func (ks KeySet) Published() []*x509.Certificate {
	return append([]*x509.Certificate{ks.Active.Certificate}, ks.Next...)
}

// KeySource gives the IdP its current keys.
type KeySource interface {
	// SigningKeys returns the active key and the next certificates. An
	// error (no active key, store down) means nothing can be signed.
	SigningKeys(ctx context.Context) (KeySet, error)
}

// ErrNoActiveKey: the store has no active signing key.
var ErrNoActiveKey = errors.New("sso: no active signing key")

// StoreKeys is the KeySource over the store's signing keys, opened with the
// key-encryption key. It re-reads the list at most every TTL (default 30s),
// so a rotation made by the CLI or another replica is picked up within
// that time, and opens each private key once.
type StoreKeys struct {
	Store store.SigningKeyStore
	KEK   []byte
	TTL   time.Duration
	Now   func() time.Time

	mu      sync.Mutex
	set     KeySet
	ok      bool
	checked time.Time
	opened  map[string]*signing.Key
}

var _ KeySource = (*StoreKeys)(nil)

// SigningKeys implements KeySource.
func (s *StoreKeys) SigningKeys(ctx context.Context) (KeySet, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ok && now().Sub(s.checked) < ttl {
		return s.set, nil
	}
	keys, err := s.Store.ListSigningKeys(ctx)
	if err != nil {
		if s.ok {
			// Keep signing with what we have while the store is away.
			return s.set, nil
		}
		return KeySet{}, fmt.Errorf("list signing keys: %w", err)
	}
	if s.opened == nil {
		s.opened = map[string]*signing.Key{}
	}
	var set KeySet
	for _, k := range keys {
		switch k.State {
		case store.KeyActive:
			if set.Active != nil {
				continue // the oldest active key signs; activate leaves only one
			}
			key, ok := s.opened[k.ID]
			if !ok {
				if key, err = signing.Open(k, s.KEK); err != nil {
					return KeySet{}, err
				}
				s.opened[k.ID] = key
			}
			set.Active = key
		case store.KeyNext:
			cert, err := certFromPEM(k)
			if err != nil {
				return KeySet{}, err
			}
			set.Next = append(set.Next, cert)
		}
	}
	if set.Active == nil {
		return KeySet{}, ErrNoActiveKey
	}
	s.set, s.ok, s.checked = set, true, now()
	return set, nil
}

// certFromPEM decodes a stored key's certificate without its private key.
func certFromPEM(k store.SigningKey) (*x509.Certificate, error) {
	block, _ := pem.Decode(k.CertPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("signing key %s: certificate is not PEM", k.ID)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: certificate: %w", k.ID, err)
	}
	return cert, nil
}

// KeyChange says what a key command did, for the audit trail and the CLI.
type KeyChange struct {
	ID string
	// Demoted is the key that was active before Activate ("" when none).
	Demoted string
}

// Recorder writes the audit record of a key change inside the change's
// transaction; an error rolls the change back. nil records nothing.
type Recorder func(tx store.Tx, ch KeyChange) error

// RotateKey generates a new key with a self-signed certificate for
// commonName and stores it, sealed with kek, in state "next": published in
// the metadata from now on, not yet signing. record runs in the same
// transaction.
func RotateKey(ctx context.Context, s store.Store, kek []byte, rand io.Reader, commonName string, now time.Time, record Recorder) (*signing.Key, error) {
	return RotateKeyAlgorithm(ctx, s, kek, rand, signing.DefaultAlgorithm, commonName, now, record)
}

// RotateKeyAlgorithm is RotateKey with a new key of algorithm alg
// (keys.algorithm).
func RotateKeyAlgorithm(ctx context.Context, s store.Store, kek []byte, rand io.Reader, alg signing.Algorithm, commonName string, now time.Time, record Recorder) (*signing.Key, error) {
	key, err := signing.GenerateAlgorithm(rand, alg, commonName, now)
	if err != nil {
		return nil, err
	}
	sk, err := key.Seal(rand, kek, store.KeyNext, now.UTC())
	if err != nil {
		return nil, err
	}
	err = s.InTx(ctx, func(tx store.Tx) error {
		if err := tx.CreateSigningKey(ctx, sk); err != nil {
			return fmt.Errorf("store the signing key: %w", err)
		}
		if record != nil {
			return record(tx, KeyChange{ID: key.ID})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	key.State = store.KeyNext
	return key, nil
}

// ActivateKey makes key id, which must be in state "next", the signer, in
// one transaction; the previous active key becomes "next", so it stays in
// the metadata (service providers that have not refreshed it still trust the
// assertions it signed) until RetireKey. kek must open the key, so a key
// that cannot sign is never activated. record runs in the same transaction.
// Errors: idp.ENotFound for an unknown ID, idp.EInvalid for a key that is
// not "next".
func ActivateKey(ctx context.Context, s store.Store, kek []byte, id string, record Recorder) (KeyChange, error) {
	ch := KeyChange{ID: id}
	err := s.InTx(ctx, func(tx store.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		var target *store.SigningKey
		for i := range keys {
			if keys[i].ID == id {
				target = &keys[i]
			}
		}
		switch {
		case target == nil:
			return idp.Errorf(idp.ENotFound, "no signing key %s", id)
		case target.State == store.KeyActive:
			return idp.Errorf(idp.EInvalid, "signing key %s is already active", id)
		case target.State != store.KeyNext:
			return idp.Errorf(idp.EInvalid, "signing key %s is %s; only a next key can be activated (run keys rotate for a new one)", id, target.State)
		}
		if _, err := signing.Open(*target, kek); err != nil {
			return err
		}
		for _, k := range keys {
			if k.State == store.KeyActive {
				if err := tx.SetSigningKeyState(ctx, k.ID, store.KeyNext); err != nil {
					return err
				}
				ch.Demoted = k.ID
			}
		}
		if err := tx.SetSigningKeyState(ctx, id, store.KeyActive); err != nil {
			return err
		}
		if record != nil {
			return record(tx, ch)
		}
		return nil
	})
	return ch, err
}

// RetireKey takes key id, which must be in state "next", out of the
// metadata. The active key cannot be retired: activate another first.
// record runs in the same transaction.
func RetireKey(ctx context.Context, s store.Store, id string, record Recorder) (KeyChange, error) {
	ch := KeyChange{ID: id}
	err := s.InTx(ctx, func(tx store.Tx) error {
		keys, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID != id {
				continue
			}
			switch k.State {
			case store.KeyNext:
				if err := tx.SetSigningKeyState(ctx, id, store.KeyRetired); err != nil {
					return err
				}
				if record != nil {
					return record(tx, ch)
				}
				return nil
			case store.KeyActive:
				return idp.Errorf(idp.EInvalid, "signing key %s is active; activate another key before retiring it", id)
			default:
				return idp.Errorf(idp.EInvalid, "signing key %s is already %s", id, k.State)
			}
		}
		return idp.Errorf(idp.ENotFound, "no signing key %s", id)
	})
	return ch, err
}
