package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/audit"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
)

// ConfigMapping is a mapping of the config file, read-only in the console.
type ConfigMapping struct {
	Name string
	// File is the config file and Line the line of the mapping's entry;
	// File is "" for a built-in default mapping (sso.DefaultMappings).
	File string
	Line int
	// Body is the mapping as YAML, what "Copy to console" starts from.
	Body string
}

// MappingConsole is the admin console's attribute mappings: the config
// file's (read-only) and the console's (in Store, versioned), the JSON API
// under /admin/api/mappings and the pages under /admin/mappings. A console
// mapping overrides the config file's mapping of its name (see package
// sso); a version with an empty body withdraws it.
type MappingConsole struct {
	// Store keeps the console's versions.
	Store store.MappingStore
	// Catalog knows which service providers use which mapping; Reloader is
	// told at once when this replica saved (the others poll).
	Catalog  *sso.Catalog
	Reloader *sso.MappingReloader
	// People finds the person of a preview ("diego", "diego@corp-ad").
	People sso.People
	// LocalPeople lists the local people's names for the preview's
	// picker; nil offers none.
	LocalPeople func(ctx context.Context) ([]string, error)
	// Config are the config file's mappings.
	Config []ConfigMapping
	// Record writes the Admin* audit record of a change (IdP.AdminRecord);
	// a change whose record fails is reported as failed.
	Record func(r *http.Request, s idp.Session, action audit.AdminAction, targetType, target string, before, after any) error
	// Now is the clock (default time.Now); Logger defaults to slog.Default.
	Now    func() time.Time
	Logger *slog.Logger
}

// MaxMappingBytes bounds a mapping body and a request carrying one.
const MaxMappingBytes = 64 << 10

// mappingNameRe is the names the console accepts for its mappings: they
// appear in URLs. "test", "preview" and "new" are paths of their own.
var mappingNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func checkMappingName(name string) error {
	if !mappingNameRe.MatchString(name) || name == "test" || name == "preview" || name == "new" || name == "." || name == ".." {
		return idp.Errorf(idp.EInvalid, "%q is not a mapping name the console accepts: letters, digits, '.', '_' and '-', at most 64, and not test, preview or new", name)
	}
	return nil
}

