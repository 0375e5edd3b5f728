package sso

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"idpbridge/attributes"
	"idpbridge/idp"
)

// ServiceProviderConfig registers one SAML service provider.
//
//	service_providers:
//	  - {name: aws, preset: aws, mapping: aws-default}
//	  - name: wiki
//	    display_name: Team wiki
//	    mapping: staff
//	    metadata_url: https://wiki.example.com/saml/metadata
//	    metadata_refresh: 1h
//	  - {name: app, mapping: staff, metadata_file: /etc/idpbridge/app.xml}
//	  - {name: legacy, mapping: staff, entity_id: https://legacy.example.com, acs_url: https://legacy.example.com/acs}
//
// Name identifies the provider in URLs (/saml/idp-initiated?sp=NAME) and on
// the command line: letters, digits, '.', '_' and '-'. Mapping names an entry
// of mappings. The metadata comes from exactly one of MetadataFile,
// MetadataURL (fetched at start and again every MetadataRefresh, default 1h,
// at least 1m), EntityID with ACSURL, or Preset; EntityID may also pick one
// entity out of an aggregate metadata file or URL, and a preset's entity ID
// and ACS URL may be overridden. Every endpoint in the metadata must be an
// http(s) URL, or the provider is refused.
//
// Presets: "aws" is AWS sign-in (entity urn:amazon:webservices, ACS
// https://signin.aws.amazon.com/saml); AWS shows its own role chooser, so
// every mapped role is sent. "builtin" is idpbridge's own STS sign-in
// (entity and ACS <base_url>/sts/saml) and takes one role, chosen on
// idpbridge's role chooser page. SingleRole makes any provider take one role;
// it defaults to true for builtin and false otherwise.
//
// Sign is what each Response carries signed: "assertion" (the Assertion
// only), "response" (the Response only; an assertion encrypted for the SP
// is signed as well) or "both". It defaults to
// "assertion" for the aws preset (AWS sign-in accepts a signed Response or
// a signed Assertion) and for builtin (the built-in STS verifies either),
// and to "both" for any other provider, which satisfies every SP.
//
// Assertions are encrypted (signed, then encrypted into a
// saml:EncryptedAssertion with AES-256-GCM and RSA-OAEP) for a provider
// whose metadata publishes a key for encryption, or that has
// EncryptionCert: an RSA certificate in PEM, inline or in a file, which
// takes precedence over the metadata's. Encrypt: false turns encryption
// off for the provider. AWS sign-in decrypts only when its IAM SAML
// provider has a private key, and AWS's metadata for the aws preset
// publishes no encryption key: the aws preset encrypts only when
// encryption_cert is set (to the certificate of the private key added to
// the IAM SAML provider). The builtin preset takes no encryption_cert: the
// built-in sign-in endpoint reads the roles of the assertion it is posted.
type ServiceProviderConfig struct {
	Name            string   `yaml:"name"`
	DisplayName     string   `yaml:"display_name,omitempty"`
	Description     string   `yaml:"description,omitempty"`
	Preset          string   `yaml:"preset,omitempty"`
	Mapping         string   `yaml:"mapping"`
	MetadataFile    string   `yaml:"metadata_file,omitempty"`
	MetadataURL     string   `yaml:"metadata_url,omitempty"`
	MetadataRefresh Duration `yaml:"metadata_refresh,omitempty"`
	EntityID        string   `yaml:"entity_id,omitempty"`
	ACSURL          string   `yaml:"acs_url,omitempty"`
	SingleRole      *bool    `yaml:"single_role,omitempty"`
	// Sign says what is signed: response, assertion or both. Default: the
	// preset's (aws and builtin: assertion), both for other providers.
	Sign string `yaml:"sign,omitempty"`
	// EncryptionCert is the certificate to encrypt assertions to: PEM,
	// inline or a file name.
	EncryptionCert string `yaml:"encryption_cert,omitempty"`
	// Encrypt: false sends assertions unencrypted even to a provider
	// with an encryption key. Default true.
	Encrypt *bool `yaml:"encrypt,omitempty"`
}

