package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"idpbridge/idp"
	"idpbridge/idp/connector"
	"idpbridge/idp/connector/ldap"
	"idpbridge/idp/connector/local"
	"idpbridge/idp/connector/oidc"
	"idpbridge/idp/sso"
	"idpbridge/idp/store"
	"idpbridge/idp/web"
)

// ConnectorConfig is one entry of connectors: where people sign in.
//
//	connectors:
//	  - name: corp-ad                   # a-z, 0-9 and -; people are diego@corp-ad
//	    type: ldap                      # local, ldap or oidc
//	    display_name: Corp directory    # on the login page; default: name
//	    route_suffixes: ["@corp.example"]
//	    strip_suffix: false             # sign in as "diego" instead of "diego@corp.example"
//	    config: {...}                   # the type's own keys
//
// Without connectors, the local accounts alone are used (one connector
// "local" of type local).
type ConnectorConfig struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	DisplayName string `yaml:"display_name,omitempty"`
	// RouteSuffixes send a user name typed with one of them to this
	// (password) connector, whatever the login page's picker says.
	RouteSuffixes []string `yaml:"route_suffixes,omitempty"`
	// StripSuffix removes the routing suffix before the name reaches the
	// directory; keep it (false) where people sign in with their whole
	// userPrincipalName.
	StripSuffix bool `yaml:"strip_suffix,omitempty"`
	// Config is the type's configuration, decoded by its registry entry.
	Config yaml.Node `yaml:"config,omitempty"`

	// decoded is Config decoded into the type's configuration by Validate.
	decoded any
}

// connectorEnv is what a connector factory gets besides its name and
// configuration.
type connectorEnv struct {
	// CallbackURL is <base_url>/login/callback/<name>: the redirect URI a
	// redirect connector registers at its provider.
	CallbackURL string
	Store       store.Store
	Logger      *slog.Logger
	Now         func() time.Time
	Rand        io.Reader
	Login       LoginConfig
	// Getenv resolves the *_env keys of a connector's configuration.
	Getenv func(string) string
	// HTTPClient reaches upstream providers (nil: the connector's own).
	HTTPClient *http.Client
	// Observe, when set, takes each operation of the connector on its
	// directory (op, success, duration) for the metrics; nil outside serve.
	Observe func(op string, ok bool, d time.Duration)
}

// connectorType is a registry entry: how to read, check and build the
// connectors of one type.
type connectorType struct {
	// redirect: its connectors are redirect connectors (buttons on the
	// login page), which route_suffixes cannot apply to.
	redirect bool
	// newConfig returns a pointer to the type's configuration with its
	// defaults; config: is decoded into it, refusing unknown keys.
	newConfig func() any
	// validate lists the problems of a decoded configuration, each
	// "key: message" relative to config.
	validate func(cfg any) []string
	// open builds the connector: a connector.PasswordConnector, or a
	// connector.RedirectConnector when redirect. It may also be a
	// connector.Looker, a connector.HealthChecker and an io.Closer.
	open func(ctx context.Context, name string, cfg any, env connectorEnv) (any, error)
}

// typed makes a registry entry for the configuration type C; validate may
// be nil. An entry for a package with a Config is some ten lines:
//
//	"ldap": typed(false, (*ldap.Config).Validate,
//		func(ctx context.Context, name string, c *ldap.Config, env connectorEnv) (any, error) {
//			return ldap.New(name, *c, ldap.Options{Logger: env.Logger, Now: env.Now})
//		}),
func typed[C any](redirect bool, validate func(*C) []string, open func(ctx context.Context, name string, cfg *C, env connectorEnv) (any, error)) connectorType {
	t := connectorType{
		redirect:  redirect,
		newConfig: func() any { return new(C) },
		open: func(ctx context.Context, name string, cfg any, env connectorEnv) (any, error) {
			return open(ctx, name, cfg.(*C), env)
		},
	}
	if validate != nil {
		t.validate = func(cfg any) []string { return validate(cfg.(*C)) }
	}
	return t
}

