package sts

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"idpbridge/idp"
	"idpbridge/idp/policy"
	"idpbridge/idp/sts/sigv4"
)

// Config is the sts section of the configuration file: the region, the
// accepted SAML recipients and the accounts with their principals.
//
//	sts:
//	  region: us-east-1
//	  accepted_regions: [eu-west-1]  # also accepted in SigV4 credential scopes
//	  demo: auto                  # auto, on or off: the demo account (DemoAccount)
//	  saml_recipients: [https://idp.example.com/sts/saml]
//	  accounts:
//	    - id: "123456789012"
//	      saml_providers:
//	        - {name: idpbridge, metadata: self}     # or metadata_file / metadata_url
//	      oidc_providers:
//	        - {url: https://xyz.com, client_ids: [ac_oic_client], jwks_file: ./jwks.json}
//	      users:
//	        - name: DevUser
//	          access_keys: [{id: AKIAIOSFODNN7EXAMPLE, secret_env: DEVUSER_SECRET}]   # or secret_file
//	          policies: [{name: assume-dev, document: {Version: "2012-10-17", Statement: [...]}}]
//	      roles:
//	        - name: Developer_Role
//	          path: /
//	          max_session_duration: 3600
//	          tags: {Team: platform}
//	          trust_policy: {Version: "2012-10-17", Statement: [...]}
//	          policies: [{name: dev, document_file: ./dev-policy.json}]
//
// Region defaults to us-east-1. A signed call's credential scope must name
// Region or one of AcceptedRegions, else SignatureDoesNotMatch "Credential
// should be scoped to a valid region." SAMLRecipients defaults to
// <base_url>/sts/saml only (the built-in sign-in endpoint): assertions made
// for AWS sign-in (https://signin.aws.amazon.com/saml,
// urn:amazon:webservices) are accepted only when listed here, because this
// STS's replay cache cannot see AWS's and such an assertion could then be
// redeemed in both places. Policy documents are
// IAM JSON written inline as YAML (or as a JSON string), or read from a
// file.
type Config struct {
	Region string `yaml:"region,omitempty"`
	// AcceptedRegions are further regions a SigV4 credential scope may name.
	AcceptedRegions []string        `yaml:"accepted_regions,omitempty"`
	SAMLRecipients  []string        `yaml:"saml_recipients,omitempty"`
	Accounts        []AccountConfig `yaml:"accounts,omitempty"`
	// Demo says whether serve adds the demo account (DemoAccount): "auto"
	// (or empty) when no account is configured, "on" always, "off" never.
	// The caller applies it; Build ignores it.
	Demo string `yaml:"demo,omitempty"`
}

// AccountConfig is one account. ID is the 12-digit account ID.
type AccountConfig struct {
	ID            string               `yaml:"id"`
	SAMLProviders []SAMLProviderConfig `yaml:"saml_providers,omitempty"`
	OIDCProviders []OIDCProviderConfig `yaml:"oidc_providers,omitempty"`
	Users         []UserConfig         `yaml:"users,omitempty"`
	Roles         []RoleConfig         `yaml:"roles,omitempty"`
}

// SAMLProviderConfig registers a SAML IdP under Name. Exactly one of
// Metadata ("self": idpbridge's own IdP), MetadataFile and MetadataURL is
// set.
//
// AssertionEncryption is AWS's AssertionEncryptionMode: "allowed" (the
// default) accepts a plain or an encrypted assertion, "required" only an
// encrypted one. PrivateKeys decrypt EncryptedAssertions: one RSA private
// key, or two while rotating, each a PEM file (PKCS#1 or PKCS#8, at least
// 2048 bits) or the key ID (16 hex digits, logged at start) of a key
// imported before. serve imports every file into the database, sealed with
// the key-encryption key like the signing keys; the STS decrypts with the
// sealed copies. Without a private key an EncryptedAssertion is refused.
type SAMLProviderConfig struct {
	Name                string   `yaml:"name"`
	Metadata            string   `yaml:"metadata,omitempty"`
	MetadataFile        string   `yaml:"metadata_file,omitempty"`
	MetadataURL         string   `yaml:"metadata_url,omitempty"`
	AssertionEncryption string   `yaml:"assertion_encryption,omitempty"`
	PrivateKeys         []string `yaml:"private_keys,omitempty"`
}

