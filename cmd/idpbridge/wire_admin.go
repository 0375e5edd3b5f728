package main

import (
	"net/http"

	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// mountAdmin mounts the admin console's shell on srv: the home page at
// /admin/, /admin redirecting there, and a 404 page behind the admin
// guard for every other path under /admin/ (so that no path there answers
// anyone but an administrator); then the People and Sessions sections.
// The other sections mount their own pages (wire_admin_<area>.go).
func (m *Main) mountAdmin(cfg *Config, srv *web.Server, webp *webParts, s store.Store, ap *auditParts) error {
	idp := webp.IdP
	srv.Handle("GET /admin/{$}", idp.AdminPage("home", "admin_home", idp.AdminHome(s)))
	srv.Handle("GET /admin", idp.RequireAdmin(http.RedirectHandler("/admin/", http.StatusSeeOther)))
	srv.Handle("/admin/", idp.AdminNotFound())

	var dirs []string
	hasLocal := false
	for _, cc := range cfg.connectorList() {
		if cc.Type == connectorLocal {
			hasLocal = true
		} else {
			dirs = append(dirs, cc.Name)
		}
	}
	people, err := idp.AdminPeople(web.AdminPeopleOptions{
		Store: s, Audit: ap.Writer, Local: hasLocal, Policy: cfg.passwordPolicy(),
		Rand: m.Rand, People: webp.People, Directories: dirs,
	})
	if err != nil {
		return err
	}
	srv.Handle("GET /admin/people", idp.AdminPage("people", "admin_people", people.List))
	srv.Handle("POST /admin/people", idp.AdminAction(people.Create))
	srv.Handle("GET /admin/people/{name}", idp.AdminPage("people", "admin_people_edit", people.Show))
	srv.Handle("POST /admin/people/{name}", idp.AdminAction(people.Update))
	srv.Handle("POST /admin/people/{name}/disable", idp.AdminAction(people.Disable))
	srv.Handle("POST /admin/people/{name}/enable", idp.AdminAction(people.Enable))
	srv.Handle("POST /admin/people/{name}/password", idp.AdminAction(people.Password))
	srv.Handle("POST /admin/people/{name}/delete", idp.AdminAction(people.Delete))

	sessions, err := idp.AdminSessions(web.AdminSessionsOptions{Store: s, Audit: ap.Writer})
	if err != nil {
		return err
	}
	srv.Handle("GET /admin/sessions", idp.AdminPage("sessions", "admin_sessions", sessions.List))
	srv.Handle("POST /admin/sessions/browser/revoke", idp.AdminAction(sessions.RevokeBrowser))
	srv.Handle("POST /admin/sessions/sts/revoke", idp.AdminAction(sessions.RevokeSTS))
	srv.Handle("POST /admin/sessions/revoke-all", idp.AdminAction(sessions.RevokeAll))
	return nil
}