// connectorTypes resolves connectors[].type.
var connectorTypes = map[string]connectorType{
	connectorLocal: typed(false, nil, func(_ context.Context, _ string, _ *localConfig, env connectorEnv) (any, error) {
		c, err := local.New(env.Store, local.Options{Rand: env.Rand, HashConcurrency: env.Login.HashConcurrency})
		if err != nil {
			return nil, err
		}
		return localConnector{c, storePeople{env.Store}}, nil
	}),
	"ldap": typed(false, (*ldap.Config).Validate, func(_ context.Context, name string, c *ldap.Config, env connectorEnv) (any, error) {
		return ldap.New(name, *c, ldap.Options{Logger: env.Logger, Now: env.Now, Getenv: env.Getenv, Observe: env.Observe})
	}),
	"oidc": typed(true, validateOIDC, func(ctx context.Context, name string, c *oidc.Config, env connectorEnv) (any, error) {
		cfg := *c
		if cfg.RedirectURL == "" {
			cfg.RedirectURL = env.CallbackURL
		}
		return oidc.New(ctx, name, cfg, oidc.Options{Logger: env.Logger, Now: env.Now, Getenv: env.Getenv, HTTPClient: env.HTTPClient})
	}),
}

// validateOIDC is oidc.Config's Validate, except that redirect_url may be
// left out: it defaults to <base_url>/login/callback/<name>.
func validateOIDC(c *oidc.Config) []string {
	cfg := *c
	if cfg.RedirectURL == "" {
		cfg.RedirectURL = "https://idpbridge.invalid" + web.RedirectCallbackPath + "placeholder"
	}
	return cfg.Validate()
}

// connectorLocal is the type of the local accounts.
const connectorLocal = "local"

// localConfig is the configuration of the local connector: it has no keys
// (its accounts are in the database; login.hash_concurrency bounds it).
type localConfig struct{}

// localConnector is the local connector with Lookup for mapping tests.
type localConnector struct {
	*local.Connector
	people storePeople
}

// Lookup implements connector.Looker.
func (c localConnector) Lookup(ctx context.Context, username string) (idp.Identity, error) {
	id, ok, err := c.people.LookupIdentity(ctx, username)
	if err != nil {
		return idp.Identity{}, err
	}
	if !ok {
		return idp.Identity{}, fmt.Errorf("%q: %w", username, connector.ErrUnknownUser)
	}
	return id, nil
}

