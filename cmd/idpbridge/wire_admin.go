package main

import (
	"net/http"

	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// mountAdmin mounts the admin console's shell on srv: the home page at
// /admin/, /admin redirecting there, and a 404 page behind the admin
// guard for every other path under /admin/ (so that no path there answers
// anyone but an administrator). The console's sections mount their own
// pages (wire_admin_<area>.go).
func (m *Main) mountAdmin(srv *web.Server, webp *webParts, s store.Store) {
	srv.Handle("GET /admin/{$}", webp.IdP.AdminPage("home", "admin_home", webp.IdP.AdminHome(s)))
	srv.Handle("GET /admin", webp.IdP.RequireAdmin(http.RedirectHandler("/admin/", http.StatusSeeOther)))
	srv.Handle("/admin/", webp.IdP.AdminNotFound())
}