// MappingSummary is one row of the mapping list.
type MappingSummary struct {
	Name string `json:"name"`
	// Source is where the mapping in effect comes from: "config" (the
	// config file, or a built-in default) or "console".
	Source string `json:"source"`
	// Config reports that the config file (or, without File, a built-in
	// default) has a mapping of this name; File and Line locate it.
	Config bool   `json:"config"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Version is the console's latest version (0: none); when Source is
	// "config" and Version > 0, the console's mapping was withdrawn.
	Version int `json:"version,omitempty"`
	// Overridden: the config file has the mapping and the console's
	// version is in effect.
	Overridden bool `json:"overridden"`
	// UsedBy lists the service providers naming the mapping.
	UsedBy []string `json:"usedBy"`
	// ChangedBy and ChangedAt are the latest console version's author and
	// time.
	ChangedBy string     `json:"changedBy,omitempty"`
	ChangedAt *time.Time `json:"changedAt,omitempty"`
}

// MappingDetail is one mapping with its history.
type MappingDetail struct {
	MappingSummary
	// Body is the mapping in effect, as YAML.
	Body string `json:"body"`
	// Config is the config file's mapping of this name.
	Config *ConfigMappingView `json:"config,omitempty"`
	// Versions are the console's versions, newest first.
	Versions []MappingVersionView `json:"versions"`
}

// ConfigMappingView is the config file's mapping of a MappingDetail.
type ConfigMappingView struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Body string `json:"body"`
}

// MappingVersionView is one console version with its difference from the
// version before it.
type MappingVersionView struct {
	Version   int       `json:"version"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"createdAt"`
	Comment   string    `json:"comment,omitempty"`
	Body      string    `json:"body"`
	// Withdrawn: the version's body is empty, the config file's mapping
	// applies.
	Withdrawn bool       `json:"withdrawn"`
	Diff      []DiffLine `json:"diff"`
}

// DiffLine is one line of a line diff: Op is " " (kept), "-" (removed) or
// "+" (added).
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

func (c *MappingConsole) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *MappingConsole) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *MappingConsole) configMapping(name string) (ConfigMapping, bool) {
	for _, m := range c.Config {
		if m.Name == name {
			return m, true
		}
	}
	return ConfigMapping{}, false
}

// List is GET /admin/api/mappings: {"mappings": [MappingSummary...]}, by
// name.
func (c *MappingConsole) List(r *http.Request) (any, error) {
	list, err := c.summaries(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"mappings": list}, nil
}

func (c *MappingConsole) summaries(r *http.Request) ([]MappingSummary, error) {
	latest, err := c.Store.LatestMappingVersions(r.Context())
	if err != nil {
		return nil, fmt.Errorf("list mappings: %w", err)
	}
	byName := map[string]*MappingSummary{}
	var order []string
	get := func(name string) *MappingSummary {
		if s, ok := byName[name]; ok {
			return s
		}
		s := &MappingSummary{Name: name, Source: "config", UsedBy: []string{}}
		byName[name] = s
		order = append(order, name)
		return s
	}
	for _, m := range c.Config {
		s := get(m.Name)
		s.Config, s.File, s.Line = true, m.File, m.Line
	}
	for _, v := range latest {
		c.applyLatest(get(v.Name), v)
	}
	for _, src := range c.Catalog.MappingSources() {
		if s, ok := byName[src.Name]; ok {
			s.UsedBy = append(s.UsedBy, src.UsedBy...)
		}
	}
	out := make([]MappingSummary, 0, len(order))
	slices.Sort(order)
	for _, name := range order {
		out = append(out, *byName[name])
	}
	return out, nil
}

func (c *MappingConsole) applyLatest(s *MappingSummary, v store.MappingVersion) {
	_, inConfig := c.configMapping(s.Name)
	s.Version = v.Version
	s.ChangedBy = v.Author
	at := v.CreatedAt
	s.ChangedAt = &at
	if v.Body != "" {
		s.Source = "console"
		s.Overridden = inConfig
	}
}

// Get is GET /admin/api/mappings/{name}: a MappingDetail. ENotFound when
// neither the config file nor the console has the mapping.
func (c *MappingConsole) Get(r *http.Request) (any, error) {
	return c.detail(r, r.PathValue("name"))
}

func (c *MappingConsole) detail(r *http.Request, name string) (*MappingDetail, error) {
	versions, err := c.Store.ListMappingVersions(r.Context(), name)
	if err != nil {
		return nil, fmt.Errorf("mapping %q: %w", name, err)
	}
	cfg, inConfig := c.configMapping(name)
	if !inConfig && len(versions) == 0 {
		return nil, idp.Errorf(idp.ENotFound, "no mapping %q", name)
	}
	d := &MappingDetail{MappingSummary: MappingSummary{Name: name, Source: "config", UsedBy: []string{}}, Versions: []MappingVersionView{}}
	if inConfig {
		d.MappingSummary.Config, d.File, d.Line = true, cfg.File, cfg.Line
		d.Config = &ConfigMappingView{File: cfg.File, Line: cfg.Line, Body: cfg.Body}
		d.Body = cfg.Body
	}
	if len(versions) > 0 {
		c.applyLatest(&d.MappingSummary, versions[0])
		if versions[0].Body != "" {
			d.Body = versions[0].Body
		}
	}
	for _, src := range c.Catalog.MappingSources() {
		if src.Name == name {
			d.UsedBy = append(d.UsedBy, src.UsedBy...)
		}
	}
	// A version's diff is against the mapping in effect before it: the
	// previous version, or the config file's (for the first version, and
	// for a withdrawn one).
	effective := func(body string) string {
		if body == "" {
			return cfg.Body
		}
		return body
	}
	for i, v := range versions {
		prev := cfg.Body
		if i+1 < len(versions) {
			prev = effective(versions[i+1].Body)
		}
		d.Versions = append(d.Versions, MappingVersionView{
			Version: v.Version, Author: v.Author, CreatedAt: v.CreatedAt, Comment: v.Comment,
			Body: v.Body, Withdrawn: v.Body == "", Diff: LineDiff(prev, effective(v.Body)),
		})
	}
	return d, nil
}

// PutMappingRequest is the body of PUT /admin/api/mappings/{name}.
type PutMappingRequest struct {
	// Body is the mapping as YAML (one attributes.MappingConfig whose name
	// is the path's); "" withdraws the console's mapping, so that the
	// config file's applies again.
	Body string `json:"body"`
	// Version is the console version the administrator edited, 0 for none:
	// the save fails with conflict when another version was saved since.
	Version int    `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// Put is PUT /admin/api/mappings/{name}: saves a new version and answers
// the MappingDetail. An invalid body is invalid with the problems in
// "fields" (key path and line of each); a version saved meanwhile is
// conflict.
func (c *MappingConsole) Put(r *http.Request) (any, error) {
	var req PutMappingRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return nil, err
	}
	return c.save(r, r.PathValue("name"), req, audit.AdminMappingUpdated)
}