// OIDCProviderConfig registers an OpenID Connect issuer. URL is the issuer
// (https://...); ClientIDs are the accepted token audiences. The keys come
// from JWKSFile when set, else from the issuer's discovery document.
type OIDCProviderConfig struct {
	URL       string   `yaml:"url"`
	ClientIDs []string `yaml:"client_ids"`
	JWKSFile  string   `yaml:"jwks_file,omitempty"`
}

// UserConfig is an IAM user with long-term access keys and identity
// policies. Path defaults to "/".
type UserConfig struct {
	Name       string            `yaml:"name"`
	Path       string            `yaml:"path,omitempty"`
	AccessKeys []AccessKeyConfig `yaml:"access_keys,omitempty"`
	Policies   []PolicyConfig    `yaml:"policies,omitempty"`
	Tags       map[string]string `yaml:"tags,omitempty"`
}

// AccessKeyConfig is a long-term key: its ID (AKIA...) and its secret from
// an environment variable or a file, never written in the configuration.
type AccessKeyConfig struct {
	ID         string `yaml:"id"`
	SecretEnv  string `yaml:"secret_env,omitempty"`
	SecretFile string `yaml:"secret_file,omitempty"`
}

// PolicyConfig is a named policy, inline (Document) or from DocumentFile.
type PolicyConfig struct {
	Name         string         `yaml:"name"`
	Document     PolicyDocument `yaml:"document,omitempty"`
	DocumentFile string         `yaml:"document_file,omitempty"`
}

// RoleConfig is an IAM role. Path defaults to "/", MaxSessionDuration (in
// seconds, 3600 to 43200) to 3600. The trust policy is inline
// (TrustPolicy) or from TrustPolicyFile.
type RoleConfig struct {
	Name               string            `yaml:"name"`
	Path               string            `yaml:"path,omitempty"`
	MaxSessionDuration int               `yaml:"max_session_duration,omitempty"`
	Tags               map[string]string `yaml:"tags,omitempty"`
	TrustPolicy        PolicyDocument    `yaml:"trust_policy,omitempty"`
	TrustPolicyFile    string            `yaml:"trust_policy_file,omitempty"`
	Policies           []PolicyConfig    `yaml:"policies,omitempty"`
}

// PolicyDocument is an IAM policy written inline in YAML: a mapping (the
// document itself, converted to JSON) or a string holding the JSON text.
type PolicyDocument struct {
	node *yaml.Node
}

// UnmarshalYAML keeps the node; it is converted by JSON.
func (d *PolicyDocument) UnmarshalYAML(n *yaml.Node) error {
	c := *n
	d.node = &c
	return nil
}

// MarshalYAML writes the document back as it was given.
func (d PolicyDocument) MarshalYAML() (any, error) {
	if d.node == nil {
		return nil, nil
	}
	return d.node, nil
}

// IsZero reports whether no document was given.
func (d PolicyDocument) IsZero() bool { return d.node == nil || d.node.Tag == "!!null" }

// JSON returns the document as JSON text.
func (d PolicyDocument) JSON() ([]byte, error) {
	if d.IsZero() {
		return nil, errors.New("no document")
	}
	if d.node.Kind == yaml.ScalarNode && d.node.Tag == "!!str" {
		return []byte(d.node.Value), nil
	}
	if d.node.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a policy document must be a mapping or a JSON string", d.node.Line)
	}
	var v any
	if err := d.node.Decode(&v); err != nil {
		return nil, err
	}
	b, err := json.Marshal(jsonable(v))
	if err != nil {
		return nil, fmt.Errorf("line %d: %w", d.node.Line, err)
	}
	return b, nil
}

// jsonable turns yaml.v3's decoded values into what encoding/json accepts.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return v
}

// BuildOptions are the environment of Build.
type BuildOptions struct {
	// BaseURL is idpbridge's public URL: the entityID of "metadata: self"
	// is BaseURL + "/saml/metadata", and BaseURL + "/sts/saml" is the
	// default SAML recipient.
	BaseURL string
	// Getenv resolves secret_env; default os.Getenv.
	Getenv func(string) string
	// ReadFile reads *_file settings; default os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// SelfCerts returns the certificates of idpbridge's own signing keys
	// (active and next), for "metadata: self". Required when a provider
	// uses it, except when only validating.
	SelfCerts func(ctx context.Context) ([]*x509.Certificate, error)
	// HTTPClient fetches metadata_url and OIDC discovery; default a client
	// with a 10-second timeout.
	HTTPClient *http.Client
	// Now is the clock of the fetch caches; default time.Now.
	Now func() time.Time
	// Logger gets the failures of OIDC key fetches; default none.
	Logger *slog.Logger
}