func connectorTypeNames() []string {
	var out []string
	for k := range connectorTypes {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// connectorList is connectors, or the local connector alone without them.
func (c *Config) connectorList() []ConnectorConfig {
	if len(c.Connectors) == 0 {
		return []ConnectorConfig{{Name: idp.LocalConnector, Type: connectorLocal}}
	}
	return c.Connectors
}

var connectorNameRe = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)

// validateConnectors checks connectors and decodes each config block
// into its type's configuration.
func (c *Config) validateConnectors(p *problems) {
	names := map[string]int{}
	suffixes := map[string]int{}
	local := -1
	for i := range c.Connectors {
		cc := &c.Connectors[i]
		at := fmt.Sprintf("connectors[%d]", i)
		switch j, dup := names[cc.Name]; {
		case cc.Name == "":
			p.add(at+".name", "must be set (a-z, 0-9 and -, e.g. corp-ad)")
		case !connectorNameRe.MatchString(cc.Name):
			p.add(at+".name", "%q must be 1 to 63 characters of a-z, 0-9 and - (e.g. corp-ad)", cc.Name)
		case dup:
			p.add(at+".name", "%q is the name of connectors[%d] already", cc.Name, j)
		default:
			names[cc.Name] = i
		}
		t, ok := connectorTypes[cc.Type]
		if !ok {
			if cc.Type == "" {
				p.add(at+".type", "must be set: one of %s", strings.Join(connectorTypeNames(), ", "))
			} else {
				p.add(at+".type", "%q is not one of %s", cc.Type, strings.Join(connectorTypeNames(), ", "))
			}
			continue
		}
		switch {
		case cc.Type == connectorLocal && local >= 0:
			p.add(at+".type", "local: connectors[%d] is the local connector already; there can be only one", local)
		case cc.Type == connectorLocal:
			local = i
		case cc.Name == idp.LocalConnector:
			p.add(at+".name", "local is the name of the local accounts' connector; give this %s connector another name", cc.Type)
		}
		if cc.Type == connectorLocal && cc.Name != idp.LocalConnector && cc.Name != "" {
			p.add(at+".name", "the local connector is named local (its people keep their bare names), not %q", cc.Name)
		}
		if t.redirect && len(cc.RouteSuffixes) > 0 {
			p.add(at+".route_suffixes", "a %s connector signs people in at its provider: route suffixes apply to password connectors only", cc.Type)
		}
		for k, s := range cc.RouteSuffixes {
			key := fmt.Sprintf("%s.route_suffixes[%d]", at, k)
			if len(s) < 2 || s[0] != '@' || strings.ContainsAny(s[1:], "@ \t") {
				p.add(key, "%q must be @ and a domain (@corp.example)", s)
				continue
			}
			if j, dup := suffixes[strings.ToLower(s)]; dup {
				p.add(key, "%q routes to connectors[%d] already", s, j)
				continue
			}
			suffixes[strings.ToLower(s)] = i
		}
		if cc.StripSuffix && len(cc.RouteSuffixes) == 0 {
			p.add(at+".strip_suffix", "has no effect without route_suffixes")
		}
		cfg := t.newConfig()
		probs := decodeNode(&cc.Config, cfg, at+".config")
		if len(probs) == 0 && t.validate != nil {
			for _, m := range t.validate(cfg) {
				probs = append(probs, at+".config."+m)
			}
		}
		*p = append(*p, probs...)
		cc.decoded = cfg
	}
}

var lineSuffixRe = regexp.MustCompile(`\(line (\d+)\)$`)

// decodeNode decodes the mapping n into v refusing unknown keys; problems
// name their key path under path and the line of the configuration file.
func decodeNode(n *yaml.Node, v any, path string) []string {
	if n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("%s: must be a mapping of the connector type's keys (line %d)", path, n.Line)}
	}
	raw, err := yaml.Marshal(n)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v (line %d)", path, err, n.Line)}
	}
	// The re-encoded text has its own line numbers: map them back.
	var re yaml.Node
	if err := yaml.Unmarshal(raw, &re); err != nil || len(re.Content) == 0 {
		return []string{fmt.Sprintf("%s: cannot be read (line %d)", path, n.Line)}
	}
	lines := map[int]int{}
	pairLines(re.Content[0], n, lines)
	paths := map[int]string{}
	indexPaths(re.Content[0], path, paths)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err = dec.Decode(v)
	if err == nil {
		return nil
	}
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = withPath(m, paths)
		m = lineSuffixRe.ReplaceAllStringFunc(m, func(s string) string {
			l, _ := strconv.Atoi(lineSuffixRe.FindStringSubmatch(s)[1])
			return fmt.Sprintf("(line %d)", lines[l])
		})
		if !strings.HasPrefix(m, path) {
			m = path + ": " + m
		}
		out = append(out, m)
	}
	return out
}

// pairLines maps the lines of the re-encoded tree a to those of the
// original b, which has the same shape.
func pairLines(a, b *yaml.Node, lines map[int]int) {
	if _, ok := lines[a.Line]; !ok {
		lines[a.Line] = b.Line
	}
	if len(a.Content) != len(b.Content) {
		return
	}
	for i := range a.Content {
		pairLines(a.Content[i], b.Content[i], lines)
	}
}

// secretKeyRe matches the keys of a connector's configuration whose values
// are secrets (bind_password, client_secret); *_env and *_file name where
// the secret is and are kept.
var secretKeyRe = regexp.MustCompile(`(?i)(password|secret|token|private_key)$`)

// redactNode returns a copy of n with the values of secret keys replaced.
func redactNode(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = redactNode(k)
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(c.Content); i += 2 {
			if v := c.Content[i+1]; secretKeyRe.MatchString(c.Content[i].Value) && v.Kind == yaml.ScalarNode && v.Value != "" {
				c.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "REDACTED"}
			}
		}
	}
	return &c
}

