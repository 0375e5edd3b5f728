package main

import (
	"fmt"

	"idpbridge/idp/audit"
	"idpbridge/idp/signing"
	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// mountAdminAudit mounts the console's audit section (the trail, an
// event's JSON, the export, the digest chain's verification, a source
// identity's timeline and its revocation) and its signing keys section,
// whose changes are recorded through trail in their transaction. The keys
// are made as keys rotate makes them: keys.algorithm, sealed with kek, a
// certificate for the base URL's host.
func (m *Main) mountAdminAudit(srv *web.Server, webp *webParts, cfg *Config, s store.Store, kek []byte, trail web.TrailAppender) error {
	web.NewAdminAudit(webp.IdP, s, trail).Mount(srv)
	srv.Handle("GET /admin/api/events/timeline", webp.IdP.AdminAPI(audit.TimelineEvents(s, s, m.Now)))
	alg, err := signing.ParseAlgorithm(cfg.Keys.Algorithm)
	if err != nil {
		return fmt.Errorf("keys.algorithm: %w", err)
	}
	web.NewAdminKeys(webp.IdP, web.AdminKeysOptions{Store: s, Trail: trail, KEK: kek, Algorithm: alg,
		CommonName: cfg.certificateHost(), Rand: m.Rand}).Mount(srv)
	return nil
}