// ConfigError lists every problem of a Config, each naming its key path
// under "sts.".
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "sts configuration: " + strings.Join(e.Problems, "; ")
}

// Default values.
const (
	DefaultRegion             = "us-east-1"
	DefaultMaxSessionDuration = 3600
	AWSSignInRecipient        = "https://signin.aws.amazon.com/saml"
	AWSAudienceURN            = "urn:amazon:webservices"
	// BuiltinSignInPath, under the base URL, is the built-in STS sign-in
	// endpoint and the default (only) SAML recipient and audience.
	BuiltinSignInPath = "/sts/saml"
)

// hasSAMLProvider reports whether any account of c registers a SAML
// provider.
func hasSAMLProvider(c *Config) bool {
	for _, a := range c.Accounts {
		if len(a.SAMLProviders) > 0 {
			return true
		}
	}
	return false
}

// Validate returns every problem of c, each naming its key path
// ("sts.accounts[0].roles[1].trust_policy: Statement[0].Condition: unknown
// operator \"StringEqualz\""). It reads the files and environment variables
// c names, but fetches nothing over the network.
func (c *Config) Validate(opt BuildOptions) []string {
	_, problems := build(c, opt)
	return problems
}

// Build turns c into a Directory; its error is a *ConfigError listing
// every problem.
func Build(c *Config, opt BuildOptions) (*Directory, error) {
	d, problems := build(c, opt)
	if len(problems) > 0 {
		return nil, &ConfigError{Problems: problems}
	}
	return d, nil
}

func build(c *Config, opt BuildOptions) (*Directory, []string) {
	if opt.Getenv == nil {
		opt.Getenv = os.Getenv
	}
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	b := &builder{opt: opt}
	d := &Directory{
		Region:     c.Region,
		accounts:   map[string]*Account{},
		accessKeys: map[string]accessKey{},
	}
	if d.Region == "" {
		d.Region = DefaultRegion
	}
	if !sigv4.ValidRegion(d.Region) {
		b.add("sts.region", "%q is not a region name like us-east-1", d.Region)
	}
	d.SigningRegions = []string{d.Region}
	for i, r := range c.AcceptedRegions {
		if !sigv4.ValidRegion(r) {
			b.add(fmt.Sprintf("sts.accepted_regions[%d]", i), "%q is not a region name like eu-west-1", r)
			continue
		}
		if !slices.Contains(d.SigningRegions, r) {
			d.SigningRegions = append(d.SigningRegions, r)
		}
	}
	base := strings.TrimSuffix(opt.BaseURL, "/")
	d.SAMLRecipients = c.SAMLRecipients
	if len(d.SAMLRecipients) == 0 && base != "" {
		d.SAMLRecipients = []string{base + BuiltinSignInPath}
	}
	if len(d.SAMLRecipients) == 0 && hasSAMLProvider(c) {
		b.add("sts.saml_recipients", "required when no base URL is known (its default is <base_url>%s)", BuiltinSignInPath)
	}
	for i, r := range d.SAMLRecipients {
		if u, err := url.Parse(r); err != nil || !u.IsAbs() || u.String() != r {
			b.add(fmt.Sprintf("sts.saml_recipients[%d]", i), "%q must be an absolute URL or URN, written canonically", r)
		}
	}
	keyOwner := map[string]string{}
	for i := range c.Accounts {
		ac := &c.Accounts[i]
		path := fmt.Sprintf("sts.accounts[%d]", i)
		if !idp.IsAccountID(ac.ID) {
			b.add(path+".id", "%q is not a 12-digit account ID (quote it in YAML)", ac.ID)
			continue
		}
		if _, dup := d.accounts[ac.ID]; dup {
			b.add(path+".id", "account %s is listed twice", ac.ID)
			continue
		}
		a := &Account{ID: ac.ID, Users: map[string]*User{}, Roles: map[string]*Role{}, SAMLProviders: map[string]*SAMLProvider{}}
		d.accounts[ac.ID] = a
		for j := range ac.SAMLProviders {
			b.samlProvider(a, &ac.SAMLProviders[j], fmt.Sprintf("%s.saml_providers[%d]", path, j), base)
		}
		seenIss := map[string]bool{}
		for j := range ac.OIDCProviders {
			p := fmt.Sprintf("%s.oidc_providers[%d]", path, j)
			if op := b.oidcProvider(a, &ac.OIDCProviders[j], p); op != nil {
				if seenIss[op.URL] {
					b.add(p+".url", "issuer %s is registered twice", op.URL)
					continue
				}
				seenIss[op.URL] = true
				a.OIDCProviders = append(a.OIDCProviders, op)
			}
		}
		for j := range ac.Users {
			p := fmt.Sprintf("%s.users[%d]", path, j)
			u := b.user(a, &ac.Users[j], p)
			if u == nil {
				continue
			}
			for k, kc := range ac.Users[j].AccessKeys {
				kp := fmt.Sprintf("%s.access_keys[%d]", p, k)
				if !validAccessKeyID(kc.ID) {
					b.add(kp+".id", "%q is not an access key ID (AKIA followed by 16 or more capital letters and digits)", kc.ID)
					continue
				}
				if prev, dup := keyOwner[kc.ID]; dup {
					b.add(kp+".id", "access key %s is already used at %s", kc.ID, prev)
					continue
				}
				keyOwner[kc.ID] = kp
				secret, err := b.secret(kc)
				if err != nil {
					b.add(kp, "%v", err)
					continue
				}
				d.accessKeys[kc.ID] = accessKey{user: u, secret: secret}
			}
		}
		for j := range ac.Roles {
			b.role(a, &ac.Roles[j], fmt.Sprintf("%s.roles[%d]", path, j))
		}
	}
	sort.Strings(b.problems)
	return d, b.problems
}