// RollbackRequest is the body of POST /admin/api/mappings/{name}/rollback.
type RollbackRequest struct {
	// Version is the console version whose body becomes the new version;
	// 0 goes back to the config file's mapping.
	Version int `json:"version"`
	// Latest is the latest version the administrator saw (0: any): the
	// rollback fails with conflict when another version was saved since.
	Latest int `json:"latest,omitempty"`
}

// Rollback is POST /admin/api/mappings/{name}/rollback: saves a new version
// with an earlier version's body (or withdraws the console's mapping, for
// version 0), and answers the MappingDetail.
func (c *MappingConsole) Rollback(r *http.Request) (any, error) {
	var req RollbackRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return nil, err
	}
	return c.rollback(r, r.PathValue("name"), req)
}

func (c *MappingConsole) rollback(r *http.Request, name string, req RollbackRequest) (*MappingDetail, error) {
	if err := checkMappingName(name); err != nil {
		return nil, err
	}
	ctx := r.Context()
	latest := req.Latest
	if latest == 0 {
		v, err := c.Store.LatestMappingVersion(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, idp.Errorf(idp.ENotFound, "mapping %q has no console version to roll back", name)
		case err != nil:
			return nil, fmt.Errorf("rollback mapping %q: %w", name, err)
		}
		latest = v.Version
	}
	put := PutMappingRequest{Version: latest}
	switch {
	case req.Version < 0:
		return nil, idp.Errorf(idp.EInvalid, "version %d is not a version", req.Version)
	case req.Version == 0:
		if _, ok := c.configMapping(name); !ok {
			return nil, idp.Errorf(idp.EInvalid, "mapping %q is not in the config file: there is nothing to go back to (roll back to one of its versions)", name)
		}
		put.Comment = "back to the config file"
	default:
		v, err := c.Store.GetMappingVersion(ctx, name, req.Version)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, idp.Errorf(idp.ENotFound, "mapping %q has no version %d", name, req.Version)
		case err != nil:
			return nil, fmt.Errorf("rollback mapping %q: %w", name, err)
		}
		put.Body, put.Comment = v.Body, "rolled back to version "+strconv.Itoa(req.Version)
	}
	return c.save(r, name, put, audit.AdminMappingRolledBack)
}

// versionRecord is the before and after of an audit record.
type versionRecord struct {
	Version int    `json:"version"`
	Body    string `json:"body"`
}

