package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// The admin console: server-rendered pages under /admin/, for members of
// AdminGroup only. AdminPage serves a page (GET), AdminAction a form
// (POST) and AdminRecord writes the Admin* audit event of a change.

// AdminView is the data every admin page template receives.
type AdminView struct {
	User      string // qualified name of the signed-in administrator
	Admin     bool   // always true here: the header shows the "Admin" link
	CSRFToken string // for every <form method="post">: <input type="hidden" name="csrf_token" value="{{.CSRFToken}}">
	Section   string // highlighted nav entry, one of the AdminSections keys
	Notice    string // one-line result of the previous action (?notice=...), escaped
	Page      any    // the page's own data
}

// IsAdmin reports whether the header shows the "Admin" link.
func (v AdminView) IsAdmin() bool { return v.Admin }

// AdminSection is one entry of the console's navigation.
type AdminSection struct {
	Key   string // AdminView.Section of its pages
	Label string
	Path  string
}

// AdminSections are the console's sections, in navigation order.
var AdminSections = []AdminSection{
	{"home", "Home", "/admin/"},
	{"mappings", "Mappings", "/admin/mappings"},
	{"providers", "Service providers", "/admin/providers"},
	{"people", "People", "/admin/people"},
	{"sessions", "Sessions", "/admin/sessions"},
	{"sts", "STS", "/admin/sts"},
	{"simulator", "Policy simulator", "/admin/simulator"},
	{"audit", "Audit trail", "/admin/audit"},
	{"keys", "Signing keys", "/admin/keys"},
}

// AdminNavEntry is an AdminSection as the nav shows it.
type AdminNavEntry struct {
	AdminSection
	Current bool
}

// Nav lists AdminSections with the view's section marked current.
func (v AdminView) Nav() []AdminNavEntry {
	out := make([]AdminNavEntry, len(AdminSections))
	for i, s := range AdminSections {
		out[i] = AdminNavEntry{AdminSection: s, Current: s.Key == v.Section}
	}
	return out
}

// AdminErrorPage is the Page of the "admin_error" page: a refused action
// or a page that could not be loaded, with a link back.
type AdminErrorPage struct {
	Title   string
	Message string
	// Back is a local path to return to; empty for none.
	Back string
}

// maxNotice bounds the ?notice= line shown on a page.
const maxNotice = 300

// AdminFormMaxBytes bounds the body of a console form, multipart uploads
// included (AdminAction).
const AdminFormMaxBytes = 1 << 20

// AdminPage serves a GET page: RequireAdmin (anonymous -> login page,
// non-admin -> 403 page), then load, then renders template tmpl with
// AdminView{Page: data}. An error from load renders the error page with
// ErrorStatus(err) and, for an *idp.Error, its message (others: a generic
// message, logged).
func (p *IdP) AdminPage(section, tmpl string, load func(r *http.Request, s idp.Session) (any, error)) http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		data, err := load(r, s)
		if err != nil {
			p.adminError(w, r, s, section, err, "")
			return
		}
		v := p.adminView(w, r, s, section)
		v.Page = data
		if err := p.opt.Pages.Render(w, http.StatusOK, tmpl, v); err != nil {
			p.log.Error("render admin page", "page", tmpl, "err", err)
		}
	}))
}

// AdminAction serves a POST form: RequireAdmin (admin + same Origin),
// CheckCSRF, the form parsed with a size bound (AdminFormMaxBytes;
// multipart forms too); do returns the URL to 303 to. A message for the
// next page goes through AdminNotice. An error renders the error page with
// ErrorStatus(err) and, for an *idp.Error, its message (others: a generic
// message, logged), with a link back to the Referer's path.
func (p *IdP) AdminAction(do func(w http.ResponseWriter, r *http.Request, s idp.Session) (redirect string, err error)) http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		if err := parseAdminForm(w, r); err != nil {
			p.adminError(w, r, s, "", err, p.backPath(r))
			return
		}
		if err := p.CheckCSRF(r); err != nil {
			p.adminError(w, r, s, "", err, p.backPath(r))
			return
		}
		to, err := do(w, r, s)
		if err != nil {
			p.adminError(w, r, s, "", err, p.backPath(r))
			return
		}
		if to = safeNext(to); to == "" {
			to = "/admin/"
		}
		seeOther(w, to)
	}))
}

// parseAdminForm reads the form of r, at most AdminFormMaxBytes.
func parseAdminForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, AdminFormMaxBytes)
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		err = r.ParseMultipartForm(AdminFormMaxBytes)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return idp.Errorf(idp.ETooLarge, "The form is larger than %d bytes.", int64(AdminFormMaxBytes))
	case err != nil:
		return idp.Errorf(idp.EInvalid, "The form could not be read: %v", err)
	}
	return nil
}

// backPath is the local path of r's Referer when it is of this site, for
// a link back from an error page; "" otherwise.
func (p *IdP) backPath(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host == "" || origin(ref) != p.origin {
		return ""
	}
	back := ref.EscapedPath()
	if ref.RawQuery != "" {
		back += "?" + ref.RawQuery
	}
	return safeNext(back)
}

