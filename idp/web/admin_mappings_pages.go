package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/audit"
)

// The console's mapping pages: /admin/mappings (the list) and
// /admin/mappings/{name} (the editor, its live preview and history).

// MappingListPage is the Page of "admin_mappings".
type MappingListPage struct {
	Mappings []MappingSummary
}

// MappingEditorPage is the Page of "admin_mappings_edit".
type MappingEditorPage struct {
	Detail *MappingDetail
	// Editable: a console version is in effect (or being created); else
	// the config file's mapping shows read-only with "Copy to console".
	Editable bool
	// Body is the textarea's YAML; Version the console version it edits.
	Body    string
	Version int
	Comment string
	// SourceIdentity is the structured form of the source identity;
	// SourceIdentityShown is what the page showed before the
	// administrator's edit, which tells a change of the fields from an
	// edit of the YAML.
	SourceIdentity      SourceIdentityForm
	SourceIdentityShown SourceIdentityForm
	// User is the preview's person; People the local people to pick from.
	User   string
	People []string
	// Preview is the no-JS preview's result; Problems the refused save's.
	Preview  *Preview
	Problems []FieldError
	// Status is the HTTP status the page is rendered with.
	Status int
}

// NextVersion is the version a save makes.
func (p MappingEditorPage) NextVersion() int { return p.Version + 1 }

// FieldProblems returns the problems of field (and of its sub-fields).
func (p MappingEditorPage) FieldProblems(field string) []FieldError {
	var out []FieldError
	for _, f := range p.allProblems() {
		if f.Field == field || strings.HasPrefix(f.Field, field+".") || strings.HasPrefix(f.Field, field+"[") {
			out = append(out, f)
		}
	}
	return out
}

func (p MappingEditorPage) allProblems() []FieldError {
	if p.Preview != nil && len(p.Preview.Fields) > 0 {
		return p.Preview.Fields
	}
	return p.Problems
}

// AllProblems lists every problem of the body, for the textarea.
func (p MappingEditorPage) AllProblems() []FieldError { return p.allProblems() }

// SourceIdentityForm is the source identity as form fields: the identity
// attribute, the transforms (names, comma-separated) and required.
// Complex is set when the body's rule has a literal value or a transform
// that the form cannot show (regex, truncate): then the YAML is the only
// editor of it.
type SourceIdentityForm struct {
	From       string
	Transforms string
	Required   bool
	Complex    bool
}

// SimpleTransforms are the transforms the structured form offers.
var SimpleTransforms = []string{"strip_domain", "lowercase", "uppercase"}

func sourceIdentityForm(body string) SourceIdentityForm {
	mc, errs := attributes.ParseMapping([]byte(body))
	if len(errs) > 0 && mc.SourceIdentity == nil {
		return SourceIdentityForm{}
	}
	si := mc.SourceIdentity
	if si == nil {
		return SourceIdentityForm{}
	}
	f := SourceIdentityForm{From: si.From, Required: si.Required, Complex: si.Value != "" || si.Pick != ""}
	var names []string
	for _, t := range si.Transforms {
		name := t.String()
		if !isSimpleTransform(name) {
			f.Complex = true
		}
		names = append(names, name)
	}
	f.Transforms = strings.Join(names, ", ")
	return f
}

func isSimpleTransform(name string) bool {
	for _, s := range SimpleTransforms {
		if s == name {
			return true
		}
	}
	return false
}

