package sso

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crewjam/saml"

	"idpbridge/attributes"
	"idpbridge/idp"
	"idpbridge/idp/store"
)

// Mappings edited in the admin console live in the database
// (store.MappingStore), versioned. The rule that combines them with the
// config file's:
//
//   - a console mapping with the name of a config-file mapping overrides it:
//     service providers naming that mapping use the console's latest version;
//   - a version with an empty body withdraws the console's mapping: the
//     config file's mapping of that name applies again (history is kept);
//   - a console mapping with a new name is a mapping of its own, which
//     service providers added in the console may name.
//
// Every replica rereads the console's mappings when the store's
// MappingsStamp changes, checking it at most every refresh interval
// (DefaultMappingRefresh) when a mapping is used, and at once on the replica
// that saved (MappingReloader.Reload).

// DefaultMappingRefresh is how often a replica checks at most whether the
// console's mappings changed.
const DefaultMappingRefresh = 5 * time.Second

// consoleMappings is one load of the console's mappings.
type consoleMappings struct {
	stamp int64
	// compiled holds the latest version of every console mapping with a
	// body; a withdrawn (empty) or uncompilable latest version is absent.
	compiled map[string]*attributes.Mapping
	latest   map[string]store.MappingVersion
}

// MappingVersions is what a MappingReloader reads: the console's mappings
// (store.MappingStore).
type MappingVersions interface {
	LatestMappingVersions(ctx context.Context) ([]store.MappingVersion, error)
	MappingsStamp(ctx context.Context) (int64, error)
}

// MappingReloader keeps a Catalog's console mappings current. Build it with
// Catalog.ConsoleMappings; it is safe for concurrent use.
type MappingReloader struct {
	cat   *Catalog
	src   MappingVersions
	every time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex // held by one reload at a time
	checked atomic.Int64
	loaded  atomic.Bool
}

// MappingReloaderOptions configure Catalog.ConsoleMappings.
type MappingReloaderOptions struct {
	// Every is the longest a replica uses the console's mappings without
	// checking the store (default DefaultMappingRefresh).
	Every time.Duration
	// Now is the clock (default time.Now); Logger receives load failures.
	Now    func() time.Time
	Logger *slog.Logger
}

