package sts

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"strings"
	"time"

	"idpbridge/idp"
	"idpbridge/idp/policy"
)

// Partition is the ARN partition of every principal the STS knows.
const Partition = "aws"

// Directory is what the STS knows about accounts: their IAM users (with
// their long-term access keys and identity policies), roles (trust and
// permission policies, tags, maximum session duration) and identity
// providers. Build it from configuration with Build; it is immutable and
// safe for concurrent use.
type Directory struct {
	// Region is the STS region (awsRegion of audit records).
	Region string
	// SigningRegions are the regions a SigV4 credential scope may name:
	// Region, then sts.accepted_regions.
	SigningRegions []string
	// SAMLRecipients are the accepted SubjectConfirmationData Recipient and
	// Audience values of AssumeRoleWithSAML.
	SAMLRecipients []string

	accounts   map[string]*Account
	accessKeys map[string]accessKey
}

// Account is one AWS-style account.
type Account struct {
	ID            string
	Users         map[string]*User         // by name
	Roles         map[string]*Role         // by name
	SAMLProviders map[string]*SAMLProvider // by name
	OIDCProviders []*OIDCProvider
}

// User is an IAM user.
type User struct {
	Account string
	Name    string
	Path    string // "/" or "/a/b/"
	ARN     string
	// ID is the stable unique ID (AIDA + 17 characters).
	ID       string
	Tags     []idp.Tag
	Policies []policy.Named
}

// Role is an IAM role.
type Role struct {
	Account string
	Name    string
	Path    string
	ARN     string
	// ID is the stable unique ID (AROA + 17 characters).
	ID                 string
	MaxSessionDuration time.Duration
	Tags               []idp.Tag
	Trust              *policy.Policy
	Policies           []policy.Named
}

// SAMLProvider is an IAM SAML provider: the IdP whose assertions
// AssumeRoleWithSAML accepts for roles that trust it.
type SAMLProvider struct {
	Account string
	Name    string
	ARN     string
	// Metadata returns the IdP's entityID and signing certificates: the
	// only keys an assertion may be verified with.
	Metadata func(ctx context.Context) (SAMLMetadata, error)
	// Encryption: the provider's assertion_encryption and private keys
	// (samlkeys.go).
	Encryption SAMLEncryption
}

// SAMLMetadata is what the STS trusts of a SAML IdP.
type SAMLMetadata struct {
	// EntityID is the Issuer the IdP's assertions must carry.
	EntityID string
	// Certs hold the keys that may sign them.
	Certs []*x509.Certificate
}

// OIDCProvider is an IAM OpenID Connect provider: an issuer of web identity
// tokens and the client IDs (audiences) accepted from it.
type OIDCProvider struct {
	Account string
	// URL is the issuer ("https://xyz.com"), compared with the token's iss.
	URL string
	// Name is URL without its scheme ("xyz.com"): the ARN's resource part
	// and the prefix of the provider's condition keys.
	Name      string
	ARN       string
	ClientIDs []string
	// Keys verifies token signatures.
	Keys KeySource
}

// accessKey is a long-term key of an IAM user.
type accessKey struct {
	user   *User
	secret string
}

// Account returns the account with the given ID.
func (d *Directory) Account(id string) (*Account, bool) {
	a, ok := d.accounts[id]
	return a, ok
}

// Accounts returns the account IDs.
func (d *Directory) Accounts() []string {
	out := make([]string, 0, len(d.accounts))
	for id := range d.accounts {
		out = append(out, id)
	}
	return out
}

// RoleByARN finds the role an ARN names: the account and name must match
// and so must the path (UNCONF: AWS may resolve a role by name alone).
func (d *Directory) RoleByARN(arn string) (*Role, bool) {
	parsed, ok := iamARN(arn)
	if !ok || parsed.ResourceType() != "role" {
		return nil, false
	}
	a, ok := d.accounts[parsed.Account()]
	if !ok {
		return nil, false
	}
	r, ok := a.Roles[parsed.ResourceName()]
	if !ok || r.ARN != arn {
		return nil, false
	}
	return r, true
}

// SAMLProviderByARN finds the SAML provider an ARN names.
func (d *Directory) SAMLProviderByARN(arn string) (*SAMLProvider, bool) {
	parsed, ok := iamARN(arn)
	if !ok || parsed.ResourceType() != "saml-provider" {
		return nil, false
	}
	a, ok := d.accounts[parsed.Account()]
	if !ok {
		return nil, false
	}
	p, ok := a.SAMLProviders[parsed.ResourceID()]
	return p, ok
}

// OIDCProviderFor finds the OIDC provider of the account registered for
// the issuer URL iss (a trailing slash is ignored).
func (d *Directory) OIDCProviderFor(account, iss string) (*OIDCProvider, bool) {
	a, ok := d.accounts[account]
	if !ok {
		return nil, false
	}
	want := strings.TrimSuffix(iss, "/")
	for _, p := range a.OIDCProviders {
		if p.URL == want {
			return p, true
		}
	}
	return nil, false
}

// iamARN parses arn:<partition>:iam::<account>:<resource>.
func iamARN(s string) (idp.ARN, bool) {
	a, err := idp.ParseARN(s)
	if err != nil || a.Partition() != Partition || a.Service() != "iam" || a.Region() != "" || !idp.IsAccountID(a.Account()) {
		return idp.ARN{}, false
	}
	return a, true
}

// stableID derives a unique ID (prefix + 17 characters of [A-Z2-7]) from
// the principal's partition, account, kind and name, so that IDs survive
// restarts without being stored.
func stableID(prefix, kind, account, name string) string {
	sum := sha256.Sum256([]byte("idpbridge/" + kind + "\x00" + Partition + "\x00" + account + "\x00" + name))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// UserID returns the stable ID (AIDA...) of the user name in account.
func UserID(account, name string) string { return stableID("AIDA", "user", account, name) }

// RoleID returns the stable ID (AROA...) of the role name in account.
func RoleID(account, name string) string { return stableID("AROA", "role", account, name) }