// withSourceIdentity returns body with its source_identity replaced by the
// form's (removed when From is empty). The body is returned as written
// when the form says what it says already, or when it does not parse (the
// save then reports the body's problems).
func withSourceIdentity(body string, f SourceIdentityForm) (string, error) {
	if f.Complex {
		return body, nil
	}
	var transforms []string
	for _, t := range strings.FieldsFunc(f.Transforms, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !isSimpleTransform(t) {
			return "", &InvalidFields{
				Message: fmt.Sprintf("source identity: unknown transform %q (the form offers %s; others go in the YAML)", t, strings.Join(SimpleTransforms, ", ")),
				Fields:  []FieldError{{Field: "source_identity.transforms", Message: fmt.Sprintf("unknown transform %q (the form offers %s; others go in the YAML)", t, strings.Join(SimpleTransforms, ", "))}},
			}
		}
		transforms = append(transforms, t)
	}
	cur := sourceIdentityForm(body)
	f.From = strings.TrimSpace(f.From)
	if cur.From == f.From && cur.Transforms == strings.Join(transforms, ", ") && cur.Required == f.Required {
		return body, nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(body), &root); err != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return body, nil
	}
	top := root.Content[0]
	var rule *yaml.Node
	if f.From != "" {
		rule = &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		add := func(k string, v *yaml.Node) {
			rule.Content = append(rule.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
		}
		add("from", &yaml.Node{Kind: yaml.ScalarNode, Value: f.From})
		if len(transforms) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, t := range transforms {
				seq.Content = append(seq.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: t})
			}
			add("transforms", seq)
		}
		if f.Required {
			add("required", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
	}
	found := false
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "source_identity" {
			continue
		}
		found = true
		if rule == nil {
			top.Content = append(top.Content[:i], top.Content[i+2:]...)
		} else {
			top.Content[i+1] = rule
		}
		break
	}
	if !found && rule != nil {
		at := 0
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "name" {
				at = i + 2
			}
		}
		kv := []*yaml.Node{{Kind: yaml.ScalarNode, Value: "source_identity"}, rule}
		top.Content = append(top.Content[:at], append(kv, top.Content[at:]...)...)
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return "", fmt.Errorf("encode mapping: %w", err)
	}
	enc.Close()
	return b.String(), nil
}

// ListPage loads /admin/mappings.
func (c *MappingConsole) ListPage(r *http.Request, _ idp.Session) (any, error) {
	list, err := c.summaries(r)
	if err != nil {
		return nil, err
	}
	return MappingListPage{Mappings: list}, nil
}