// openConnector builds the connector of entry cc.
func (m *Main) openConnector(ctx context.Context, cfg *Config, cc ConnectorConfig, s store.Store, log *slog.Logger) (any, error) {
	return m.openObservedConnector(ctx, cfg, cc, s, log, nil)
}

// openObservedConnector builds the connector of entry cc, whose directory
// operations feed dm when it is not nil.
func (m *Main) openObservedConnector(ctx context.Context, cfg *Config, cc ConnectorConfig, s store.Store, log *slog.Logger, dm *directoryMetrics) (any, error) {
	t, ok := connectorTypes[cc.Type]
	if !ok {
		return nil, fmt.Errorf("connector %q: unknown type %q", cc.Name, cc.Type)
	}
	conf := cc.decoded
	if conf == nil {
		conf = t.newConfig()
		if probs := decodeNode(&cc.Config, conf, "config"); len(probs) > 0 {
			return nil, fmt.Errorf("connector %q: %s", cc.Name, strings.Join(probs, "; "))
		}
	}
	env := connectorEnv{
		CallbackURL: strings.TrimSuffix(cfg.Server.BaseURL, "/") + web.RedirectCallbackPath + cc.Name,
		Store:       s,
		Logger:      log.With("connector", cc.Name),
		Now:         m.Now,
		Rand:        m.Rand,
		Login:       cfg.Login,
		Getenv:      m.Getenv,
		HTTPClient:  m.HTTPClient,
	}
	if dm != nil {
		env.Observe = dm.observer(cc.Name)
	}
	c, err := t.open(ctx, cc.Name, conf, env)
	if err != nil {
		return nil, fmt.Errorf("connector %q (%s): %w", cc.Name, cc.Type, err)
	}
	if cl, ok := c.(io.Closer); ok {
		m.closers = append(m.closers, cl.Close)
	}
	return c, nil
}

// connectorStartCheck bounds the check of each connector at start.
const connectorStartCheck = 10 * time.Second

// buildConnectors builds every configured connector for the login page,
// and the people finder of mapping tests over them. Connectors that can
// be checked are checked at once in the background: a failure is a log
// line, not a failed start. Their directory operations are counted and
// timed in reg (see directoryMetrics).
func (m *Main) buildConnectors(ctx context.Context, cfg *Config, s store.Store, log *slog.Logger, reg prometheus.Registerer) ([]web.NamedConnector, *connectorPeople, error) {
	dm, err := newDirectoryMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	var out []web.NamedConnector
	built := map[string]any{}
	for _, cc := range cfg.connectorList() {
		c, err := m.openObservedConnector(ctx, cfg, cc, s, log, dm)
		if err != nil {
			return nil, nil, err
		}
		built[cc.Name] = c
		nc := web.NamedConnector{Name: cc.Name, DisplayName: cc.DisplayName, RouteSuffixes: cc.RouteSuffixes, StripSuffix: cc.StripSuffix}
		var ok bool
		if connectorTypes[cc.Type].redirect {
			nc.Redirect, ok = c.(connector.RedirectConnector)
		} else {
			nc.Password, ok = c.(connector.PasswordConnector)
		}
		if !ok {
			return nil, nil, fmt.Errorf("connector %q: type %s built a %T, which cannot sign people in", cc.Name, cc.Type, c)
		}
		out = append(out, nc)
		if hc, ok := c.(connector.HealthChecker); ok {
			go func() {
				cctx, cancel := context.WithTimeout(ctx, connectorStartCheck)
				defer cancel()
				if err := hc.Check(cctx); err != nil {
					log.Error("connector not ready at start: its people cannot sign in until it answers", "connector", cc.Name, "type", cc.Type, "err", err)
					return
				}
				log.Info("connector ready", "connector", cc.Name, "type", cc.Type)
			}()
		}
	}
	people := cfg.people(func(_ context.Context, cc ConnectorConfig) (any, error) { return built[cc.Name], nil })
	return out, people, nil
}

// people finds people for mapping tests through the connectors of cfg,
// which open builds (at most once each).
func (c *Config) people(open func(ctx context.Context, cc ConnectorConfig) (any, error)) *connectorPeople {
	return &connectorPeople{conns: c.connectorList(), open: open, cache: map[string]any{}}
}