// save validates and stores req as the next version of name, reloads this
// replica's catalog and records the change.
func (c *MappingConsole) save(r *http.Request, name string, req PutMappingRequest, action audit.AdminAction) (*MappingDetail, error) {
	if err := checkMappingName(name); err != nil {
		return nil, err
	}
	s, ok := SessionFrom(r.Context())
	if !ok {
		return nil, idp.Errorf(idp.EUnauthorized, "Sign in first.")
	}
	if len(req.Body) > MaxMappingBytes {
		return nil, idp.Errorf(idp.ETooLarge, "the mapping is larger than %d bytes", MaxMappingBytes)
	}
	if req.Version < 0 {
		return nil, idp.Errorf(idp.EInvalid, "version %d is not a version", req.Version)
	}
	_, inConfig := c.configMapping(name)
	if strings.TrimSpace(req.Body) == "" {
		req.Body = ""
		if !inConfig {
			for _, src := range c.Catalog.MappingSources() {
				if src.Name == name && len(src.UsedBy) > 0 {
					return nil, idp.Errorf(idp.EInvalid, "mapping %q is used by %s and is not in the config file: it cannot be withdrawn", name, strings.Join(src.UsedBy, ", "))
				}
			}
		}
	} else if err := validateMappingBody(name, req.Body); err != nil {
		return nil, err
	}
	ctx := r.Context()
	var before *versionRecord
	if req.Version > 0 {
		prev, err := c.Store.GetMappingVersion(ctx, name, req.Version)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return nil, idp.Errorf(idp.EConflict, "mapping %q has no version %d; reload the mapping", name, req.Version)
		case err != nil:
			return nil, fmt.Errorf("save mapping %q: %w", name, err)
		}
		before = &versionRecord{Version: prev.Version, Body: prev.Body}
	}
	v := store.MappingVersion{Name: name, Version: req.Version + 1, Body: req.Body,
		Author: s.Identity.QualifiedName(), Comment: req.Comment, CreatedAt: c.now().UTC()}
	if err := c.Store.PutMappingVersion(ctx, v); err != nil {
		if errors.Is(err, store.ErrConflict) {
			msg := fmt.Sprintf("mapping %q changed since you opened version %d", name, req.Version)
			if cur, lerr := c.Store.LatestMappingVersion(ctx, name); lerr == nil {
				msg = fmt.Sprintf("mapping %q changed since you opened version %d: %s saved version %d; reload it and apply your change again", name, req.Version, cur.Author, cur.Version)
			}
			return nil, idp.Errorf(idp.EConflict, "%s", msg)
		}
		return nil, fmt.Errorf("save mapping %q: %w", name, err)
	}
	if c.Reloader != nil {
		if err := c.Reloader.Reload(ctx); err != nil {
			c.log().Warn("reload console mappings after a save; the next refresh retries", "mapping", name, "err", err)
		}
	}
	if c.Record != nil {
		var b any
		if before != nil {
			b = before
		}
		if err := c.Record(r, s, action, audit.TargetMapping, name, b, versionRecord{Version: v.Version, Body: v.Body}); err != nil {
			return nil, fmt.Errorf("mapping %q version %d saved, but its audit record failed: %w", name, v.Version, err)
		}
	}
	return c.detail(r, name)
}

// validateMappingBody checks a console mapping's body: it parses, it
// validates, and it names the mapping name.
func validateMappingBody(name, body string) error {
	mc, errs := attributes.ParseMapping([]byte(body))
	if len(errs) == 0 && mc.Name != name {
		errs = append(errs, &attributes.ConfigError{Key: "name", Msg: fmt.Sprintf("the mapping is %q: the body must say name: %s", mc.Name, name)})
	}
	if len(errs) == 0 {
		return nil
	}
	fields := fieldErrors(errs)
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = f.Field + ": " + f.Message
		if f.Field == "" {
			msgs[i] = f.Message
		}
	}
	return &InvalidFields{Message: "the mapping is not valid: " + strings.Join(msgs, "; "), Fields: fields}
}

func fieldErrors(errs []error) []FieldError {
	out := make([]FieldError, 0, len(errs))
	for _, err := range errs {
		var ce *attributes.ConfigError
		if errors.As(err, &ce) {
			out = append(out, FieldError{Field: ce.Key, Line: ce.Line, Message: ce.Msg})
			continue
		}
		out = append(out, FieldError{Message: err.Error()})
	}
	return out
}

// PreviewRequest is the body of POST /admin/api/mappings/preview.
type PreviewRequest struct {
	// Body is the mapping as YAML, as in PutMappingRequest.
	Body string `json:"body"`
	// User names the person as the mapping test does: "diego" (local) or
	// "diego@corp-ad" (a directory connector). Empty: validate only.
	User string `json:"user,omitempty"`
}