// EditorPage loads /admin/mappings/{name}; ?user= previews for a person.
func (c *MappingConsole) EditorPage(r *http.Request, _ idp.Session) (any, error) {
	name := r.PathValue("name")
	d, err := c.detail(r, name)
	if idp.ErrorCode(err) == idp.ENotFound && r.URL.Query().Get("new") != "" {
		// A new console mapping: an editor with a skeleton, version 0.
		if err := checkMappingName(name); err != nil {
			return nil, err
		}
		d = &MappingDetail{MappingSummary: MappingSummary{Name: name, Source: "console", UsedBy: []string{}},
			Body: newMappingSkeleton(name), Versions: []MappingVersionView{}}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	page := c.editorPage(r, d)
	if page.User = strings.TrimSpace(r.URL.Query().Get("user")); page.User != "" {
		pv, err := c.preview(r, PreviewRequest{Body: page.Body, User: page.User})
		if err != nil {
			return nil, err
		}
		page.Preview = pv
	}
	return page, nil
}

func (c *MappingConsole) editorPage(r *http.Request, d *MappingDetail) MappingEditorPage {
	page := MappingEditorPage{Detail: d, Body: d.Body, Version: d.Version, Status: http.StatusOK}
	page.Editable = d.Source == "console"
	page.SourceIdentity = sourceIdentityForm(page.Body)
	page.SourceIdentityShown = page.SourceIdentity
	if c.LocalPeople != nil {
		people, err := c.LocalPeople(r.Context())
		if err != nil {
			c.log().Warn("mapping editor: list local people", "err", err)
		}
		page.People = people
	}
	return page
}

// EditorForm is POST /admin/mappings/{name}: the editor's form. With
// action=preview it renders the editor with the preview (the no-JS
// preview); with action=save it saves a new version and goes back to the
// editor with a notice, or renders the editor with the problems next to
// their fields (400) or the conflict (409). Behind the admin guard, with
// the form bounded and its CSRF token checked.
func (c *MappingConsole) EditorForm(p *IdP) http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		if err := parseAdminForm(w, r); err != nil {
			p.adminError(w, r, s, "mappings", err, p.backPath(r))
			return
		}
		if err := p.CheckCSRF(r); err != nil {
			p.adminError(w, r, s, "mappings", err, p.backPath(r))
			return
		}
		name := r.PathValue("name")
		d, err := c.detail(r, name)
		if idp.ErrorCode(err) == idp.ENotFound && r.PostFormValue("version") == "0" {
			d, err = &MappingDetail{MappingSummary: MappingSummary{Name: name, Source: "console", UsedBy: []string{}}, Versions: []MappingVersionView{}}, checkMappingName(name)
		}
		if err != nil {
			p.adminError(w, r, s, "mappings", err, p.backPath(r))
			return
		}
		page := c.editorPage(r, d)
		page.Editable = true
		page.Body = strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n")
		page.Comment = r.PostFormValue("comment")
		page.User = strings.TrimSpace(r.PostFormValue("user"))
		if v, err := strconv.Atoi(r.PostFormValue("version")); err == nil && v >= 0 {
			page.Version = v
		} else {
			p.adminError(w, r, s, "mappings", idp.Errorf(idp.EInvalid, "The form's version %q is not a version.", r.PostFormValue("version")), p.backPath(r))
			return
		}
		form := SourceIdentityForm{
			From:       r.PostFormValue("si_from"),
			Transforms: r.PostFormValue("si_transforms"),
			Required:   r.PostFormValue("si_required") != "",
			Complex:    r.PostFormValue("si_complex") != "",
		}
		// The fields apply when the administrator changed them; else the
		// YAML as written wins (it may have been edited by hand).
		orig := SourceIdentityForm{
			From:       r.PostFormValue("si_from_orig"),
			Transforms: r.PostFormValue("si_transforms_orig"),
			Required:   r.PostFormValue("si_required_orig") != "",
		}
		if form.From == orig.From && form.Transforms == orig.Transforms && form.Required == orig.Required {
			form.Complex = true
		}
		body, err := withSourceIdentity(page.Body, form)
		var fields *InvalidFields
		switch {
		case errors.As(err, &fields):
			page.Problems, page.Status = fields.Fields, http.StatusBadRequest
		case err != nil:
			p.adminError(w, r, s, "mappings", err, p.backPath(r))
			return
		default:
			page.Body = body
		}
		page.SourceIdentity = sourceIdentityForm(page.Body)
		page.SourceIdentityShown = page.SourceIdentity
		if page.Status != http.StatusOK {
			form.Complex = r.PostFormValue("si_complex") != ""
			page.SourceIdentity, page.SourceIdentityShown = form, orig
		}
		if page.Status == http.StatusOK && r.PostFormValue("action") == "preview" {
			pv, err := c.preview(r, PreviewRequest{Body: page.Body, User: page.User})
			if err != nil {
				page.Problems = []FieldError{{Field: "user", Message: idp.ErrorMessage(err)}}
				if idp.ErrorCode(err) == idp.EInternal {
					p.adminError(w, r, s, "mappings", err, p.backPath(r))
					return
				}
			}
			page.Preview = pv
		} else if page.Status == http.StatusOK {
			saved, err := c.save(r, name, PutMappingRequest{Body: page.Body, Version: page.Version, Comment: page.Comment}, audit.AdminMappingUpdated)
			switch {
			case errors.As(err, &fields):
				page.Problems, page.Status = fields.Fields, http.StatusBadRequest
			case idp.ErrorCode(err) == idp.EConflict || idp.ErrorCode(err) == idp.EInvalid:
				page.Problems, page.Status = []FieldError{{Message: idp.ErrorMessage(err)}}, ErrorStatus(err)
			case err != nil:
				p.adminError(w, r, s, "mappings", err, p.backPath(r))
				return
			default:
				to := "/admin/mappings/" + url.PathEscape(name)
				if page.User != "" {
					to += "?user=" + url.QueryEscape(page.User)
				}
				seeOther(w, AdminNotice(to, fmt.Sprintf("Saved %s as version %d; it applies on every replica within seconds.", name, saved.Version)))
				return
			}
		}
		v := p.adminView(w, r, s, "mappings")
		v.Page = page
		if err := p.opt.Pages.Render(w, page.Status, "admin_mappings_edit", v); err != nil {
			p.log.Error("render admin page", "page", "admin_mappings_edit", "err", err)
		}
	}))
}