// Presets.
const (
	PresetAWS     = "aws"
	PresetBuiltin = "builtin"
)

// AWS sign-in's SAML service provider.
const (
	AWSEntityID = "urn:amazon:webservices"
	AWSACSURL   = "https://signin.aws.amazon.com/saml"
)

// BuiltinPath is the path of the built-in STS sign-in endpoint, the entity ID
// and ACS URL of the builtin preset under the base URL.
const BuiltinPath = "/sts/saml"

// Metadata refresh bounds.
const (
	DefaultMetadataRefresh = time.Hour
	MinMetadataRefresh     = time.Minute
)

// Duration is a time.Duration written as "30s", "1h" in YAML.
type Duration time.Duration

// UnmarshalYAML accepts Go duration strings.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration like 1h", n.Line)
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: %q is not a duration (use e.g. 30m, 1h)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

var spNameRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// DefaultMappingName is the mapping of the zero-config service providers.
const DefaultMappingName = "dev"

// DefaultMappings is the zero-config mapping "dev": everyone signed in gets
// the role Developer of account 123456789012 through the SAML provider
// idpbridge, with their username as source identity and role session name,
// for one hour.
func DefaultMappings() []attributes.MappingConfig {
	return []attributes.MappingConfig{{
		Name:            DefaultMappingName,
		SourceIdentity:  &attributes.ValueRule{From: "username", Required: true},
		RoleSessionName: &attributes.ValueRule{From: "username"},
		SessionDuration: 3600,
		Roles: []attributes.RoleRule{{
			RoleARN:     "arn:aws:iam::123456789012:role/Developer",
			ProviderARN: "arn:aws:iam::123456789012:saml-provider/idpbridge",
		}},
	}}
}

// DefaultServiceProviders are the zero-config service providers: "aws" (AWS
// sign-in) and "builtin" (idpbridge's STS sign-in), both on mapping "dev".
func DefaultServiceProviders() []ServiceProviderConfig {
	return []ServiceProviderConfig{
		{Name: "aws", Preset: PresetAWS, Mapping: DefaultMappingName, DisplayName: "AWS console",
			Description: "AWS sign-in; works once your AWS account trusts this IdP's metadata"},
		{Name: "builtin", Preset: PresetBuiltin, Mapping: DefaultMappingName, DisplayName: "Built-in STS",
			Description: "temporary credentials from idpbridge's own STS, demo account 123456789012"},
	}
}

// WithDefaults returns the service providers and mappings in effect: the
// configured ones, or, when no service provider is configured,
// DefaultServiceProviders with the configured mappings plus "dev" (unless a
// mapping of that name is configured).
func WithDefaults(sps []ServiceProviderConfig, mappings []attributes.MappingConfig) ([]ServiceProviderConfig, []attributes.MappingConfig) {
	if len(sps) > 0 {
		return sps, mappings
	}
	out := append([]attributes.MappingConfig(nil), mappings...)
	found := false
	for _, m := range mappings {
		if m.Name == DefaultMappingName {
			found = true
		}
	}
	if !found {
		out = append(out, DefaultMappings()...)
	}
	return DefaultServiceProviders(), out
}

// ValidateOptions are the environment of ValidateConfig.
type ValidateOptions struct {
	// BaseURL is idpbridge's public URL (the builtin preset lives under it).
	BaseURL string
	// ReadFile reads metadata_file; nil skips reading the files.
	ReadFile func(string) ([]byte, error)
}