type builder struct {
	opt      BuildOptions
	problems []string
}

func (b *builder) add(path, format string, args ...any) {
	b.problems = append(b.problems, path+": "+fmt.Sprintf(format, args...))
}

func (b *builder) samlProvider(a *Account, pc *SAMLProviderConfig, path, base string) {
	if err := validProviderName(pc.Name); err != "" {
		b.add(path+".name", "%s", err)
		return
	}
	if _, dup := a.SAMLProviders[pc.Name]; dup {
		b.add(path+".name", "provider %s is listed twice", pc.Name)
		return
	}
	n := 0
	for _, s := range []string{pc.Metadata, pc.MetadataFile, pc.MetadataURL} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		b.add(path, "set exactly one of metadata: self, metadata_file and metadata_url")
		return
	}
	p := &SAMLProvider{Account: a.ID, Name: pc.Name, ARN: "arn:" + Partition + ":iam::" + a.ID + ":saml-provider/" + pc.Name}
	if !b.samlEncryption(p, pc, path) {
		return
	}
	switch {
	case pc.Metadata != "":
		if pc.Metadata != "self" {
			b.add(path+".metadata", "%q: the only value is self (use metadata_file or metadata_url otherwise)", pc.Metadata)
			return
		}
		if base == "" {
			b.add(path+".metadata", "self needs server.base_url")
			return
		}
		entityID := base + "/saml/metadata"
		certs := b.opt.SelfCerts
		p.Metadata = func(ctx context.Context) (SAMLMetadata, error) {
			if certs == nil {
				return SAMLMetadata{}, errors.New("no signing certificates of this IdP are available")
			}
			cs, err := certs(ctx)
			if err != nil {
				return SAMLMetadata{}, err
			}
			return SAMLMetadata{EntityID: entityID, Certs: cs}, nil
		}
	case pc.MetadataFile != "":
		raw, err := b.opt.ReadFile(pc.MetadataFile)
		if err != nil {
			b.add(path+".metadata_file", "%v", unwrapPath(err))
			return
		}
		md, err := ParseSAMLMetadata(raw)
		if err != nil {
			b.add(path+".metadata_file", "%v", err)
			return
		}
		p.Metadata = func(context.Context) (SAMLMetadata, error) { return md, nil }
	default:
		u, err := url.Parse(pc.MetadataURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			b.add(path+".metadata_url", "%q is not an http(s) URL", pc.MetadataURL)
			return
		}
		src := &MetadataURL{URL: pc.MetadataURL, Client: b.opt.HTTPClient, Now: b.opt.Now}
		p.Metadata = src.Metadata
	}
	a.SAMLProviders[pc.Name] = p
}