// RollbackForm is POST /admin/mappings/{name}/rollback (AdminAction):
// version (0: back to the config file) and latest, the latest version the
// page showed.
func (c *MappingConsole) RollbackForm(w http.ResponseWriter, r *http.Request, _ idp.Session) (string, error) {
	name := r.PathValue("name")
	version, err1 := strconv.Atoi(r.PostFormValue("version"))
	latest, err2 := strconv.Atoi(r.PostFormValue("latest"))
	if err1 != nil || err2 != nil || version < 0 || latest < 1 {
		return "", idp.Errorf(idp.EInvalid, "The form's versions %q and %q are not versions.", r.PostFormValue("version"), r.PostFormValue("latest"))
	}
	d, err := c.rollback(r, name, RollbackRequest{Version: version, Latest: latest})
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("Rolled %s back to version %d, saved as version %d.", name, version, d.Version)
	if version == 0 {
		msg = fmt.Sprintf("%s is the config file's mapping again (saved as version %d).", name, d.Version)
	}
	return AdminNotice("/admin/mappings/"+url.PathEscape(name), msg), nil
}

// CopyForm is POST /admin/mappings/{name}/copy (AdminAction): the config
// file's mapping becomes the console's next version, to edit.
func (c *MappingConsole) CopyForm(w http.ResponseWriter, r *http.Request, _ idp.Session) (string, error) {
	name := r.PathValue("name")
	cfg, ok := c.configMapping(name)
	if !ok {
		return "", idp.Errorf(idp.ENotFound, "There is no mapping %q in the config file.", name)
	}
	latest := 0
	versions, err := c.Store.ListMappingVersions(r.Context(), name)
	if err != nil {
		return "", fmt.Errorf("copy mapping %q: %w", name, err)
	}
	if len(versions) > 0 {
		latest = versions[0].Version
		if versions[0].Body != "" {
			return "", idp.Errorf(idp.EConflict, "Mapping %q is already in the console (version %d).", name, latest)
		}
	}
	d, err := c.save(r, name, PutMappingRequest{Body: cfg.Body, Version: latest, Comment: "copied from the config file"}, audit.AdminMappingUpdated)
	if err != nil {
		return "", err
	}
	return AdminNotice("/admin/mappings/"+url.PathEscape(name), fmt.Sprintf("Copied %s to the console as version %d; edit it below.", name, d.Version)), nil
}

// newMappingSkeleton is the body a new console mapping starts from.
func newMappingSkeleton(name string) string {
	return "name: " + name + `
source_identity: {from: username, required: true}
role_session_name: {from: username}
session_duration: 3600
roles:
  - role_arn: arn:aws:iam::123456789012:role/ROLE
    provider_arn: arn:aws:iam::123456789012:saml-provider/idpbridge
`
}

// NewMappingForm is GET /admin/mappings/new?name=: it opens the editor of a
// new console mapping (a plain GET form, so that it needs no CSRF token).
func (c *MappingConsole) NewMappingForm(p *IdP) http.Handler {
	return p.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := SessionFrom(r.Context())
		name := strings.TrimSpace(r.URL.Query().Get("name"))
		if err := checkMappingName(name); err != nil {
			p.adminError(w, r, s, "mappings", err, "/admin/mappings")
			return
		}
		seeOther(w, "/admin/mappings/"+url.PathEscape(name)+"?new=1")
	}))
}
