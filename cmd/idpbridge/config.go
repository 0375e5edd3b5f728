package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"idpbridge/idp/signing"
	"idpbridge/idp/store/postgres"
	"idpbridge/idp/store/sqlite"
	"idpbridge/idp/sts"
)

// Config is idpbridge's configuration file. Every option is documented in
// config.example.yaml; with no file at all, DefaultConfig applies:
//
//	server:
//	  listen: 127.0.0.1:8080
//	  base_url: http://localhost:8080
//	data_dir: ./idpbridge-data
//	database:
//	  url: ""            # empty: SQLite in data_dir
//	  auto_migrate: true
//	log: {level: info, format: auto}
type Config struct {
	Server   ServerConfig   `yaml:"server"`
	DataDir  string         `yaml:"data_dir"`
	Database DatabaseConfig `yaml:"database"`
	Log      LogConfig      `yaml:"log"`
	Keys     KeysConfig     `yaml:"keys"`
	Login    LoginConfig    `yaml:"login"`
	Audit    AuditConfig    `yaml:"audit,omitempty"`
	// Connectors are where people sign in; none: the local accounts.
	Connectors []ConnectorConfig `yaml:"connectors,omitempty"`

	Mappings         MappingsConfig         `yaml:"mappings,omitempty"`
	ServiceProviders ServiceProvidersConfig `yaml:"service_providers,omitempty"`
	STS              sts.Config             `yaml:"sts,omitempty"`

	// Demo is set when sts.demo adds the demo account (sts.DemoAccount)
	// that the zero-config service provider "builtin" signs in to: with
	// sts.demo auto (the default) when no STS account is configured, or
	// with sts.demo on.
	Demo bool `yaml:"-"`
	// demoProblem is why sts.demo could not be applied ("" when it was).
	demoProblem string
}

// ServerConfig is the HTTP listener.
type ServerConfig struct {
	Listen       string    `yaml:"listen"`
	BaseURL      string    `yaml:"base_url"`
	TLS          TLSConfig `yaml:"tls"`
	ReadTimeout  Duration  `yaml:"read_timeout"`
	WriteTimeout Duration  `yaml:"write_timeout"`
	IdleTimeout  Duration  `yaml:"idle_timeout"`
	// MaxBodyBytes caps every request body.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TrustedProxies lists the reverse proxies (CIDRs) whose
	// X-Forwarded-For names the client; empty: the TCP peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// TLSConfig turns on HTTPS when both files are set.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// DatabaseConfig selects the store. The URL may carry a password, so it can
// also come from an environment variable or a file.
type DatabaseConfig struct {
	URL         string `yaml:"url"`
	URLEnv      string `yaml:"url_env"`
	URLFile     string `yaml:"url_file"`
	AutoMigrate *bool  `yaml:"auto_migrate"`
	// MaxConns caps the PostgreSQL connection pool; 0 is
	// postgres.DefaultMaxConns (measured, see BENCHMARKS.md).
	MaxConns int32 `yaml:"max_conns"`
	// QueryTimeout bounds every database call and every transaction as a
	// whole (migrations and pruning excepted); default 5s.
	QueryTimeout Duration `yaml:"query_timeout"`
	// SQLiteSynchronous is SQLite's synchronous setting: full (default) or
	// normal (faster; the last commits can be lost on power loss).
	SQLiteSynchronous string `yaml:"sqlite_synchronous,omitempty"`
}

// LogConfig sets the log level (debug, info, warn, error) and format (auto:
// text on a terminal, JSON otherwise; text; json).
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// KeysConfig names the key-encryption key that seals signing keys at rest:
// 32 bytes, base64-encoded, from an environment variable or a file. With
// neither, idpbridge creates <data_dir>/key-encryption.key on first start.
type KeysConfig struct {
	EncryptionKeyEnv  string `yaml:"encryption_key_env"`
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// Algorithm is the kind of new signing keys (first start, keys
	// rotate): rsa-2048, rsa-3072 or rsa-4096; "" is rsa-3072.
	Algorithm string `yaml:"algorithm,omitempty"`
}

// Duration is a time.Duration written as "30s", "5m".
type Duration time.Duration

// UnmarshalYAML accepts Go duration strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration like 30s", n.Line)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. 30s, 5m)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// DefaultConfig is the configuration with no file: a development setup on
// SQLite in ./idpbridge-data, served on localhost.
func DefaultConfig() Config {
	yes := true
	return Config{
		Server: ServerConfig{
			Listen:       "127.0.0.1:8080",
			BaseURL:      "http://localhost:8080",
			ReadTimeout:  Duration(15 * time.Second),
			WriteTimeout: Duration(30 * time.Second),
			IdleTimeout:  Duration(120 * time.Second),
			MaxBodyBytes: 1 << 20,
		},
		DataDir:  "./idpbridge-data",
		Database: DatabaseConfig{AutoMigrate: &yes, QueryTimeout: Duration(5 * time.Second)},
		Log:      LogConfig{Level: "info", Format: "auto"},
		Login:    defaultLoginConfig(),
	}
}

// ConfigError lists every problem found in a configuration; the CLI exits 2.
type ConfigError struct {
	File     string
	Problems []string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s: ", e.File)
	}
	if len(e.Problems) == 1 {
		b.WriteString("invalid configuration: " + e.Problems[0])
		return b.String()
	}
	fmt.Fprintf(&b, "invalid configuration (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - " + p)
	}
	return b.String()
}