// Preview is what a mapping body makes of a person.
type Preview struct {
	// Valid reports that the body is a valid mapping; when not, Fields
	// lists its problems.
	Valid  bool         `json:"valid"`
	Fields []FieldError `json:"fields,omitempty"`
	// Hints are advice that is not an error (the short form of a value
	// rule).
	Hints []FieldError `json:"hints,omitempty"`
	// Report is the person's SAML attributes, or the problems that keep
	// the mapping from mapping them; absent without a person or a valid
	// body.
	Report *sso.MappingReport `json:"report,omitempty"`
}

// PreviewMapping is POST /admin/api/mappings/preview: validates a mapping
// body and applies it to a person, saving nothing. An invalid body is a
// Preview with Valid false, not an error; an unknown person is not_found.
func (c *MappingConsole) PreviewMapping(r *http.Request) (any, error) {
	var req PreviewRequest
	if err := decodeJSONBody(r, &req); err != nil {
		return nil, err
	}
	return c.preview(r, req)
}

func (c *MappingConsole) preview(r *http.Request, req PreviewRequest) (*Preview, error) {
	if len(req.Body) > MaxMappingBytes {
		return nil, idp.Errorf(idp.ETooLarge, "the mapping is larger than %d bytes", MaxMappingBytes)
	}
	out := &Preview{}
	for _, h := range attributes.MappingHints([]byte(req.Body)) {
		out.Hints = append(out.Hints, FieldError{Field: h.Key, Line: h.Line, Message: h.Msg})
	}
	mc, errs := attributes.ParseMapping([]byte(req.Body))
	if len(errs) > 0 {
		out.Fields = fieldErrors(errs)
		return out, nil
	}
	m, err := attributes.Compile(mc)
	if err != nil {
		out.Fields = []FieldError{{Message: err.Error()}}
		return out, nil
	}
	out.Valid = true
	user := strings.TrimSpace(req.User)
	if user == "" {
		return out, nil
	}
	if c.People == nil {
		return nil, idp.Errorf(idp.EUnavailable, "no connector can find people for a preview")
	}
	id, ok, err := c.People.LookupIdentity(r.Context(), user)
	if err != nil {
		return nil, fmt.Errorf("preview: look up %q: %w", user, err)
	}
	if !ok {
		return nil, idp.Errorf(idp.ENotFound, "no user %q", user)
	}
	rep, err := sso.PreviewMapping(m, id)
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	out.Report = rep
	return out, nil
}

// decodeJSONBody reads a JSON request body (application/json, at most
// MaxMappingBytes plus room for the envelope) into v, refusing unknown
// fields.
func decodeJSONBody(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return idp.Errorf(idp.EUnsupportedMedia, "the body must be application/json")
		}
	}
	const limit = 2*MaxMappingBytes + 4096
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return idp.Errorf(idp.ETooLarge, "the body is larger than %d bytes", tooBig.Limit)
		}
		return idp.Errorf(idp.EInvalid, "reading the body: %v", err)
	}
	if len(body) > limit {
		return idp.Errorf(idp.ETooLarge, "the body is larger than %d bytes", limit)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return idp.Errorf(idp.EInvalid, "the body is not the expected JSON: %v", err)
	}
	return nil
}

// LineDiff is a line diff from a to b (longest common subsequence): every
// line of both, in order, marked kept, removed or added. Texts of more
// than 2000 lines are shown as all removed then all added.
func LineDiff(a, b string) []DiffLine {
	al, bl := splitLines(a), splitLines(b)
	out := []DiffLine{}
	if len(al) > 2000 || len(bl) > 2000 {
		for _, l := range al {
			out = append(out, DiffLine{Op: "-", Text: l})
		}
		for _, l := range bl {
			out = append(out, DiffLine{Op: "+", Text: l})
		}
		return out
	}
	// lcs[i][j] is the LCS length of al[i:] and bl[j:].
	lcs := make([][]int, len(al)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bl)+1)
	}
	for i := len(al) - 1; i >= 0; i-- {
		for j := len(bl) - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			out = append(out, DiffLine{Op: " ", Text: al[i]})
			i, j = i+1, j+1
		case i < len(al) && (j == len(bl) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, DiffLine{Op: "-", Text: al[i]})
			i++
		default:
			out = append(out, DiffLine{Op: "+", Text: bl[j]})
			j++
		}
	}
	return out
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