func (b *builder) oidcProvider(a *Account, pc *OIDCProviderConfig, path string) *OIDCProvider {
	u, err := url.Parse(pc.URL)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		b.add(path+".url", "%q must be an https:// issuer URL without query or fragment", pc.URL)
		return nil
	}
	if len(pc.ClientIDs) == 0 {
		b.add(path+".client_ids", "at least one client ID (token audience) is required")
		return nil
	}
	for i, id := range pc.ClientIDs {
		if id == "" || len(id) > 255 {
			b.add(fmt.Sprintf("%s.client_ids[%d]", path, i), "must be 1 to 255 characters")
			return nil
		}
	}
	issuer := strings.TrimSuffix(pc.URL, "/")
	name := strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
	p := &OIDCProvider{Account: a.ID, URL: issuer, Name: name,
		ARN: "arn:" + Partition + ":iam::" + a.ID + ":oidc-provider/" + name, ClientIDs: pc.ClientIDs}
	if pc.JWKSFile != "" {
		raw, err := b.opt.ReadFile(pc.JWKSFile)
		if err != nil {
			b.add(path+".jwks_file", "%v", unwrapPath(err))
			return nil
		}
		keys, err := ParseJWKS(raw)
		if err != nil {
			b.add(path+".jwks_file", "%v", err)
			return nil
		}
		p.Keys = StaticKeys(keys)
	} else {
		p.Keys = &RemoteKeys{Issuer: issuer, Client: b.opt.HTTPClient, Now: b.opt.Now, Logger: b.opt.Logger}
	}
	return p
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (b *builder) user(a *Account, uc *UserConfig, path string) *User {
	if err := validIAMName(uc.Name, 64); err != "" {
		b.add(path+".name", "%s", err)
		return nil
	}
	if _, dup := a.Users[uc.Name]; dup {
		b.add(path+".name", "user %s is listed twice", uc.Name)
		return nil
	}
	p, ok := b.iamPath(uc.Path, path+".path")
	if !ok {
		return nil
	}
	u := &User{Account: a.ID, Name: uc.Name, Path: p, ARN: "arn:" + Partition + ":iam::" + a.ID + ":user" + p + uc.Name,
		ID: UserID(a.ID, uc.Name)}
	u.Tags = b.tags(uc.Tags, path+".tags")
	u.Policies = b.policies(uc.Policies, path+".policies")
	a.Users[uc.Name] = u
	return u
}

func (b *builder) role(a *Account, rc *RoleConfig, path string) {
	if err := validIAMName(rc.Name, 64); err != "" {
		b.add(path+".name", "%s", err)
		return
	}
	if _, dup := a.Roles[rc.Name]; dup {
		b.add(path+".name", "role %s is listed twice", rc.Name)
		return
	}
	p, ok := b.iamPath(rc.Path, path+".path")
	if !ok {
		return
	}
	r := &Role{Account: a.ID, Name: rc.Name, Path: p, ARN: "arn:" + Partition + ":iam::" + a.ID + ":role" + p + rc.Name,
		ID: RoleID(a.ID, rc.Name)}
	max := rc.MaxSessionDuration
	if max == 0 {
		max = DefaultMaxSessionDuration
	}
	if max < 3600 || max > 43200 {
		b.add(path+".max_session_duration", "%d is outside 3600 to 43200 seconds", max)
	}
	r.MaxSessionDuration = time.Duration(max) * time.Second
	r.Tags = b.tags(rc.Tags, path+".tags")
	switch {
	case !rc.TrustPolicy.IsZero() && rc.TrustPolicyFile != "":
		b.add(path, "set only one of trust_policy and trust_policy_file")
	case rc.TrustPolicy.IsZero() && rc.TrustPolicyFile == "":
		b.add(path+".trust_policy", "required: a role without a trust policy cannot be assumed")
	default:
		key := path + ".trust_policy"
		if rc.TrustPolicyFile != "" {
			key = path + ".trust_policy_file"
		}
		if pol := b.document(rc.TrustPolicy, rc.TrustPolicyFile, key); pol != nil {
			if err := pol.ValidateTrust(); err != nil {
				b.add(key, "%v", err)
			} else {
				r.Trust = pol
			}
		}
	}
	r.Policies = b.policies(rc.Policies, path+".policies")
	a.Roles[rc.Name] = r
}