// connectorPeople finds the person a mapping test names: "diego@corp-ad"
// is diego of the connector corp-ad (found by its connector.Looker,
// without a password) when corp-ad is a configured connector other than
// the local one; any other name is a local account.
type connectorPeople struct {
	conns []ConnectorConfig
	open  func(ctx context.Context, cc ConnectorConfig) (any, error)

	mu    sync.Mutex
	cache map[string]any
}

var _ sso.People = (*connectorPeople)(nil)

// LookupIdentity implements sso.People.
func (cp *connectorPeople) LookupIdentity(ctx context.Context, name string) (idp.Identity, bool, error) {
	cc, user, ok := cp.resolve(name)
	if !ok {
		var others []string
		for _, c := range cp.conns {
			others = append(others, c.Name)
		}
		return idp.Identity{}, false, fmt.Errorf("%q names no connector and there is no local connector: write user@connector (connectors: %s)", name, strings.Join(others, ", "))
	}
	c, err := cp.connector(ctx, cc)
	if err != nil {
		return idp.Identity{}, false, err
	}
	lk, ok := c.(connector.Looker)
	if !ok {
		return idp.Identity{}, false, fmt.Errorf("connector %q (%s) cannot find people without their sign-in", cc.Name, cc.Type)
	}
	id, err := lk.Lookup(ctx, user)
	if errors.Is(err, connector.ErrUnknownUser) {
		return idp.Identity{}, false, nil
	}
	if err != nil {
		return idp.Identity{}, false, fmt.Errorf("connector %q: look up %q: %w", cc.Name, user, err)
	}
	id.Connector = cc.Name
	return id, true, nil
}

// connector builds cc once.
func (cp *connectorPeople) connector(ctx context.Context, cc ConnectorConfig) (any, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if c, ok := cp.cache[cc.Name]; ok {
		return c, nil
	}
	c, err := cp.open(ctx, cc)
	if err != nil {
		return nil, err
	}
	cp.cache[cc.Name] = c
	return c, nil
}

// resolve picks the connector of a qualified name: the part after the
// last @ when it names a non-local connector, else the local connector
// with the whole name.
func (cp *connectorPeople) resolve(name string) (ConnectorConfig, string, bool) {
	if i := strings.LastIndex(name, "@"); i > 0 {
		for _, cc := range cp.conns {
			if cc.Type != connectorLocal && cc.Name == name[i+1:] {
				return cc, name[:i], true
			}
		}
	}
	for _, cc := range cp.conns {
		if cc.Type == connectorLocal {
			return cc, name, true
		}
	}
	return ConnectorConfig{}, "", false
}

// directoryMetrics count and time the operations of the connectors on
// their directories (the ldap type's binds, searches and connections),
// by connector and operation:
//
//	idpbridge_connector_directory_operations_total{connector,op,result}  result ok or failed
//	idpbridge_connector_directory_operation_duration_seconds{connector,op}
//
// op is dial, starttls, bind (the service account), search or user_bind
// (a person's password; a refused password is failed).
type directoryMetrics struct {
	ops     *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

func newDirectoryMetrics(reg prometheus.Registerer) (*directoryMetrics, error) {
	dm := &directoryMetrics{
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "idpbridge_connector_directory_operations_total",
			Help: "Operations of connectors on their directories (binds, searches, connections), by connector, operation and result.",
		}, []string{"connector", "op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idpbridge_connector_directory_operation_duration_seconds",
			Help:    "Time of the operations of connectors on their directories, by connector and operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"connector", "op"}),
	}
	for _, c := range []prometheus.Collector{dm.ops, dm.latency} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("directory metrics: %w", err)
		}
	}
	return dm, nil
}

// observer is the Observe function of connector name.
func (dm *directoryMetrics) observer(name string) func(op string, ok bool, d time.Duration) {
	return func(op string, ok bool, d time.Duration) {
		result := "ok"
		if !ok {
			result = "failed"
		}
		dm.ops.WithLabelValues(name, op, result).Inc()
		dm.latency.WithLabelValues(name, op).Observe(max(d, 0).Seconds())
	}
}
