package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"idpbridge/idp/policy/simulate"
	"idpbridge/idp/store"
	"idpbridge/idp/sts"
	"idpbridge/idp/web"
)

type serveCommand struct {
	noArgs
	configFlag
	listen, baseURL string
}

func init() { register("serve", func() command { return &serveCommand{} }) }

func (*serveCommand) name() string { return "serve" }
func (*serveCommand) summary() string {
	return "Runs the IdP, the STS and the admin UI. With no --config it uses development\n" +
		"defaults: http://localhost:8080 and a SQLite database in ./idpbridge-data."
}
func (c *serveCommand) flags(fs *flag.FlagSet) {
	c.addConfigFlag(fs)
	fs.StringVar(&c.listen, "listen", "", "listen on `ADDR` (host:port) instead of server.listen; a base_url on server.listen's\n"+
		"port moves to this port unless --base-url is given")
	fs.StringVar(&c.baseURL, "base-url", "", "the public `URL` instead of server.base_url")
}

func (c *serveCommand) run(ctx context.Context, m *Main) error {
	if err := c.checkOverrides(); err != nil {
		return err
	}
	cfg, err := LoadConfig(c.configPath, m.Getenv, c.override)
	if err != nil {
		return err
	}
	m.configPath = c.configPath
	log := m.logger(cfg)
	s, err := m.openStore(ctx, cfg, cfg.AutoMigrate())
	if err != nil {
		return err
	}
	kek, err := m.keyEncryptionKey(cfg, true)
	if err != nil {
		return err
	}
	boot, err := m.bootstrap(ctx, cfg, s, kek)
	if err != nil {
		return err
	}

	srv := web.NewServer(web.Options{
		Logger:       log,
		MaxBodyBytes: cfg.Server.MaxBodyBytes,
		Ready:        web.CheckerFunc(func(ctx context.Context) error { return storeReady(ctx, s) }),
	})
	m.server = srv
	// The trail comes first: sign-ins, assertions, STS calls and admin
	// changes are all written through it.
	ap, err := m.wireAudit(ctx, cfg, srv, s, boot.Key, nil, log)
	if err != nil {
		return err
	}
	webp, err := m.wireWeb(ctx, cfg, srv, s, kek, ap.Writer, log)
	if err != nil {
		return err
	}
	ap.Mount(srv, webp.IdP.RequireAdmin)
	ssoIdP, err := m.wireSSO(ctx, cfg, srv, s, kek, webp, ap.Writer, log)
	if err != nil {
		return err
	}
	svc, err := m.wireSTS(ctx, cfg, srv, s, kek, ap.Writer, log)
	if err != nil {
		return err
	}
	srv.Handle("POST /admin/api/policy/simulate", webp.IdP.AdminAPI(simulate.Simulate(simulate.HandlerConfig{
		Principals: stsPrincipals{svc.Directory()},
	})))
	if err := m.mountAdmin(cfg, srv, webp, s, ap); err != nil {
		return err
	}
	if err := m.mountAdminAudit(srv, webp, cfg, s, kek, ap.Writer); err != nil {
		return err
	}
	m.mountAdminSTS(cfg, srv, webp, svc)
	m.mountAdminProviders(ctx, srv, webp, ssoIdP, s, ap.Writer, log)
	if err := m.mountAdminMappings(ctx, cfg, srv, webp, s, ssoIdP, log); err != nil {
		return err
	}
	srv.Handle(web.AdminAPIFallback, webp.IdP.AdminAPINotFound(srv))

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadTimeout:       time.Duration(cfg.Server.ReadTimeout),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      time.Duration(cfg.Server.WriteTimeout),
		IdleTimeout:       time.Duration(cfg.Server.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slogErrorLog(log),
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.Server.TLS.CertFile != "" {
			errc <- hs.ServeTLS(ln, cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	m.printBanner(cfg, s, boot, ln.Addr().String())
	log.Info("listening", "addr", ln.Addr().String(), "base_url", cfg.Server.BaseURL, "store", s.Backend())
	// Replicas must share server.base_url: each one's STS accepts only
	// assertions whose Issuer is this entity ID.
	log.Info("SAML identity provider", "entity_id", ssoIdP.EntityID())
	if m.Started != nil {
		m.Started(ln.Addr().String())
	}

	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkOverrides names a bad --listen or --base-url by its flag.
func (c *serveCommand) checkOverrides() error {
	if c.listen != "" {
		if _, port, err := net.SplitHostPort(c.listen); err != nil || port == "" {
			return usagef("serve: --listen %q is not host:port (for example 127.0.0.1:9090)", c.listen)
		}
	}
	if c.baseURL != "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return usagef("serve: --base-url %q is not an absolute http:// or https:// URL without query", c.baseURL)
		}
	}
	return nil
}

// override applies --listen and --base-url over the file. Without
// --base-url, a base URL on the file's listen port (the server is reached
// directly) follows --listen to its port; port 0 picks a free port, which
// the base URL cannot know, so it stays.
func (c *serveCommand) override(cfg *Config) {
	if c.listen != "" {
		_, oldPort, _ := net.SplitHostPort(cfg.Server.Listen)
		_, newPort, _ := net.SplitHostPort(c.listen)
		cfg.Server.Listen = c.listen
		if u, err := url.Parse(cfg.Server.BaseURL); c.baseURL == "" && err == nil && newPort != "0" && oldPort != "" && u.Port() == oldPort {
			u.Host = net.JoinHostPort(u.Hostname(), newPort)
			cfg.Server.BaseURL = u.String()
		}
	}
	if c.baseURL != "" {
		cfg.Server.BaseURL = c.baseURL
	}
}

// storeReady: the database answers and its schema is current.
func storeReady(ctx context.Context, s store.Store) error {
	if err := s.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	pending, err := s.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("database schema: %w", err)
	}
	if len(pending) > 0 {
		return fmt.Errorf("database schema: %d migrations pending", len(pending))
	}
	return nil
}

func (m *Main) printBanner(cfg *Config, s store.Store, boot *bootstrapResult, addr string) {
	w := m.Stdout
	base := cfg.Server.BaseURL
	fmt.Fprintf(w, "\nidpbridge %s is running on %s (listening on %s)\n", version, base, addr)
	fmt.Fprintf(w, "  Sign in at %s/login\n", strings.TrimSuffix(base, "/"))
	fmt.Fprintf(w, "  Admin console at %s/admin/ (members of %s, the first-start admin account among them)\n",
		strings.TrimSuffix(base, "/"), web.AdminGroup)
	fmt.Fprintf(w, "  Open %s (server.base_url) in your browser: other addresses of this listener redirect there.\n", base)
	fmt.Fprintf(w, "  health:   %s/healthz   readiness: %s/readyz   metrics: %s/metrics\n", base, base, base)
	if s.Backend() == "sqlite" {
		fmt.Fprintf(w, "  data:     SQLite database %s\n", cfg.SQLitePath())
	} else {
		fmt.Fprintf(w, "  data:     PostgreSQL\n")
	}
	m.printSTSAccounts(w, cfg)
	if boot.AdminPassword != "" {
		fmt.Fprintf(w, "\nFirst start: created the administrator account.\n")
		fmt.Fprintf(w, "  user:     admin\n")
		fmt.Fprintf(w, "  password: %s\n", boot.AdminPassword)
		fmt.Fprintf(w, "  This password is shown only now. Change it with:\n")
		fmt.Fprintf(w, "    idpbridge user passwd admin --password-stdin\n")
	}
	if boot.KeyCreated {
		fmt.Fprintf(w, "\nCreated the SAML signing key %s (RSA-%d, certificate valid until %s),\n",
			boot.Key.ID, boot.Key.PrivateKey.N.BitLen(), boot.Key.Certificate.NotAfter.Format("2006-01-02"))
		fmt.Fprintf(w, "  sealed in the database with the key-encryption key.\n")
	}
	if cfg.Demo {
		root := strings.TrimSuffix(base, "/")
		fmt.Fprintf(w, "\nDemo (sts.demo): the built-in STS has\n")
		fmt.Fprintf(w, "  account %s with the role %s, trusting this IdP (SAML provider %s).\n", sts.DemoAccountID, sts.DemoRoleName, sts.DemoProviderName)
		fmt.Fprintf(w, "  1. Sign in at %s/login as admin.\n", root)
		fmt.Fprintf(w, "  2. Open \"Built-in STS\" on your portal: the STS assumes %s with your username as\n", sts.DemoRoleName)
		fmt.Fprintf(w, "     source identity and shows the session and its credentials (endpoint %s/sts/).\n", root)
		fmt.Fprintf(w, "  3. Find who acted through the role in the audit trail:\n")
		fmt.Fprintf(w, "       go run ./cmd/idpbridge audit lookup --source-identity admin%s\n", configArg(m.configPath))
		fmt.Fprintf(w, "  Configure service_providers and sts.accounts (see config.example.yaml) to replace the demo.\n")
	}
	fmt.Fprintln(w)
}
