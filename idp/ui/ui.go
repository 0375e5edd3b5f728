// Package ui renders idpbridge's pages: it loads the html/template files of
// package templates (or of a theme folder on disk) into one set around a
// shared layout, refuses to start when a required page is missing, and
// writes pages with safe headers.
package ui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"reflect"
	"sort"
	"strings"
)

// Pages are the parsed page templates. Each page file defines the blocks
// "title" and "content"; "layout.html" defines "layout".
type Pages struct {
	pages  map[string]*template.Template
	static fs.FS
}

// Load parses layout.html with every other *.html page of fsys. required
// lists page names (without ".html") that must exist.
func Load(fsys fs.FS, required ...string) (*Pages, error) {
	layout, err := fs.ReadFile(fsys, "layout.html")
	if err != nil {
		return nil, fmt.Errorf("templates: layout.html: %w", err)
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("templates: layout.html: %w", err)
		}
		if _, err := t.New(n).Parse(string(body)); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", n, err)
		}
		p.pages[strings.TrimSuffix(n, ".html")] = t
	}
	var missing []string
	for _, r := range required {
		if _, ok := p.pages[r]; !ok {
			missing = append(missing, r+".html")
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("templates: missing required pages: %s", strings.Join(missing, ", "))
	}
	if sub, err := fs.Sub(fsys, "static"); err == nil {
		p.static = sub
	}
	return p, nil
}

var funcs = template.FuncMap{
	"join":    strings.Join,
	"isAdmin": isAdmin,
}

// isAdmin reports whether a page's data says the signed-in person is an
// administrator (the header then shows the "Admin" link): an IsAdmin()
// bool method, or an Admin bool field. Pages whose data has neither are
// not admin pages.
func isAdmin(data any) bool {
	if a, ok := data.(interface{ IsAdmin() bool }); ok {
		return a.IsAdmin()
	}
	v := reflect.ValueOf(data)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return false
	}
	f := v.FieldByName("Admin")
	return f.IsValid() && f.Kind() == reflect.Bool && f.Bool()
}

// Render writes page name with data and status. The page is rendered into a
// buffer first, so a template error never leaves half a page: the person
// gets a plain 500 instead.
func (p *Pages) Render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := p.pages[name]
	if !ok {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return fmt.Errorf("templates: render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// same-origin: no URL of ours (which may carry a SAMLRequest or a
	// RelayState) reaches another site, while our own form posts keep a
	// real Origin (under no-referrer Chrome sends "Origin: null", which
	// the Origin check refuses).
	h.Set("Referrer-Policy", "same-origin")
	if h.Get("Content-Security-Policy") == "" {
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'")
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// ErrorPage is the data of the "error" page.
type ErrorPage struct {
	User    string // the signed-in username, if any
	Title   string
	Message string
	Details []string
}

// Error renders the error page.
func (p *Pages) Error(w http.ResponseWriter, status int, e ErrorPage) error {
	return p.Render(w, status, "error", e)
}

// Static serves the static/ assets.
func (p *Pages) Static() http.Handler {
	if p.static == nil {
		return http.NotFoundHandler()
	}
	return http.FileServerFS(p.static)
}