// ValidateConfig returns every problem of the service providers and
// mappings, each naming its key path ("service_providers[1].mapping: unknown
// mapping \"x\"", "mappings[0].roles: required: ..."). It reads metadata
// files (through opt.ReadFile) and checks their endpoints, but fetches no
// URL.
func ValidateConfig(sps []ServiceProviderConfig, mappings []attributes.MappingConfig, opt ValidateOptions) []string {
	var p idp.ConfigErrors
	add := func(path, format string, args ...any) { p = append(p, idp.ConfigProblemf(path, format, args...)) }

	names := map[string]int{}
	for i, m := range mappings {
		for _, err := range m.Validate(fmt.Sprintf("mappings[%d]", i)) {
			var cp *idp.ConfigProblem
			if !errors.As(err, &cp) {
				cp = &idp.ConfigProblem{Msg: err.Error()}
			}
			p = append(p, cp)
		}
		if m.Name == "" {
			continue
		}
		if j, dup := names[m.Name]; dup {
			add(fmt.Sprintf("mappings[%d].name", i), "%q is already the name of mappings[%d]", m.Name, j)
			continue
		}
		names[m.Name] = i
	}

	spNames := map[string]int{}
	entities := map[string]int{}
	for i, sp := range sps {
		path := fmt.Sprintf("service_providers[%d]", i)
		switch {
		case sp.Name == "":
			add(path+".name", "required: the name people and the CLI use for the service provider")
		case !spNameRe.MatchString(sp.Name):
			add(path+".name", "%q may have only letters, digits, '.', '_' and '-' (at most 64)", sp.Name)
		default:
			if j, dup := spNames[sp.Name]; dup {
				add(path+".name", "%q is already the name of service_providers[%d]", sp.Name, j)
			}
			spNames[sp.Name] = i
		}
		switch {
		case sp.Mapping == "":
			add(path+".mapping", "required: the name of the mapping that makes this provider's attributes")
		default:
			if _, ok := names[sp.Mapping]; !ok {
				add(path+".mapping", "unknown mapping %q", sp.Mapping)
			}
		}
		r, problems := resolveConfig(sp, opt.BaseURL)
		for _, pr := range problems {
			add(path+"."+pr.Key, "%s", pr.Msg)
		}
		if len(problems) > 0 {
			continue
		}
		if r.encryptionCert != "" && opt.ReadFile != nil {
			if _, err := loadEncryptionCert(opt.ReadFile, r); err != nil {
				add(path+".encryption_cert", "%v", err)
			}
		}
		entity := r.entityID
		if r.metadataFile != "" && opt.ReadFile != nil {
			md, err := loadMetadataFile(opt.ReadFile, r)
			if err != nil {
				add(path+".metadata_file", "%v", err)
				continue
			}
			entity = md.EntityID
		}
		if entity != "" {
			if j, dup := entities[entity]; dup {
				add(path, "entity ID %q is already the entity ID of service_providers[%d]", entity, j)
			}
			entities[entity] = i
		}
	}
	return p.Strings()
}

// resolved is a ServiceProviderConfig with its preset applied.
type resolved struct {
	name, displayName, description string
	preset                         string
	mapping                        string
	metadataFile, metadataURL      string
	refresh                        time.Duration
	entityID, acsURL               string
	singleRole                     bool
	// sign is what the Response carries signed: SignResponse,
	// SignAssertion or SignBoth.
	sign string
	// encrypt: assertions are encrypted when the provider has a key for
	// it (encrypt, default true); encryptionCert is encryption_cert as
	// configured.
	encrypt        bool
	encryptionCert string
	// issuesCredentials: the provider is idpbridge's own STS sign-in,
	// where an assertion becomes credentials at once.
	issuesCredentials bool
}

