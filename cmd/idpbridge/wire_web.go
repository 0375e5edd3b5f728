package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"idpbridge/idp/connector/local"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/ui"
	"idpbridge/idp/web"
	"idpbridge/templates"
)

// LoginConfig is the sign-in form's behaviour:
//
//	login:
//	  session_lifetime: 8h      # a session ends this long after sign-in
//	  rate_limit:
//	    max_failures_per_user: 5
//	    max_failures_per_address: 20
//	    window: 15m
//	  hash_concurrency: 4       # password checks at once (64 MiB each); default: the CPUs
//	  password_min_length: 12   # local passwords set by the CLI; at least 8
type LoginConfig struct {
	SessionLifetime Duration        `yaml:"session_lifetime"`
	RateLimit       RateLimitConfig `yaml:"rate_limit"`
	// HashConcurrency bounds the password hashes checked at once; a
	// sign-in that finds none free within local.DefaultHashWait gets 503.
	HashConcurrency int `yaml:"hash_concurrency"`
	// PasswordMinLength is the fewest characters of a local password set
	// with 'user add' or 'user passwd' (default 12, at least 8); a
	// password on the built-in list of common passwords is refused too.
	PasswordMinLength int `yaml:"password_min_length"`
}

// RateLimitConfig bounds failed sign-ins within Window, per account name
// and per client address; over either bound, sign-in answers 429 until the
// oldest counted failure leaves the window. The counts live in the
// database, shared by every replica.
type RateLimitConfig struct {
	MaxFailuresPerUser    int      `yaml:"max_failures_per_user"`
	MaxFailuresPerAddress int      `yaml:"max_failures_per_address"`
	Window                Duration `yaml:"window"`
}

func defaultLoginConfig() LoginConfig {
	return LoginConfig{
		SessionLifetime: Duration(8 * time.Hour),
		RateLimit: RateLimitConfig{
			MaxFailuresPerUser:    5,
			MaxFailuresPerAddress: 20,
			Window:                Duration(15 * time.Minute),
		},
		HashConcurrency:   runtime.NumCPU(),
		PasswordMinLength: local.DefaultMinPasswordLength,
	}
}

// validateLogin checks the login section and server.trusted_proxies.
func (c *Config) validateLogin(p *problems) {
	if d := time.Duration(c.Login.SessionLifetime); d < time.Minute || d > 30*24*time.Hour {
		p.add("login.session_lifetime", "must be between 1m and 720h")
	}
	rl := c.Login.RateLimit
	if rl.MaxFailuresPerUser < 1 {
		p.add("login.rate_limit.max_failures_per_user", "must be at least 1")
	}
	if rl.MaxFailuresPerAddress < 1 {
		p.add("login.rate_limit.max_failures_per_address", "must be at least 1")
	}
	if time.Duration(rl.Window) < time.Second {
		p.add("login.rate_limit.window", "must be at least 1s")
	}
	if c.Login.HashConcurrency < 1 {
		p.add("login.hash_concurrency", "must be at least 1, got %d (each password check running holds 64 MiB)", c.Login.HashConcurrency)
	}
	if n := c.Login.PasswordMinLength; n < local.MinPasswordLengthFloor || n > local.MaxPasswordBytes {
		p.add("login.password_min_length", "must be between %d and %d, got %d", local.MinPasswordLengthFloor, local.MaxPasswordBytes, n)
	}
	for i, s := range c.Server.TrustedProxies {
		if _, err := parseProxy(s); err != nil {
			p.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not an IP address or CIDR (10.0.0.0/8, 2001:db8::/32)", s)
		}
	}
}

// parseProxy reads a CIDR, or one address as a single-host prefix.
func parseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		pr, err := netip.ParsePrefix(s)
		return pr.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// webParts is what wireWeb built, for the wiring that comes after it:
// IdP is the sso.Sessions of the SAML endpoints and the admin guard
// (IdP.RequireAdmin); Pages renders every page.
type webParts struct {
	IdP   *web.IdP
	Pages *ui.Pages
	// People finds people for mapping tests through the connectors.
	People sso.People
	// Proxies are server.trusted_proxies, parsed.
	Proxies []netip.Prefix
}

// wireWeb mounts the browser side of the IdP on srv: login, logout, the
// portal and static assets, with sessions and rate limits in s, cookie keys
// derived from the key-encryption key, and sign-in and sign-out records
// written through events (a sign-in whose record fails is refused). It prunes expired sessions and
// old failures until ctx ends.
func (m *Main) wireWeb(ctx context.Context, cfg *Config, srv *web.Server, s store.Store, kek []byte, events web.EventLog, log *slog.Logger) (*webParts, error) {
	pages, err := ui.Load(templates.FS, "login", "portal", "error")
	if err != nil {
		return nil, err
	}
	conns, people, err := m.buildConnectors(ctx, cfg, s, log, srv.Registry())
	if err != nil {
		return nil, err
	}
	var proxies []netip.Prefix
	for _, p := range cfg.Server.TrustedProxies {
		pr, err := parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("server.trusted_proxies: %w", err)
		}
		proxies = append(proxies, pr)
	}
	rl := cfg.Login.RateLimit
	idp, err := web.NewIdP(web.IdPOptions{
		BaseURL:         cfg.Server.BaseURL,
		Secret:          kek,
		Store:           s,
		Connectors:      conns,
		Pages:           pages,
		Events:          events,
		SessionLifetime: time.Duration(cfg.Login.SessionLifetime),
		RateLimit: web.RateLimit{MaxFailuresPerUser: rl.MaxFailuresPerUser,
			MaxFailuresPerAddress: rl.MaxFailuresPerAddress, Window: time.Duration(rl.Window)},
		TrustedProxies: proxies,
		Registry:       srv.Registry(),
		Logger:         log,
		Now:            m.Now,
		Rand:           m.Rand,
	})
	if err != nil {
		return nil, err
	}
	idp.Mount(srv)
	// Browsers stay on base_url's host: its cookies and Origin are the
	// ones the forms are checked against.
	if err := srv.RedirectToBaseURL(cfg.Server.BaseURL, proxies); err != nil {
		return nil, err
	}
	go prune(ctx, idp, log, 10*time.Minute)
	m.sessions = idp
	return &webParts{IdP: idp, Pages: pages, People: people, Proxies: proxies}, nil
}

// prune deletes dead sessions and old login failures every interval.
func prune(ctx context.Context, idp *web.IdP, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := idp.Prune(ctx); err != nil && ctx.Err() == nil {
			log.Warn("prune sessions and login failures", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// passwordPolicy is the policy of local passwords set through the CLI.
func (c *Config) passwordPolicy() local.PasswordPolicy {
	return local.PasswordPolicy{MinLength: c.Login.PasswordMinLength}
}
