package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"idpbridge/idp/store"
	"idpbridge/idp/sts"
	"idpbridge/idp/ui"
	"idpbridge/idp/web"
	"idpbridge/templates"
)

// stsBuildOptions is the environment the sts section is checked and built
// in: the public base URL ("metadata: self", the built-in sign-in
// recipient) and the secrets' environment.
func (c *Config) stsBuildOptions(getenv func(string) string) sts.BuildOptions {
	return sts.BuildOptions{BaseURL: c.Server.BaseURL, Getenv: getenv}
}

// validateSTS checks the sts section: every problem names its key path under
// "sts." (policy problems name the statement and the reason).
func (c *Config) validateSTS(getenv func(string) string) []string {
	return c.STS.Validate(c.stsBuildOptions(getenv))
}

// wireSTS builds the STS from the sts section and mounts its Query API on
// POST and GET /sts and /sts/, and the browser sign-in endpoint on
// POST /sts/saml (the SSO "builtin" preset's ACS URL), whose role
// chooser's tokens are keyed from kek. Session tokens are sealed under a key
// derived from kek; audit records go through trail (the audit Writer) in
// the issuing transaction; idpbridge's own SAML provider ("metadata: self")
// trusts the active and next signing keys in the store. Until ctx ends it
// prunes session records expired for a week and lapsed replay-cache
// entries, every hour.
func (m *Main) wireSTS(ctx context.Context, cfg *Config, srv *web.Server, s store.Store, kek []byte, trail sts.Trail, log *slog.Logger) (*sts.Service, error) {
	opt := cfg.stsBuildOptions(m.Getenv)
	opt.SelfCerts = func(ctx context.Context) ([]*x509.Certificate, error) { return publishedCerts(ctx, s) }
	opt.Now = m.Now
	opt.Logger = log
	dir, err := sts.Build(&cfg.STS, opt)
	if err != nil {
		return nil, err
	}
	// The SAML providers' private_keys, sealed in the store; the STS
	// decrypts with the sealed copies.
	if err := sts.UseSealedDecryptionKeys(ctx, dir, s, kek, m.Rand, m.Now(), log); err != nil {
		return nil, fmt.Errorf("sts: %w", err)
	}
	var proxies []netip.Prefix
	for _, p := range cfg.Server.TrustedProxies {
		pr, err := parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies: %w", err)
		}
		proxies = append(proxies, pr)
	}
	svc, err := sts.New(sts.Options{
		Directory:        dir,
		Store:            s,
		Trail:            trail,
		KeyEncryptionKey: kek,
		Now:              m.Now,
		Rand:             m.Rand,
		Logger:           log,
		TrustedProxies:   proxies,
	})
	if err != nil {
		return nil, err
	}
	for _, pattern := range []string{"POST /sts", "POST /sts/{$}", "GET /sts", "GET /sts/{$}"} {
		srv.Handle(pattern, svc)
	}
	pages, err := ui.Load(templates.FS, "error", "sts_roles", "sts_session")
	if err != nil {
		return nil, err
	}
	signin, err := web.NewSTSSignIn(web.STSSignInOptions{
		STS:            svc,
		Pages:          pages,
		Secret:         kek,
		BaseURL:        cfg.Server.BaseURL,
		TrustedProxies: proxies,
		Logger:         log,
		Now:            m.Now,
		Region:         dir.Region,
		Sessions:       m.sessions,
	})
	if err != nil {
		return nil, err
	}
	srv.Handle("POST "+web.STSSignInPath, signin)
	pruneCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			now := m.Now()
			if _, err := s.DeleteExpiredSTSSessions(pruneCtx, now.Add(-7*24*time.Hour)); err != nil && pruneCtx.Err() == nil {
				log.Warn("sts: prune session records", "err", err)
			}
			if _, err := s.DeleteExpiredSAMLAssertions(pruneCtx, now); err != nil && pruneCtx.Err() == nil {
				log.Warn("sts: prune the SAML replay cache", "err", err)
			}
			select {
			case <-pruneCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	m.onClose(func() error { stop(); <-done; return nil })
	log.Info("sts ready", "region", dir.Region, "accounts", len(dir.Accounts()))
	for _, w := range cfg.Warnings(m.Getenv) {
		log.Warn("configuration: " + w)
	}
	return svc, nil
}

// publishedCerts returns the certificates of the active and next signing
// keys: the keys idpbridge's own SAML provider may sign with.
func publishedCerts(ctx context.Context, s store.Store) ([]*x509.Certificate, error) {
	keys, err := s.ListSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, k := range keys {
		if k.State != store.KeyActive && k.State != store.KeyNext {
			continue
		}
		b, _ := pem.Decode(k.CertPEM)
		if b == nil {
			return nil, fmt.Errorf("signing key %s: certificate is not PEM", k.ID)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
		}
		out = append(out, c)
	}
	return out, nil
}