// ConsoleMappings makes c overlay its config-file mappings with the
// console's mappings from src, and returns the reloader that keeps them
// current. Call Reload once at start. Later, using a mapping checks src
// when the last check is older than opt.Every.
func (c *Catalog) ConsoleMappings(src MappingVersions, opt MappingReloaderOptions) *MappingReloader {
	if opt.Every <= 0 {
		opt.Every = DefaultMappingRefresh
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &MappingReloader{cat: c, src: src, every: opt.Every, now: opt.Now, log: opt.Logger}
	c.reloader.Store(r)
	return r
}

// Reload rereads the console's mappings when the store's stamp changed
// since the last load, at once. A console mapping whose body does not
// compile (saved by a version that accepted it) is logged and left out, so
// that the config file's mapping of that name, if any, applies.
func (r *MappingReloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reload(ctx)
}

func (r *MappingReloader) reload(ctx context.Context) error {
	r.checked.Store(r.now().UnixNano())
	stamp, err := r.src.MappingsStamp(ctx)
	if err != nil {
		return fmt.Errorf("console mappings: %w", err)
	}
	if cur := r.cat.console.Load(); cur != nil && cur.stamp == stamp && r.loaded.Load() {
		return nil
	}
	versions, err := r.src.LatestMappingVersions(ctx)
	if err != nil {
		return fmt.Errorf("console mappings: %w", err)
	}
	cm := &consoleMappings{stamp: stamp, compiled: map[string]*attributes.Mapping{}, latest: map[string]store.MappingVersion{}}
	for _, v := range versions {
		cm.latest[v.Name] = v
		if v.Body == "" {
			continue
		}
		m, err := CompileMappingBody(v.Name, []byte(v.Body))
		if err != nil {
			r.log.Error("console mapping does not compile; using the config file's, if any", "mapping", v.Name, "version", v.Version, "err", err)
			continue
		}
		cm.compiled[v.Name] = m
	}
	r.cat.console.Store(cm)
	r.loaded.Store(true)
	return nil
}

// maybeReload reloads when the last check is older than the interval and
// no other reload runs; a failure is logged and the mappings in use stay.
func (r *MappingReloader) maybeReload(ctx context.Context) {
	if r.loaded.Load() && r.now().UnixNano()-r.checked.Load() < int64(r.every) {
		return
	}
	if !r.mu.TryLock() {
		return // another caller is reloading; use what we have
	}
	defer r.mu.Unlock()
	if r.loaded.Load() && r.now().UnixNano()-r.checked.Load() < int64(r.every) {
		return
	}
	if err := r.reload(ctx); err != nil {
		r.log.Warn("reload console mappings", "err", err)
	}
}

// CompileMappingBody decodes a console mapping's body (the YAML of one
// attributes.MappingConfig, strictly) and compiles it; the body must name
// the mapping name.
func CompileMappingBody(name string, body []byte) (*attributes.Mapping, error) {
	mc, errs := attributes.ParseMapping(body)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if mc.Name != name {
		return nil, fmt.Errorf("the body names mapping %q, not %q", mc.Name, name)
	}
	return attributes.Compile(mc)
}

// mapping returns the mapping in effect for p: the console's mapping of its
// name, or else the config file's.
func (c *Catalog) mapping(ctx context.Context, p *provider) *attributes.Mapping {
	if r := c.reloader.Load(); r != nil {
		r.maybeReload(ctx)
	}
	if cm := c.console.Load(); cm != nil {
		if m, ok := cm.compiled[p.cfg.mapping]; ok {
			return m
		}
	}
	return p.mapping
}

// MappingSource says where the mapping in effect of a name comes from.
type MappingSource struct {
	// Name of the mapping.
	Name string
	// Config reports a mapping in the config file (or a built-in default).
	Config bool
	// Console is the latest console version (Version 0: none). With a body
	// it is the mapping in effect; an empty body withdrew it.
	Console store.MappingVersion
	// UsedBy lists the service providers naming the mapping, in
	// configuration order.
	UsedBy []string
}

// InEffect reports whether the console's version is the one in effect.
func (s MappingSource) InEffect() bool { return s.Console.Version > 0 && s.Console.Body != "" }

// MappingSources lists every mapping name, config file's and console's, in
// name order, as the catalog last loaded them.
func (c *Catalog) MappingSources() []MappingSource {
	byName := map[string]*MappingSource{}
	get := func(name string) *MappingSource {
		s, ok := byName[name]
		if !ok {
			s = &MappingSource{Name: name}
			byName[name] = s
		}
		return s
	}
	for name := range c.configMappings {
		get(name).Config = true
	}
	if cm := c.console.Load(); cm != nil {
		for name, v := range cm.latest {
			get(name).Console = v
		}
	}
	for _, p := range c.sps {
		s := get(p.cfg.mapping)
		s.UsedBy = append(s.UsedBy, p.cfg.name)
	}
	out := make([]MappingSource, 0, len(byName))
	for _, s := range byName {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PreviewMapping applies m to id as a service provider would, without one:
// the report carries the attributes or the problems (OK false), never an
// error for a person the mapping cannot map.
func PreviewMapping(m *attributes.Mapping, id idp.Identity) (*MappingReport, error) {
	rep := &MappingReport{Mapping: m.Name(), User: id.QualifiedName()}
	if err := fillReport(rep, m, id); err != nil {
		return nil, err
	}
	return rep, nil
}

// fillReport applies m to id into rep.
func fillReport(rep *MappingReport, m *attributes.Mapping, id idp.Identity) error {
	res, err := m.Apply(id)
	var me *attributes.MappingError
	switch {
	case errors.As(err, &me):
		for _, pr := range me.Problems {
			rep.Problems = append(rep.Problems, ReportProblem{Field: pr.Field, Attribute: pr.Attribute, Value: pr.Value, Message: pr.AdminMessage})
		}
		return nil
	case err != nil:
		return err
	}
	rep.OK = true
	rep.NameID, rep.NameIDFormat = nameIDOf(id), string(saml.PersistentNameIDFormat)
	for _, a := range res.SAMLAttributes() {
		rep.Attributes = append(rep.Attributes, ReportAttribute(a))
	}
	return nil
}