// resolveConfig applies the preset of sp and checks its metadata source.
func resolveConfig(sp ServiceProviderConfig, baseURL string) (resolved, idp.ConfigErrors) {
	var p idp.ConfigErrors
	add := func(key, format string, args ...any) {
		p = append(p, idp.ConfigProblemf(key, format, args...))
	}
	r := resolved{
		name: sp.Name, displayName: sp.DisplayName, description: sp.Description,
		preset: sp.Preset, mapping: sp.Mapping,
		metadataFile: sp.MetadataFile, metadataURL: sp.MetadataURL,
		refresh:  time.Duration(sp.MetadataRefresh),
		entityID: sp.EntityID, acsURL: sp.ACSURL,
	}
	base := strings.TrimSuffix(baseURL, "/")
	var presetEntity, presetACS string
	switch sp.Preset {
	case "":
	case PresetAWS:
		presetEntity, presetACS = AWSEntityID, AWSACSURL
		if r.displayName == "" {
			r.displayName = "AWS"
		}
		if r.description == "" {
			r.description = "AWS Management Console"
		}
	case PresetBuiltin:
		presetEntity, presetACS = base+BuiltinPath, base+BuiltinPath
		r.singleRole = true
		if r.displayName == "" {
			r.displayName = "idpbridge STS"
		}
		if r.description == "" {
			r.description = "Temporary credentials from idpbridge's built-in STS"
		}
	default:
		add("preset", "unknown preset %q (known: %s, %s)", sp.Preset, PresetAWS, PresetBuiltin)
	}
	if sp.SingleRole != nil {
		r.singleRole = *sp.SingleRole
	}
	switch r.sign = sp.Sign; {
	case sp.Sign == "":
		r.sign = defaultSign(sp.Preset)
	case !validSign(sp.Sign):
		add("sign", "%q is not one of response, assertion, both", sp.Sign)
	}
	r.encrypt, r.encryptionCert = sp.Encrypt == nil || *sp.Encrypt, strings.TrimSpace(sp.EncryptionCert)
	switch {
	case r.encryptionCert != "" && !r.encrypt:
		add("encryption_cert", "set, but encrypt is false: remove one of them")
	case isPEM(r.encryptionCert):
		if _, err := parseEncryptionCert([]byte(r.encryptionCert)); err != nil {
			add("encryption_cert", "%v", err)
		}
	}
	if r.displayName == "" {
		r.displayName = sp.Name
	}
	own := base + BuiltinPath
	r.issuesCredentials = sp.Preset == PresetBuiltin || sp.EntityID == own || sp.ACSURL == own
	if r.issuesCredentials && r.encryptionCert != "" {
		add("encryption_cert", "not for the built-in STS sign-in: it reads the assertion's roles to offer its role chooser, so it takes assertions in the clear (AssumeRoleWithSAML on the STS API decrypts)")
	}

	sources := 0
	for _, s := range []string{sp.MetadataFile, sp.MetadataURL} {
		if s != "" {
			sources++
		}
	}
	if sources > 1 {
		add("metadata_url", "set only one of metadata_file and metadata_url")
	}
	if sources > 0 && sp.ACSURL != "" {
		add("acs_url", "the metadata names the assertion consumer service; acs_url goes only with entity_id")
	}
	if sp.MetadataRefresh != 0 && sp.MetadataURL == "" {
		add("metadata_refresh", "applies only to metadata_url")
	}
	if sp.MetadataURL != "" {
		if err := checkHTTPURL(sp.MetadataURL); err != nil {
			add("metadata_url", "%v", err)
		}
		if r.refresh == 0 {
			r.refresh = DefaultMetadataRefresh
		}
		if r.refresh < MinMetadataRefresh {
			add("metadata_refresh", "%s is too often: at least %s", r.refresh, MinMetadataRefresh)
		}
	}
	if sources == 0 {
		if r.entityID == "" {
			r.entityID = presetEntity
		}
		if r.acsURL == "" {
			r.acsURL = presetACS
		}
		switch {
		case r.entityID == "" && r.acsURL == "":
			add("metadata_file", "the service provider needs metadata_file, metadata_url, entity_id with acs_url, or a preset")
		case r.entityID == "":
			add("entity_id", "required with acs_url")
		case r.acsURL == "":
			add("acs_url", "required with entity_id")
		case sp.ACSURL != "":
			// A preset's own URL is AWS's or under server.base_url, which
			// is checked (and reported) on its own.
			if err := checkHTTPURL(r.acsURL); err != nil {
				add("acs_url", "service provider %q: %v", sp.Name, err)
			}
		}
	}
	return r, p
}

// checkHTTPURL accepts an absolute http or https URL with a host and no
// user information.
func checkHTTPURL(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	if u.Host == "" || u.User != nil || strings.ContainsAny(s, " \t\r\n\\") {
		return fmt.Errorf("%q is not a plain absolute http(s) URL", s)
	}
	return nil
}
