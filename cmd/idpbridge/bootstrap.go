package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"idpbridge/idp/audit"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// AdminGroup is the group whose members may use the admin UI and API.
const AdminGroup = web.AdminGroup

// bootstrapResult says what the first start created.
type bootstrapResult struct {
	AdminPassword string // set only when the admin account was created now
	Key           *signing.Key
	KeyCreated    bool
}

// bootstrap makes an empty store usable: an "admin" account with a random
// password when there are no users, and an active signing key when there
// is none, each with its audit record in the same transaction. Replicas starting together may race: the loser's ErrConflict is
// not an error, it simply keeps what the winner created.
func (m *Main) bootstrap(ctx context.Context, cfg *Config, s store.Store, kek []byte) (*bootstrapResult, error) {
	res := &bootstrapResult{}
	n, err := s.CountUsers(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		password := randomPassword(m.Rand)
		hash, err := local.HashPassword(m.Rand, password, local.DefaultParams)
		if err != nil {
			return nil, err
		}
		now := m.Now().UTC()
		err = s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(ctx, store.User{Username: "admin", PasswordHash: hash, Groups: []string{AdminGroup},
				Attributes: map[string][]string{}, CreatedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			return m.auditAdmin(ctx, tx, audit.AdminUserAdded, audit.TargetUser, "admin",
				map[string]string{"groups": AdminGroup, "reason": "first start"})
		})
		switch {
		case err == nil:
			res.AdminPassword = password
		case !errors.Is(err, store.ErrConflict):
			return nil, fmt.Errorf("create the admin account: %w", err)
		}
	}

	key, err := activeKey(ctx, s, kek)
	if err != nil {
		return nil, err
	}
	if key == nil {
		alg, err := signing.ParseAlgorithm(cfg.Keys.Algorithm)
		if err != nil {
			return nil, fmt.Errorf("keys.algorithm: %w", err)
		}
		key, err = signing.GenerateAlgorithm(m.Rand, alg, cfg.certificateHost(), m.Now())
		if err != nil {
			return nil, err
		}
		sk, err := key.Seal(m.Rand, kek, store.KeyActive, m.Now().UTC())
		if err != nil {
			return nil, err
		}
		err = s.InTx(ctx, func(tx store.Tx) error {
			if err := tx.CreateSigningKey(ctx, sk); err != nil {
				return err
			}
			return m.auditAdmin(ctx, tx, audit.AdminKeyCreated, audit.TargetSigningKey, sk.ID,
				map[string]string{"state": string(store.KeyActive), "reason": "first start"})
		})
		switch {
		case err == nil:
			res.KeyCreated = true
		case errors.Is(err, store.ErrConflict):
			if key, err = activeKey(ctx, s, kek); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("store the signing key: %w", err)
		}
	}
	res.Key = key
	return res, nil
}

// activeKey loads the active signing key, or nil when there is none.
func activeKey(ctx context.Context, s store.Store, kek []byte) (*signing.Key, error) {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.State == store.KeyActive {
			return signing.Open(k, kek)
		}
	}
	return nil, nil
}

// certificateHost is the subject of a new signing key's self-signed
// certificate: the base URL's host name, else "idpbridge".
func (c *Config) certificateHost() string {
	if u, err := url.Parse(c.Server.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "idpbridge"
}