// LoadConfig reads the file at path over DefaultConfig (an empty path means
// no file), applies overrides (command-line flags) and validates the result.
func LoadConfig(path string, getenv func(string) string, overrides ...func(*Config)) (*Config, error) {
	cfg := DefaultConfig()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("cannot read: %v", unwrapPathError(err))}}
		}
		if err := decodeStrict(raw, &cfg); err != nil {
			return nil, &ConfigError{File: path, Problems: err}
		}
	}
	for _, o := range overrides {
		o(&cfg)
	}
	cfg.applyDemo()
	if problems := cfg.Validate(getenv); len(problems) > 0 {
		return nil, &ConfigError{File: path, Problems: problems}
	}
	return &cfg, nil
}

// applyDemo adds the demo STS account as sts.demo says: auto (the
// default) when no STS account is configured, on always, off never. With
// it, everyone who signs in may try the built-in STS from the portal. A
// value it cannot apply is reported by Validate.
func (c *Config) applyDemo() {
	on := false
	switch c.STS.Demo {
	case "", DemoAuto:
		on = len(c.STS.Accounts) == 0
	case DemoOn:
		on = true
	case DemoOff:
	default:
		c.demoProblem = fmt.Sprintf("%q is not one of %s, %s, %s", c.STS.Demo, DemoAuto, DemoOn, DemoOff)
		return
	}
	if !on {
		return
	}
	for i, a := range c.STS.Accounts {
		if a.ID == sts.DemoAccountID {
			c.demoProblem = fmt.Sprintf("on adds the demo account %s, which sts.accounts[%d] configures already "+
				"(use sts.demo: off, or another account ID)", sts.DemoAccountID, i)
			return
		}
	}
	c.STS.Accounts = append(c.STS.Accounts, sts.DemoAccount())
	c.Demo = true
}

// Values of sts.demo.
const (
	DemoAuto = "auto"
	DemoOn   = "on"
	DemoOff  = "off"
)

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeStrict decodes YAML refusing unknown keys, and rewrites yaml.v3's
// line-numbered messages to name the key path.
func decodeStrict(raw []byte, cfg *Config) []string {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return []string{err.Error()}
	}
	if len(root.Content) == 0 {
		return nil // an empty file is the default configuration
	}
	paths := map[int]string{}
	indexPaths(root.Content[0], "", paths)
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	err := dec.Decode(cfg)
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{withPath(err.Error(), paths)}
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		out = append(out, withPath(e, paths))
	}
	return out
}

var (
	lineRe    = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	typeRe    = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// withPath turns "line 4: field lisen not found in type main.ServerConfig"
// into "server.lisen: unknown key (line 4)".
func withPath(msg string, paths map[int]string) string {
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	line, _ := strconv.Atoi(m[1])
	path, rest := paths[line], m[2]
	if u := unknownRe.FindStringSubmatch(rest); u != nil {
		return fmt.Sprintf("%s: unknown key (line %d)", path, line)
	}
	if tm := typeRe.FindStringSubmatch(rest); tm != nil {
		rest = fmt.Sprintf("expected %s, got %s %q", goTypeWord(tm[3]), tm[1], tm[2])
	}
	if path == "" {
		return fmt.Sprintf("line %d: %s", line, rest)
	}
	return fmt.Sprintf("%s: %s (line %d)", path, rest, line)
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case t == "bool" || t == "*bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	default:
		return "a mapping"
	}
}

// indexPaths records, for each line holding a mapping key, the dotted key
// path (list items as [i]).
func indexPaths(n *yaml.Node, prefix string, paths map[int]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			if _, ok := paths[k.Line]; !ok {
				paths[k.Line] = p
			}
			indexPaths(v, p, paths)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			if _, ok := paths[c.Line]; !ok && c.Kind == yaml.ScalarNode {
				paths[c.Line] = p
			}
			indexPaths(c, p, paths)
		}
	}
}