func (b *builder) policies(pcs []PolicyConfig, path string) []policy.Named {
	var out []policy.Named
	seen := map[string]bool{}
	for i := range pcs {
		pc := &pcs[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		if err := validIAMName(pc.Name, 128); err != "" {
			b.add(p+".name", "%s", err)
			continue
		}
		if seen[pc.Name] {
			b.add(p+".name", "policy %s is listed twice", pc.Name)
			continue
		}
		seen[pc.Name] = true
		if !pc.Document.IsZero() && pc.DocumentFile != "" {
			b.add(p, "set only one of document and document_file")
			continue
		}
		if pc.Document.IsZero() && pc.DocumentFile == "" {
			b.add(p, "document or document_file is required")
			continue
		}
		key := p + ".document"
		if pc.DocumentFile != "" {
			key = p + ".document_file"
		}
		pol := b.document(pc.Document, pc.DocumentFile, key)
		if pol == nil {
			continue
		}
		if err := pol.ValidateIdentity(); err != nil {
			b.add(key, "%v", err)
			continue
		}
		out = append(out, policy.Named{Name: pc.Name, Policy: pol})
	}
	return out
}

// document parses an inline or file policy, reporting problems at key.
func (b *builder) document(doc PolicyDocument, file, key string) *policy.Policy {
	var raw []byte
	var err error
	if file != "" {
		raw, err = b.opt.ReadFile(file)
		if err != nil {
			b.add(key, "%v", unwrapPath(err))
			return nil
		}
	} else if raw, err = doc.JSON(); err != nil {
		b.add(key, "%v", err)
		return nil
	}
	pol, err := policy.Parse(raw)
	if err != nil {
		b.add(key, "%v", err)
		return nil
	}
	return pol
}

func (b *builder) tags(m map[string]string, path string) []idp.Tag {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []idp.Tag
	seen := map[string]string{}
	for _, k := range keys {
		if err := idp.ValidTagKey(k); err != nil {
			b.add(path, "key %q: %v", k, err)
			continue
		}
		if err := idp.ValidTagValue(m[k]); err != nil {
			b.add(path, "value of %q: %v", k, err)
			continue
		}
		if prev, dup := seen[strings.ToLower(k)]; dup {
			b.add(path, "keys %q and %q differ only in case (tag keys are case-insensitive)", prev, k)
			continue
		}
		seen[strings.ToLower(k)] = k
		out = append(out, idp.Tag{Key: k, Value: m[k]})
	}
	if len(out) > 50 {
		b.add(path, "at most 50 tags, not %d", len(out))
	}
	return out
}

func (b *builder) iamPath(p, key string) (string, bool) {
	if p == "" {
		return "/", true
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 || strings.Contains(p, "//") {
		b.add(key, "%q must begin and end with / (for example /teams/platform/), at most 512 characters", p)
		return "", false
	}
	for _, r := range p {
		if r < 0x21 || r > 0x7e {
			b.add(key, "%q may only have printable ASCII characters", p)
			return "", false
		}
	}
	return p, true
}

func (b *builder) secret(kc AccessKeyConfig) (string, error) {
	switch {
	case kc.SecretEnv != "" && kc.SecretFile != "":
		return "", errors.New("set only one of secret_env and secret_file")
	case kc.SecretEnv != "":
		v := b.opt.Getenv(kc.SecretEnv)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty or unset", kc.SecretEnv)
		}
		return v, nil
	case kc.SecretFile != "":
		raw, err := b.opt.ReadFile(kc.SecretFile)
		if err != nil {
			return "", fmt.Errorf("secret_file: %v", unwrapPath(err))
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			return "", fmt.Errorf("secret_file: %s is empty", kc.SecretFile)
		}
		return v, nil
	}
	return "", errors.New("secret_env or secret_file is required (secrets are never written in the configuration)")
}

func validIAMName(s string, max int) string {
	if s == "" || len(s) > max {
		return fmt.Sprintf("%q must be 1 to %d characters", s, max)
	}
	for _, r := range s {
		if !nameRune(r) {
			return fmt.Sprintf("%q may only have letters, digits and _+=,.@-", s)
		}
	}
	return ""
}

func validProviderName(s string) string {
	if s == "" || len(s) > 128 {
		return fmt.Sprintf("%q must be 1 to 128 characters", s)
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-') {
			return fmt.Sprintf("%q may only have letters, digits and _.-", s)
		}
	}
	return ""
}

func validAccessKeyID(s string) bool {
	if !strings.HasPrefix(s, "AKIA") || len(s) < 20 || len(s) > 128 {
		return false
	}
	for _, r := range s[4:] {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
