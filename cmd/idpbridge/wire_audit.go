package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// AuditConfig tunes the sealing of the audit trail into signed digests
// (0 keeps the default):
//
//	audit:
//	  seal_every_rows: 1000   # a digest as soon as this many rows wait
//	  seal_interval: 1m       # and at least this often while any row waits
type AuditConfig struct {
	SealEveryRows int      `yaml:"seal_every_rows,omitempty"`
	SealInterval  Duration `yaml:"seal_interval,omitempty"`
}

// Defaults of AuditConfig.
const (
	defaultSealEveryRows = 1000
	defaultSealInterval  = time.Minute
)

func (a AuditConfig) everyRows() int {
	if a.SealEveryRows == 0 {
		return defaultSealEveryRows
	}
	return a.SealEveryRows
}

func (a AuditConfig) interval() time.Duration {
	if a.SealInterval == 0 {
		return defaultSealInterval
	}
	return time.Duration(a.SealInterval)
}

// validateAudit checks the audit section.
func (c *Config) validateAudit(p *problems) {
	if n := c.Audit.SealEveryRows; n < 0 || n > 100000 {
		p.add("audit.seal_every_rows", "must be from 1 to 100000 (0: the default, %d)", defaultSealEveryRows)
	}
	if d := time.Duration(c.Audit.SealInterval); d != 0 && (d < time.Second || d > 24*time.Hour) {
		p.add("audit.seal_interval", "must be between 1s and 24h")
	}
}

// auditParts is what wireAudit built: Writer is the trail every part of
// serve records its events with (Log for sign-ins, Append inside the STS's
// transactions).
type auditParts struct {
	Writer *audit.Writer
	Sealer *audit.Sealer

	store store.Store
	now   func() time.Time
	log   *slog.Logger
}

// Mount serves GET /admin/api/events on srv behind requireAdmin (the admin
// guard of the web IdP), for wiring that builds the guard after the trail.
func (a *auditParts) Mount(srv *web.Server, requireAdmin func(http.Handler) http.Handler) {
	srv.Handle("GET /admin/api/events", requireAdmin(web.API(audit.Events(a.store, a.now), a.log)))
}

// wireAudit starts the audit trail for serve: the writer, and the sealer in
// the background until ctx ends (both stopped by m.Close). With
// requireAdmin it mounts GET /admin/api/events behind it; with nil it
// mounts nothing (call Mount later).
func (m *Main) wireAudit(ctx context.Context, cfg *Config, srv *web.Server, s store.Store, key *signing.Key,
	requireAdmin func(http.Handler) http.Handler, log *slog.Logger) (*auditParts, error) {
	now := m.Now()
	if err := s.EnsureAuditPartitions(ctx, now, now.AddDate(0, 1, 0)); err != nil {
		// Events still land in the default partition; say so, do not refuse to start.
		log.Warn("audit partitions not created ahead", "err", err)
	}
	w := audit.NewWriter(s, audit.WriterOptions{Logger: log})
	sealer := &audit.Sealer{
		Store:     s,
		Signer:    audit.KeySigner(key),
		EveryRows: cfg.Audit.everyRows(),
		Interval:  cfg.Audit.interval(),
		Now:       m.Now,
		Logger:    log,
	}
	sealCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sealer.Run(sealCtx)
	}()
	m.onClose(func() error {
		stop()
		<-done
		return w.Close()
	})
	parts := &auditParts{Writer: w, Sealer: sealer, store: s, now: m.Now, log: log}
	if requireAdmin != nil {
		parts.Mount(srv, requireAdmin)
	}
	return parts, nil
}

// auditAdmin records an administrator's change made from the command line
// (eventName action, on the target of targetType), in tx: the change's own
// transaction, or the store itself for a change that has none. The
// administrator is the operating-system user, connector "cli". The change
// must fail when this fails.
func (m *Main) auditAdmin(ctx context.Context, tx store.Tx, action audit.AdminAction, targetType, target string, details map[string]string) error {
	rec := audit.AdminEvent(m.cliCall(), action, audit.AdminChange{TargetType: targetType, Target: target, Details: details}, nil)
	return audit.NewWriter(nil, audit.WriterOptions{Logger: slog.New(slog.NewTextHandler(m.Stderr, nil))}).Append(ctx, tx, rec)
}

// cliCall is the audit envelope of a CLI command.
func (m *Main) cliCall() audit.Call {
	user := m.Getenv("USER")
	if user == "" {
		user = m.Getenv("LOGNAME")
	}
	if user == "" {
		user = "unknown"
	}
	return audit.Call{
		EventID:   m.newUUID(),
		RequestID: m.newUUID(),
		Time:      m.Now(),
		UserAgent: "idpbridge-cli/" + version,
		Identity:  audit.IdpbridgeUser(user, "cli"),
	}
}

func (m *Main) newUUID() string {
	u, err := audit.NewUUID(m.Rand)
	if err != nil {
		panic("idpbridge: randomness unavailable: " + err.Error())
	}
	return u
}