// Validate checks the whole configuration and returns every problem, each
// naming its key path. getenv resolves *_env secrets.
func (c *Config) Validate(getenv func(string) string) []string {
	var p problems
	if c.Server.Listen == "" {
		p.add("server.listen", "must be set (host:port)")
	} else if _, port, err := net.SplitHostPort(c.Server.Listen); err != nil {
		p.add("server.listen", "%q is not host:port", c.Server.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("server.listen", "port %q is not a number from 0 to 65535", port)
	}
	if u, err := url.Parse(c.Server.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add("server.base_url", "%q must be an absolute http:// or https:// URL", c.Server.BaseURL)
	} else if u.RawQuery != "" || u.Fragment != "" {
		p.add("server.base_url", "must not have a query or fragment")
	}
	if (c.Server.TLS.CertFile == "") != (c.Server.TLS.KeyFile == "") {
		p.add("server.tls", "cert_file and key_file must be set together")
	}
	for key, f := range map[string]string{"server.tls.cert_file": c.Server.TLS.CertFile, "server.tls.key_file": c.Server.TLS.KeyFile} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				p.add(key, "%v", unwrapPathError(err))
			}
		}
	}
	if c.Server.MaxBodyBytes < 1024 {
		p.add("server.max_body_bytes", "must be at least 1024")
	}
	for key, d := range map[string]Duration{"server.read_timeout": c.Server.ReadTimeout, "server.write_timeout": c.Server.WriteTimeout, "server.idle_timeout": c.Server.IdleTimeout} {
		if d <= 0 {
			p.add(key, "must be a positive duration")
		}
	}
	if c.DataDir == "" {
		p.add("data_dir", "must be set")
	}
	dbURL, err := resolveSecret(c.Database.URL, c.Database.URLEnv, c.Database.URLFile, getenv, false)
	if err != nil {
		p.add("database.url", "%v", err)
	} else if dbURL != "" {
		if u, err := url.Parse(dbURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			p.add("database.url", "must be a postgres:// URL (or empty for SQLite in data_dir)")
		}
	}
	if c.Database.MaxConns < 0 || c.Database.MaxConns > postgres.MaxMaxConns {
		p.add("database.max_conns", "must be between 0 (the default, %d) and %d, got %d", postgres.DefaultMaxConns, postgres.MaxMaxConns, c.Database.MaxConns)
	}
	switch c.Database.SQLiteSynchronous {
	case "", sqlite.SynchronousFull, sqlite.SynchronousNormal:
	default:
		p.add("database.sqlite_synchronous", "%q is not one of full, normal", c.Database.SQLiteSynchronous)
	}
	if c.Database.QueryTimeout <= 0 {
		p.add("database.query_timeout", "must be a positive duration (e.g. 5s), got %s", time.Duration(c.Database.QueryTimeout))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "text", "json":
	default:
		p.add("log.format", "%q is not one of auto, text, json", c.Log.Format)
	}
	if c.Keys.EncryptionKeyEnv != "" || c.Keys.EncryptionKeyFile != "" {
		if _, err := c.keyEncryptionKey(getenv); err != nil {
			p.add("keys", "%v", err)
		}
	}
	if _, err := signing.ParseAlgorithm(c.Keys.Algorithm); err != nil {
		p.add("keys.algorithm", "%v", err)
	}
	c.validateLogin(&p)
	c.validateConnectors(&p)
	c.validateAudit(&p)
	c.validateSSO(&p)
	if c.demoProblem != "" {
		p.add("sts.demo", "%s", c.demoProblem)
	}
	p = append(p, c.validateSTS(getenv)...)
	sort.Strings(p)
	return p
}

type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

// DatabaseURL returns the resolved database URL ("" for SQLite).
func (c *Config) DatabaseURL(getenv func(string) string) (string, error) {
	return resolveSecret(c.Database.URL, c.Database.URLEnv, c.Database.URLFile, getenv, false)
}

// AutoMigrate reports whether serve applies migrations at start.
func (c *Config) AutoMigrate() bool { return c.Database.AutoMigrate == nil || *c.Database.AutoMigrate }

// SQLitePath is the embedded database file in the data directory.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "idpbridge.db") }

// keyEncryptionKey returns the configured key-encryption key, or nil when
// none is configured (the caller then uses the one in data_dir).
func (c *Config) keyEncryptionKey(getenv func(string) string) ([]byte, error) {
	v, err := resolveSecret("", c.Keys.EncryptionKeyEnv, c.Keys.EncryptionKeyFile, getenv, true)
	if err != nil || v == "" {
		return nil, err
	}
	return decodeKEK(v)
}

func decodeKEK(v string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(k) != 32 {
		return nil, errors.New("the key-encryption key must be 32 bytes, base64-encoded (openssl rand -base64 32)")
	}
	return k, nil
}

// resolveSecret returns the literal value, or the named environment
// variable's, or the named file's (trimmed), refusing more than one source.
func resolveSecret(literal, env, file string, getenv func(string) string, required bool) (string, error) {
	n := 0
	for _, s := range []string{literal, env, file} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return "", errors.New("set only one of the value, *_env and *_file")
	}
	switch {
	case env != "":
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or unset", env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read %s: %v", file, unwrapPathError(err))
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("%s is empty", file)
		}
		return v, nil
	}
	return literal, nil
}

// Redacted returns the configuration as YAML with every secret value
// replaced: literal secrets and passwords inside URLs. Names of environment
// variables and files are kept (they are not secret).
func (c *Config) Redacted() ([]byte, error) {
	r := *c
	if r.Database.URL != "" {
		r.Database.URL = redactURL(r.Database.URL)
	}
	r.Connectors = slices.Clone(r.Connectors)
	for i := range r.Connectors {
		r.Connectors[i].Config = *redactNode(&r.Connectors[i].Config)
	}
	return yaml.Marshal(&r)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "REDACTED"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
