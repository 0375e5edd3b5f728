package main

import (
	"idpbridge/idp/policy/simulate"
	"idpbridge/idp/sts"
	"idpbridge/idp/web"
)

// mountAdminSTS mounts the console's STS tools behind the admin guard:
// POST /admin/api/policy/validate, the JSON policy editor's check as you
// type.
func (m *Main) mountAdminSTS(srv *web.Server, webp *webParts, svc *sts.Service) {
	_ = svc
	srv.Handle("POST /admin/api/policy/validate", webp.IdP.AdminAPI(simulate.ValidateAPI()))
}