// adminView is the view of a page for s, with the CSRF token and the
// notice of the request.
func (p *IdP) adminView(w http.ResponseWriter, r *http.Request, s idp.Session, section string) AdminView {
	return AdminView{
		User:      s.Identity.QualifiedName(),
		Admin:     true,
		CSRFToken: p.CSRFToken(w, r),
		Section:   section,
		Notice:    noticeOf(r),
	}
}

// noticeOf is the request's ?notice=, on one line and bounded.
func noticeOf(r *http.Request) string {
	n := strings.Join(strings.Fields(r.URL.Query().Get("notice")), " ")
	if len([]rune(n)) > maxNotice {
		n = string([]rune(n)[:maxNotice]) + "…"
	}
	return n
}

// adminError renders the admin error page for err: its status, and its
// message when it is an *idp.Error; the detail of any other error is
// logged, never shown.
func (p *IdP) adminError(w http.ResponseWriter, r *http.Request, s idp.Session, section string, err error, back string) {
	status := ErrorStatus(err)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) && idp.ErrorCode(err) == idp.EInternal {
		status = http.StatusRequestEntityTooLarge
		err = idp.Errorf(idp.ETooLarge, "The form is larger than %d bytes.", tooBig.Limit)
	}
	msg := "Something went wrong; the details are in the server's log."
	var ie *idp.Error
	if errors.As(err, &ie) && status != http.StatusInternalServerError {
		msg = idp.ErrorMessage(err)
	} else {
		p.log.ErrorContext(r.Context(), "admin console", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	v := p.adminView(w, r, s, section)
	v.Page = AdminErrorPage{Title: http.StatusText(status), Message: msg, Back: back}
	if err := p.opt.Pages.Render(w, status, "admin_error", v); err != nil {
		p.log.Error("render admin error page", "err", err)
	}
}

// AdminNotice returns path with ?notice=msg appended (url-encoded).
func AdminNotice(path, msg string) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "notice=" + url.QueryEscape(msg)
}

// AdminRecord writes an Admin* audit event for a console change, through
// the IdP's EventLog (IdPOptions.Events): the acting admin from s, client
// address and user agent from r, requestParameters = audit.AdminChange
// {TargetType, Target, Details} with Details["before"] and
// Details["after"] holding compact JSON of before/after (nil -> omitted),
// secrets redacted by audit's redaction. An error means the record was
// not written: report the change as failed.
func (p *IdP) AdminRecord(r *http.Request, s idp.Session, action audit.AdminAction, targetType, target string, before, after any) error {
	rec, err := p.AdminEvent(r, s, action, targetType, target, before, after)
	if err != nil {
		return err
	}
	if err := p.record(r.Context(), rec); err != nil {
		return fmt.Errorf("write the %s audit record: %w", action, err)
	}
	return nil
}

// AdminEvent builds, without writing it, the record AdminRecord writes,
// for a caller that appends it in the transaction of the change
// (audit.Writer.Append).
func (p *IdP) AdminEvent(r *http.Request, s idp.Session, action audit.AdminAction, targetType, target string, before, after any) (audit.Record, error) {
	if !strings.HasPrefix(string(action), "Admin") {
		return audit.Record{}, fmt.Errorf("admin record: action %q does not start with Admin", action)
	}
	details := map[string]string{}
	for _, d := range []struct {
		key string
		v   any
	}{{"before", before}, {"after", after}} {
		if d.v == nil {
			continue
		}
		js, err := redactedJSON(d.v)
		if err != nil {
			return audit.Record{}, fmt.Errorf("admin record: %s: %w", d.key, err)
		}
		details[d.key] = js
	}
	if len(details) == 0 {
		details = nil
	}
	call, err := p.call(r, p.opt.Now(), p.clientAddr(r), auditUser(s.Identity))
	if err != nil {
		return audit.Record{}, fmt.Errorf("admin record: %w", err)
	}
	rec := audit.AdminEvent(call, action, audit.AdminChange{TargetType: targetType, Target: target, Details: details}, nil)
	if paths := audit.Redact(&rec); len(paths) > 0 {
		p.log.Warn("audit record redacted", "event", rec.EventName, "paths", paths)
	}
	return rec, nil
}

// redactedJSON is v as compact JSON with the values that look like secrets
// (by their member's name or their form) replaced by audit's redaction.
func redactedJSON(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	// audit.Redact walks requestParameters member by member; a record
	// holding only v applies exactly its rules to v's members.
	probe := audit.Record{RequestParameters: raw}
	audit.Redact(&probe)
	var buf bytes.Buffer
	if err := json.Compact(&buf, probe.RequestParameters); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// AdminNotFound answers, behind the admin guard, the paths under /admin/
// that no console page takes: the admin error page with 404. Mount it on
// "/admin/".
func (p *IdP) AdminNotFound() http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		p.adminError(w, r, s, "", idp.Errorf(idp.ENotFound, "There is no console page at %s.", r.URL.Path), "")
	}))
}
